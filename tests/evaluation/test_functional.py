import numpy as np
import pytest

from mmmg.evaluation.functional import (classification_report,
                                        confusion_matrix, macro_f1,
                                        mean_class_accuracy, top_k_accuracy)


def plain_scores(labels, preds, num_classes):
    """Per-class (tp, fp, fn) and F1 by counting, one sample at a time."""
    out = []
    for c in range(num_classes):
        tp = sum(p == c and y == c for p, y in zip(preds, labels))
        fp = sum(p == c and y != c for p, y in zip(preds, labels))
        fn = sum(p != c and y == c for p, y in zip(preds, labels))
        precision = tp / (tp + fp) if tp + fp else 0.
        recall = tp / (tp + fn) if tp + fn else 0.
        f1 = (2 * precision * recall / (precision + recall) if precision +
              recall else 0.)
        out.append((tp, fp, fn, f1))
    return out


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    # 6 classes: 4 never occurs, 5 is never a label but predicted below.
    labels = rng.choice([0, 1, 2, 3], size=60, p=[.5, .3, .1, .1])
    scores = rng.normal(size=(60, 6))
    scores[np.arange(60), labels] += 1.
    scores[:, 4] -= 10
    scores[:2, 5] += 10
    return scores, labels


def test_against_plain_counting(data):
    scores, labels = data
    preds = scores.argmax(1)
    ref = plain_scores(labels, preds, 6)
    present = [f1 for tp, fp, fn, f1 in ref if tp + fp + fn]
    assert macro_f1(labels, preds, 6) == pytest.approx(np.mean(present))
    assert macro_f1(
        labels, preds, 6,
        over='all') == pytest.approx(np.mean([r[3] for r in ref]))
    recalls = [tp / (tp + fn) for tp, fp, fn, _ in ref if tp + fn]
    assert mean_class_accuracy(labels, preds,
                               6) == pytest.approx(np.mean(recalls))
    cm = confusion_matrix(labels, preds, 6)
    for t in range(6):
        for p in range(6):
            assert cm[t, p] == sum(y == t and q == p
                                   for y, q in zip(labels, preds))
    for k in (1, 3, 10):
        hits = [
            y in np.argsort(-s, kind='stable')[:k]
            for s, y in zip(scores, labels)
        ]
        assert top_k_accuracy(scores, labels,
                              (k, ))[k] == pytest.approx(np.mean(hits))
    report = classification_report(scores, labels, topk=(1, 3))
    np.testing.assert_allclose(report['per_class']['f1'], [r[3] for r in ref])
    assert report['top1'] == pytest.approx(np.mean(preds == labels))
    assert report['macro_f1'] == macro_f1(labels, preds, 6)


def test_batched_macro_f1_equals_one_at_a_time(data):
    scores, labels = data
    rng = np.random.default_rng(1)
    preds = rng.integers(0, 6, size=(5, len(labels)))
    batched = macro_f1(labels, preds, 6)
    assert batched.shape == (5, )
    for row, value in zip(preds, batched):
        assert value == pytest.approx(macro_f1(labels, row, 6))
    with pytest.raises(ValueError, match='over'):
        macro_f1(labels, preds, 6, over='some')
