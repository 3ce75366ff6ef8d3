import numpy as np
import pytest

from mmmg.evaluation.functional import classification_report
from mmmg.fusion.weight_search import evaluate_weights, search_weights


def plain_macro_f1(pred, labels, num_classes):
    f1s = []
    for c in range(num_classes):
        tp = sum(1 for p, y in zip(pred, labels) if p == c and y == c)
        fp = sum(1 for p, y in zip(pred, labels) if p == c and y != c)
        fn = sum(1 for p, y in zip(pred, labels) if p != c and y == c)
        if tp + fp + fn == 0:
            continue  # neither predicted nor present
        precision = tp / (tp + fp) if tp + fp else 0.
        recall = tp / (tp + fn) if tp + fn else 0.
        f1s.append(2 * precision * recall / (precision + recall) if precision +
                   recall else 0.)
    return np.mean(f1s)


def make_stack(rng, n=300, c=7, qualities=(1.5, 0.8, 0.)):
    # Labels avoid class 6, so some classes are only ever predicted.
    labels = rng.integers(0, c - 1, n)
    stack = []
    for quality in qualities:
        z = rng.normal(size=(n, c))
        z[np.arange(n), labels] += quality
        e = np.exp(z)
        stack.append(e / e.sum(1, keepdims=True))
    return np.stack(stack), labels


def test_evaluate_matches_a_plain_loop():
    rng = np.random.default_rng(0)
    stack, labels = make_stack(rng)
    labels[:20] = -1
    weights = rng.dirichlet(np.ones(3), size=40)
    top1 = evaluate_weights(stack, labels, weights, 'top1')
    f1 = evaluate_weights(stack, labels, weights, 'macro_f1')
    known = labels >= 0
    for k, w in enumerate(weights):
        fused = sum(w[s] * stack[s] for s in range(3))
        pred = fused.argmax(1)[known]
        assert top1[k] == pytest.approx(np.mean(pred == labels[known]))
        assert f1[k] == pytest.approx(plain_macro_f1(pred, labels[known], 7))
    # The convention of the test metric (classes among labels or
    # predictions).
    fused = np.tensordot(weights[0], stack, axes=1)[known]
    assert f1[0] == pytest.approx(
        classification_report(fused, labels[known])['macro_f1'])


def test_search_finds_the_informative_stream():
    rng = np.random.default_rng(1)
    stack, labels = make_stack(rng, qualities=(0., 2.5, 0.))
    weights, value = search_weights(stack, labels, 'top1', num_random=200)
    assert np.argmax(weights) == 1 and weights[1] > 0.5
    assert weights.sum() == pytest.approx(1) and (weights >= 0).all()
    assert value == pytest.approx(
        evaluate_weights(stack, labels, weights[None])[0])


@pytest.mark.parametrize('metric', ['top1', 'macro_f1'])
def test_search_is_never_worse_than_equal_or_single(metric):
    rng = np.random.default_rng(2)
    stack, labels = make_stack(rng, n=200, qualities=(1.0, 0.9, 0.7, 0.5))
    weights, value = search_weights(
        stack, labels, metric, num_random=100, rounds=1, seed=3)
    baselines = np.concatenate([np.full((1, 4), 0.25), np.eye(4)])
    assert value >= evaluate_weights(stack, labels, baselines, metric).max()
    again = search_weights(
        stack, labels, metric, num_random=100, rounds=1, seed=3)
    np.testing.assert_array_equal(weights, again[0])


def test_unlabelled_rows_do_not_count():
    rng = np.random.default_rng(4)
    stack, labels = make_stack(rng, n=100)
    hidden = np.concatenate([labels, np.full(50, -1)])
    extra = np.concatenate([stack, make_stack(rng, n=50)[0]], axis=1)
    w = rng.dirichlet(np.ones(3), size=5)
    np.testing.assert_array_equal(
        evaluate_weights(extra, hidden, w, 'macro_f1'),
        evaluate_weights(stack, labels, w, 'macro_f1'))
    with pytest.raises(ValueError, match='no labelled sample'):
        evaluate_weights(stack, np.full(100, -1), w)
    with pytest.raises(ValueError, match='metric'):
        evaluate_weights(stack, labels, w, 'top5')
