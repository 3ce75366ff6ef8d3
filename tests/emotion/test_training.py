"""The emotion config trained by the mmengine Runner through
tools/emotion_recognition.py learns a MIL problem; OutcomeF1Metric by
hand."""
import importlib.util
import json
import os.path as osp

import numpy as np
import pytest
import torch

from mmmg.emotion.metric import OutcomeF1Metric
from mmmg.evaluation.features import save_features
from tests.conftest import REPO


def test_f1_of_each_outcome_by_hand():
    pred = np.array([1, 1, 0, 0, 1])
    labels = np.array([1, 0, 0, 1, 1])
    metric = OutcomeF1Metric()
    metric.dataset_meta = dict(classes=('lose', 'win'))
    probs = np.eye(2)[pred]
    result = metric.compute_metrics([
        dict(prob=p, label=y, video=f'v{i}')
        for i, (p, y) in enumerate(zip(probs, labels))
    ])
    # win: tp 2, fp 1, fn 1 -> 4 / 6; lose: tp 1, fp 1, fn 1.
    assert result['f1_win'] == 4 / 6
    assert result['f1_lose'] == 2 / 4
    assert result['macro_f1'] == pytest.approx((4 / 6 + 2 / 4) / 2)
    assert result['accuracy'] == 3 / 5


def synthetic_features(path, n, seed):
    """A video wins iff one of its clips comes from a distinctive cluster
    (a needle among noise clips), the MIL setting. Writes the clips as a
    feature file and returns the outcome of every video."""
    rng = np.random.default_rng(seed)
    k, d = 8, 16
    centre = np.zeros(d)
    centre[:4] = 3.
    feats, ids, outcomes = [], [], {}
    for b in range(n):
        length, win = rng.integers(3, k + 1), rng.integers(0, 2)
        clips = rng.normal(size=(length, d))
        if win:
            clips[rng.integers(length)] += centre
        feats.append(clips)
        ids += [f's{seed}v{b}_{i}' for i in range(length)]
        outcomes[f's{seed}v{b}'] = 'win' if win else 'lose'
    save_features(
        path,
        dict(
            features=np.concatenate(feats).astype(np.float32),
            labels=np.zeros(len(ids), np.int64),
            sample_ids=np.array(ids),
            videos=np.array([i.rsplit('_', 1)[0] for i in ids])))
    return outcomes


@pytest.fixture
def one_thread():
    """A model this small runs ten times faster on one thread than on
    several contended ones."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_aggregator_learns_the_needle(tmp_path, one_thread):
    outcomes = synthetic_features(str(tmp_path / 'train.npz'), 200, 0)
    outcomes.update(synthetic_features(str(tmp_path / 'test.npz'), 100, 1))
    labels = tmp_path / 'labels.csv'
    labels.write_text('video,outcome\n' +
                      ''.join(f'{v},{o}\n' for v, o in outcomes.items()))
    spec = importlib.util.spec_from_file_location(
        'emotion_recognition', osp.join(REPO, 'tools',
                                        'emotion_recognition.py'))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    out = tmp_path / 'out'
    assert tool.main([
        '--train',
        str(tmp_path / 'train.npz'), '--test',
        str(tmp_path / 'test.npz'), '--labels',
        str(labels), '--out-dir',
        str(out), '--epochs', '40', '--lr', '3e-3', '--max-clips', '8'
    ]) == 0
    result = json.load(open(out / 'metrics.json'))
    history = result['train_loss']
    assert history[-1] < 0.5 * history[0]
    assert result['accuracy'] >= 0.9
    assert set(result) >= {'accuracy', 'f1_win', 'f1_lose', 'macro_f1'}
    with open(out / 'predictions.csv') as f:
        rows = f.read().splitlines()
    assert rows[0] == 'video,outcome,prob_win' and len(rows) == 101
    prob_win = [float(r.split(',')[2]) for r in rows[1:]]
    assert 0 <= min(prob_win) <= max(prob_win) <= 1


def test_bag_dataset_and_class_balance(tmp_path):
    from types import SimpleNamespace

    from mmmg.emotion import (AttentionMILAggregator, ClassBalanceHook,
                              VideoBagDataset)
    outcomes = synthetic_features(str(tmp_path / 'f.npz'), 6, 2)
    labels = tmp_path / 'labels.csv'
    labels.write_text('video,outcome\n' +
                      ''.join(f'{v},{o}\n' for v, o in outcomes.items()))
    dataset = VideoBagDataset(
        str(labels), [str(tmp_path / 'f.npz')] * 2, max_clips=8)
    sample = dataset[0]
    assert sample['features'].shape == (8, 32) and dataset.feature_dims == 32
    assert sample['mask'].dtype == torch.bool and sample['mask'][0]
    assert sample['data_samples'].video == 's2v0'
    counts = dataset.class_counts()
    assert counts.sum() == 6
    model = AttentionMILAggregator(32)
    runner = SimpleNamespace(
        model=model,
        logger=SimpleNamespace(info=lambda msg: None),
        train_dataloader=SimpleNamespace(dataset=dataset))
    ClassBalanceHook().before_train(runner)
    torch.testing.assert_close(
        model.class_weight,
        torch.tensor(6 / (2 * np.maximum(counts, 1)), dtype=torch.float))
    assert 'class_weight' not in model.state_dict()
    with pytest.raises(ValueError, match='32 wide, the aggregator takes 16'):
        AttentionMILAggregator(16)(sample['features'][None],
                                   sample['mask'][None])
