import numpy as np
import pytest

from mmmg.fusion.temperature import apply_temperature, fit_temperature, nll


def plain_softmax(z):
    out = np.empty_like(z)
    for i, row in enumerate(z):
        e = np.exp(row - row.max())
        out[i] = e / e.sum()
    return out


def plain_nll(probs, labels, t):
    # Vectorised over samples: the grid below calls it 161 times.
    z = np.log(probs) / t
    top = z.max(1)
    log_norm = np.log(np.exp(z - top[:, None]).sum(1)) + top
    return -(z[np.arange(len(labels)), labels] - log_norm).mean()


def calibrated_at(rng, t_true, n=6000, c=8):
    """Labels drawn from softmax(z / t_true); the stream reports
    softmax(z), i.e. it is miscalibrated by exactly t_true."""
    z = rng.normal(scale=3., size=(n, c))
    truth = plain_softmax(z / t_true)
    labels = np.array([rng.choice(c, p=p) for p in truth])
    return plain_softmax(z), labels


def test_apply_temperature_matches_softmax_of_log_probs():
    rng = np.random.default_rng(0)
    probs = plain_softmax(rng.normal(size=(20, 5)))
    for t in (0.3, 1., 2.5):
        np.testing.assert_allclose(
            apply_temperature(probs, t),
            plain_softmax(np.log(probs) / t),
            rtol=1e-10)
    np.testing.assert_allclose(apply_temperature(probs, 1.), probs, rtol=1e-10)
    with pytest.raises(ValueError, match='> 0'):
        apply_temperature(probs, 0)


@pytest.mark.parametrize('t_true', [0.5, 1.0, 2.0, 4.0])
def test_fit_recovers_the_temperature(t_true):
    rng = np.random.default_rng(int(t_true * 10))
    probs, labels = calibrated_at(rng, t_true)
    fitted = fit_temperature(probs, labels)
    assert fitted == pytest.approx(t_true, rel=0.08)
    # The minimum of a brute-force grid of the plain NLL.
    grid = np.exp(np.linspace(np.log(0.2), np.log(10), 161))
    losses = [plain_nll(probs[:1500], labels[:1500], t) for t in grid]
    fitted_part = fit_temperature(probs[:1500], labels[:1500])
    assert fitted_part == pytest.approx(grid[np.argmin(losses)], rel=0.03)
    assert nll(probs[:1500], labels[:1500], fitted_part) <= min(losses) + 1e-9
    assert nll(probs, labels, 1.3) == pytest.approx(
        plain_nll(probs, labels, 1.3), rel=1e-9)


def test_unlabelled_rows_are_skipped_and_bounds_clamp():
    rng = np.random.default_rng(3)
    probs, labels = calibrated_at(rng, 2.0, n=2000)
    masked = labels.copy()
    masked[1000:] = -1
    assert fit_temperature(probs, masked) == pytest.approx(
        fit_temperature(probs[:1000], labels[:1000]))
    # Too tight bounds: the fit stops at the bound.
    assert fit_temperature(probs, labels, bounds=(0.5, 1.2)) == \
        pytest.approx(1.2)
    # A stream that is always right with certainty wants T -> 0.
    perfect = np.full((50, 3), 1e-9)
    perfect[np.arange(50), np.arange(50) % 3] = 1
    assert fit_temperature(perfect, np.arange(50) % 3) == pytest.approx(0.05)
    with pytest.raises(ValueError, match='no labelled sample'):
        fit_temperature(probs, np.full(len(probs), -1))
    with pytest.raises(ValueError, match='bounds'):
        fit_temperature(probs, labels, bounds=(2, 1))
