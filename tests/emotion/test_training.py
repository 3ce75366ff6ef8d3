import numpy as np

from mmmg.emotion.bags import VideoBags
from mmmg.emotion.training import binary_f1, evaluate_bags, fit_aggregator


def test_binary_f1_by_hand():
    pred = np.array([1, 1, 0, 0, 1])
    labels = np.array([1, 0, 0, 1, 1])
    # positive 1: tp 2, fp 1, fn 1 -> 4 / 6; positive 0: tp 1, fp 1, fn 1.
    assert binary_f1(pred, labels, 1) == 4 / 6
    assert binary_f1(pred, labels, 0) == 2 / 4


def synthetic_bags(n, seed):
    """A video wins iff one of its clips comes from a distinctive cluster
    (a needle among noise clips), the MIL setting."""
    rng = np.random.default_rng(seed)
    k, d = 8, 16
    centre = np.zeros(d)
    centre[:4] = 3.
    feats = rng.normal(size=(n, k, d)).astype(np.float32)
    labels = rng.integers(0, 2, n)
    lengths = rng.integers(3, k + 1, n)
    mask = np.arange(k)[None] < lengths[:, None]
    for b in np.flatnonzero(labels):
        feats[b, rng.integers(lengths[b])] += centre
    return VideoBags(feats, mask, labels.astype(np.int64),
                     [f'v{i}' for i in range(n)])


def test_aggregator_learns_the_needle():
    model, history = fit_aggregator(synthetic_bags(200, 0), epochs=40,
                                    lr=3e-3, seed=0)
    assert history[-1] < 0.5 * history[0]
    result = evaluate_bags(model, synthetic_bags(100, 1))
    assert result['accuracy'] >= 0.9
    assert set(result) >= {'accuracy', 'f1_win', 'f1_lose', 'macro_f1',
                           'videos', 'prob_win', 'labels'}
    assert 0 <= min(result['prob_win']) <= max(result['prob_win']) <= 1
