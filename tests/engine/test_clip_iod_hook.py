"""ClipIoDHook: the MG-IoD of an epoch's clips from the data samples'
metainfo, against a plain count of frames."""
from types import SimpleNamespace

import numpy as np
from mmaction.structures import ActionDataSample
from mmengine.logging import MMLogger

from mmmg.engine import ClipIoDHook


class _Visualizer:

    def __init__(self):
        self.scalars = []

    def add_scalars(self, scalars, step):
        self.scalars.append((step, scalars))


def _batch(clips):
    samples = []
    for vid, interval in clips:
        sample = ActionDataSample()
        sample.set_metainfo(dict(vid=vid, ssl_interval=interval))
        samples.append(sample)
    return dict(inputs=[], data_samples=samples)


def test_mg_iod_of_the_epoch():
    truth = {'a': [(10, 19), (15, 30)], 'b': [], 'c': [(0, 4)]}
    runner = SimpleNamespace(
        epoch=4,
        logger=MMLogger.get_instance('clip_iod_test'),
        visualizer=_Visualizer(),
        train_dataloader=SimpleNamespace(
            dataset=SimpleNamespace(
                dataset=SimpleNamespace(mg_segments=truth))))
    hook = ClipIoDHook()
    hook.before_train_epoch(runner)
    batches = [[('a', (0, 9)), ('a', (12, 21))],
               [('b', (0, 50)), ('c', (3, 12)), ('a', (25, 40))]]
    for i, clips in enumerate(batches):
        hook.after_train_iter(runner, i, _batch(clips))
    hook.after_train_epoch(runner)
    # Plain count over labelled videos with MG intervals ('b' has none).
    inside = total = 0
    iods = []
    for vid, (start, end) in sum(batches, []):
        if not truth[vid]:
            continue
        labelled = {t for s, e in truth[vid] for t in range(s, e + 1)}
        frames = set(range(start, end + 1))
        inside += len(frames & labelled)
        total += len(frames)
        iods.append(len(frames & labelled) / len(frames))
    [(step, scalars)] = runner.visualizer.scalars
    assert step == 5
    assert np.isclose(scalars['mg_iod/precision'], inside / total)
    assert np.isclose(scalars['mg_iod/mean'], np.mean(iods))
    assert np.isclose(scalars['mg_iod/hit_rate'],
                      np.mean(np.array(iods) >= 0.5))
    # A new epoch starts from no clips.
    hook.before_train_epoch(runner)
    hook.after_train_epoch(runner)
    assert len(runner.visualizer.scalars) == 1
