"""MAC 2024's F1_mean against a plain-numpy reference of its definition."""
import numpy as np
import pytest

from mmmg.classes import MA52_BODY_RANGES
from mmmg.evaluation import ma52_f1_scores


def body_of(action):
    """Body class of an action label, by scanning the published ranges."""
    for body, (first, last) in enumerate(MA52_BODY_RANGES):
        if first <= action <= last:
            return body
    raise AssertionError(action)


def reference_f1(y, p):
    """Macro-F1 over the classes among labels or predictions (scikit-learn's
    default), and micro-F1 from pooled counts."""
    f1s = []
    for c in sorted(set(y) | set(p)):
        tp = sum(a == c and b == c for a, b in zip(y, p))
        fp = sum(a != c and b == c for a, b in zip(y, p))
        fn = sum(a == c and b != c for a, b in zip(y, p))
        f1s.append(2 * tp / (2 * tp + fp + fn))
    tp = sum(a == b for a, b in zip(y, p))
    fp = fn = len(y) - tp  # every wrong prediction is one FP and one FN
    return np.mean(f1s), 2 * tp / (2 * tp + fp + fn)


def test_f1_mean_matches_the_definition():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 52, 300)
    # Right 40% of the time, else often a sibling in the same body part.
    preds = np.where(rng.random(300) < 0.4, labels, rng.integers(0, 52, 300))
    scores = rng.random((300, 52))
    scores[np.arange(300), preds] += 1
    got = ma52_f1_scores(labels, scores)
    a_macro, a_micro = reference_f1(list(labels), list(preds))
    yb = [body_of(a) for a in labels]
    pb = [body_of(a) for a in preds]
    b_macro, b_micro = reference_f1(yb, pb)
    expected = dict(
        action_f1_macro=a_macro,
        action_f1_micro=a_micro,
        body_f1_macro=b_macro,
        body_f1_micro=b_micro,
        f1_mean=(a_macro + a_micro + b_macro + b_micro) / 4)
    assert got.keys() == expected.keys()
    for key in expected:
        assert got[key] == pytest.approx(expected[key]), key
    # Labels and predictions give the same result.
    assert ma52_f1_scores(labels, preds) == got


def test_a_wrong_action_in_the_right_body_part_still_counts_coarse():
    # 0 and 4 are both in body part 0; 5 is body part 1.
    got = ma52_f1_scores([0, 0, 5], [4, 4, 5])
    assert got['action_f1_micro'] == pytest.approx(1 / 3)
    assert got['body_f1_micro'] == 1
    assert got['body_f1_macro'] == 1
    # Action F1: class 0 (0), class 4 (0, predicted only), class 5 (1).
    assert got['action_f1_macro'] == pytest.approx(1 / 3)


def test_bad_inputs_name_the_sample():
    with pytest.raises(ValueError, match='label 52 of sample 1'):
        ma52_f1_scores([0, 52], [0, 0])
    with pytest.raises(ValueError, match='one prediction per label'):
        ma52_f1_scores([0, 1], [0])
