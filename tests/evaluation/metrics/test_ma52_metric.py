"""MA52Metric through MMEngine's Evaluator on MMAction2 data samples."""
import numpy as np
import pytest
import torch
from mmaction.registry import METRICS

from mmmg.evaluation import ma52_f1_scores


def samples(scores, labels):
    # As MMAction2 1.1's recognizers hand them to the evaluator.
    return [
        dict(
            pred_scores=dict(item=torch.from_numpy(s)),
            gt_labels=dict(item=torch.tensor([y])))
        for s, y in zip(scores, labels)
    ]


def test_metric_reports_f1_mean_and_top_k():
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 52, 40)
    scores = rng.random((40, 52)).astype(np.float32)
    scores[np.arange(0, 40, 2), labels[::2]] += 1  # half of them right
    metric = METRICS.build(dict(type='MA52Metric'))
    metric.dataset_meta = {}
    metric.process(None, samples(scores, labels))
    # A hidden-label test clip is skipped.
    metric.process(None, samples(scores[:1], [-1]))
    got = metric.evaluate(40)
    expected = ma52_f1_scores(labels, scores)
    for key, value in expected.items():
        assert got[f'ma52/{key}'] == pytest.approx(value)
    order = np.argsort(-scores, 1)
    assert got['ma52/top1'] == pytest.approx((order[:, 0] == labels).mean())
    top5 = (order[:, :5] == labels[:, None]).any(1).mean()
    assert got['ma52/top5'] == pytest.approx(top5)
    assert got['ma52/top1'] >= 0.5


def test_metric_without_labels_says_why():
    metric = METRICS.build(dict(type='MA52Metric'))
    metric.process(None, samples(np.zeros((2, 52), np.float32), [-1, -1]))
    with pytest.raises(ValueError, match='no sample has a label'):
        metric.compute_metrics(metric.results)
