"""MG-IoD of the clips drawn online, logged per epoch."""
from collections import defaultdict
from typing import Optional, Sequence

from mmaction.registry import HOOKS
from mmengine.dist import all_gather_object, is_main_process
from mmengine.hooks import Hook

from ..data_prep.ssl_clip_sampler import mg_iod


def _find_ground_truth(dataset):
    """``mg_segments`` of a dataset, through dataset wrappers."""
    while dataset is not None:
        if hasattr(dataset, 'mg_segments'):
            return dataset.mg_segments
        dataset = getattr(dataset, 'dataset', None)
    return None


@HOOKS.register_module()
class ClipIoDHook(Hook):
    """Log the MG-IoD of an epoch's self-supervised clips.

    Collects each training sample's ``vid`` and ``ssl_interval`` from the
    data samples' metainfo (``PackMGInputs(meta_keys=(..., 'vid',
    'ssl_interval'))`` after :class:`FacialVisibilitySample`), gathers them
    from all ranks at the end of the epoch and logs
    :func:`~mmmg.data_prep.ssl_clip_sampler.mg_iod` against the labelled MG
    intervals of the dataset (``mg_segments`` of
    :class:`LongVideoDataset`): ``mg_iod/precision`` (clip frames inside MG
    intervals over all clip frames, videos with labels only),
    ``mg_iod/mean`` and ``mg_iod/hit_rate``, as scalars of the visualizer
    (``vis_data/scalars.json``, step = epoch) and a log line.

    Args:
        threshold (float): IoD of a hit. Defaults to 0.5.
    """

    priority = 'LOW'

    def __init__(self, threshold: float = 0.5) -> None:
        self.threshold = threshold
        self._clips = defaultdict(list)

    def before_train_epoch(self, runner) -> None:
        self._clips = defaultdict(list)

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch: Optional[dict] = None,
                         outputs=None) -> None:
        samples: Sequence = (data_batch or {}).get('data_samples') or []
        for sample in samples:
            meta = sample.metainfo
            if 'vid' in meta and 'ssl_interval' in meta:
                self._clips[meta['vid']].append(tuple(meta['ssl_interval']))

    def after_train_epoch(self, runner) -> None:
        merged = defaultdict(list)
        for clips in all_gather_object(dict(self._clips)):
            for vid, intervals in clips.items():
                merged[vid] += intervals
        truth = _find_ground_truth(runner.train_dataloader.dataset)
        if not merged or truth is None:
            runner.logger.warning(
                'ClipIoDHook: no clip intervals (add vid and ssl_interval to '
                'PackMGInputs meta_keys) or no labelled MG intervals in the '
                'dataset; MG-IoD not logged')
            return
        report = mg_iod(merged, {
            k: v
            for k, v in truth.items() if v
        }, self.threshold)
        if is_main_process():
            runner.logger.info(
                f'Epoch {runner.epoch + 1} MG-IoD of the drawn clips: '
                f'precision {report.precision:.4f}, mean IoD '
                f'{report.mean_iod:.4f}, hit rate {report.hit_rate:.4f} '
                f'({report.clips} clips of labelled videos, '
                f'{sum(map(len, merged.values()))} in all)')
        runner.visualizer.add_scalars(
            {
                'mg_iod/precision': report.precision,
                'mg_iod/mean': report.mean_iod,
                'mg_iod/hit_rate': report.hit_rate
            },
            step=runner.epoch + 1)
