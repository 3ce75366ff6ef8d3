import json

import numpy as np
import pytest

from mmmg.fusion.ensemble import Ensemble, fit_ensemble


def softmax_rows(z):
    out = np.empty_like(z)
    for i, row in enumerate(z):
        e = np.exp(row - row.max())
        out[i] = e / e.sum()
    return out


def noisy_streams(rng,
                  n=400,
                  c=6,
                  qualities=(2.5, 1.0, 0.2),
                  sharpness=(1., 4., 1.)):
    """Streams of different quality; the second is over-confident."""
    labels = rng.integers(0, c, n)
    stack = []
    for quality, sharp in zip(qualities, sharpness):
        z = rng.normal(size=(n, c))
        z[np.arange(n), labels] += quality
        stack.append(softmax_rows(sharp * z))
    return np.stack(stack), labels


def test_fuse_matches_the_formula():
    rng = np.random.default_rng(0)
    stack, _ = noisy_streams(rng)
    ensemble = Ensemble(['a', 'b', 'c'], [0.5, 0.3, 0.2], [1.0, 2.0, 0.5])
    fused = ensemble.fuse(stack)
    # p = sum_s w_s softmax(log p_s / T_s), one sample at a time.
    expected = np.zeros_like(stack[0])
    for w, t, probs in zip(ensemble.weights, ensemble.temperatures, stack):
        for i, p in enumerate(probs):
            z = np.log(np.clip(p, 1e-12, None)) / t
            e = np.exp(z - z.max())
            expected[i] += w * e / e.sum()
    np.testing.assert_allclose(fused, expected, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(fused.sum(1), 1, atol=1e-9)


def test_json_round_trip(tmp_path):
    ensemble = Ensemble(['joint', 'limb'], [0.25, 0.75], [1.3, 0.8],
                        metric='top1',
                        val_metric=0.5,
                        meta=dict(n=3))
    path = str(tmp_path / 'fusion.json')
    ensemble.save(path)
    assert json.load(open(path))['format'] == 'mmmg.fusion'
    assert Ensemble.load(path) == ensemble


@pytest.mark.parametrize('kwargs, message', [
    (dict(weights=[0.6, 0.6]), 'sum to 1'),
    (dict(weights=[1.5, -0.5]), '>= 0'),
    (dict(temperatures=[1., 0.]), 'temperatures'),
    (dict(method='vote'), 'method'),
    (dict(streams=['a']), 'streams'),
])
def test_bad_ensembles(kwargs, message):
    args = dict(streams=['a', 'b'], weights=[0.5, 0.5], temperatures=[1., 1.])
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        Ensemble(**args)


def test_load_rejects_other_json(tmp_path):
    path = tmp_path / 'other.json'
    path.write_text('{"weights": [1]}')
    with pytest.raises(ValueError, match='other.json.*not a fusion file'):
        Ensemble.load(str(path))


def test_fuse_checks_the_stream_count():
    ensemble = Ensemble(['a', 'b'], [0.5, 0.5], [1., 1.])
    with pytest.raises(ValueError, match=r"\['a', 'b'\]"):
        ensemble.fuse(np.full((3, 4, 5), 0.2))


def test_fit_temperature_and_search():
    rng = np.random.default_rng(1)
    stack, labels = noisy_streams(rng)
    mean = fit_ensemble(
        stack, labels, ['a', 'b', 'c'], method='mean', metric=None)
    assert mean.temperatures == [1., 1., 1.]
    assert mean.weights == pytest.approx([1 / 3] * 3)

    ensemble = fit_ensemble(stack, labels, ['a', 'b', 'c'], metric='top1')
    # The over-confident stream is cooled down, and the noise stream so
    # much that it is nearly uniform: it can no longer outvote the others.
    assert ensemble.temperatures[1] > 2
    assert ensemble.temperatures[2] > ensemble.temperatures[0]
    assert ensemble.calibrate(stack)[2].max() < 0.5
    # The searched weights beat equal weights on the data they were fitted
    # on.
    equal = Ensemble(['a', 'b', 'c'], [1 / 3] * 3, ensemble.temperatures)
    top1 = (ensemble.fuse(stack).argmax(1) == labels).mean()
    assert top1 == pytest.approx(ensemble.val_metric)
    assert top1 >= (equal.fuse(stack).argmax(1) == labels).mean()
    assert ensemble.metric == 'top1'


def test_fixed_weights_are_normalised():
    rng = np.random.default_rng(2)
    stack, labels = noisy_streams(rng)
    ensemble = fit_ensemble(
        stack, labels, ['a', 'b', 'c'], metric=None, weights=[2, 1, 1])
    assert ensemble.weights == pytest.approx([0.5, 0.25, 0.25])
    with pytest.raises(ValueError, match='non-negative'):
        fit_ensemble(
            stack, labels, ['a', 'b', 'c'], metric=None, weights=[1, 1])
