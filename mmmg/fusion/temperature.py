"""Temperature scaling of one stream's class probabilities (Guo et al.,
ICML 2017), fitted on validation scores."""
import logging
import math
from typing import Tuple

import numpy as np

logger = logging.getLogger(__name__)

# Probabilities are floored here before the log: a 0 from a saturated
# softmax would give an infinite NLL.
PROB_FLOOR = 1e-12
_GOLDEN = (math.sqrt(5) - 1) / 2


def _log_probs(probs: np.ndarray) -> np.ndarray:
    return np.log(
        np.clip(np.asarray(probs, dtype=np.float64), PROB_FLOOR, None))


def apply_temperature(probs: np.ndarray, temperature: float) -> np.ndarray:
    r"""Rescale probabilities by a temperature.

    .. math:: p_T = \mathrm{softmax}(\log p / T)

    Log-probabilities are the logits up to a per-sample constant, which
    the softmax cancels, so this is exact temperature scaling of the
    model's logits.

    Args:
        probs (np.ndarray): ``[N, C]`` probabilities.
        temperature (float): T > 0; T > 1 softens, T < 1 sharpens.

    Returns:
        np.ndarray: ``[N, C]`` float64 probabilities.
    """
    if temperature <= 0:
        raise ValueError(f'temperature must be > 0, got {temperature}')
    z = _log_probs(probs) / temperature
    z -= z.max(axis=1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=1, keepdims=True)
    return z


def _labelled(probs: np.ndarray,
              labels: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    labels = np.asarray(labels)
    known = labels >= 0
    if not known.any():
        raise ValueError('no labelled sample (all labels are -1)')
    return np.asarray(probs)[known], labels[known]


def _nll_of_log_probs(log_probs: np.ndarray, labels: np.ndarray,
                      temperature: float) -> float:
    z = log_probs / temperature
    top = z.max(axis=1)
    log_norm = top + np.log(np.exp(z - top[:, None]).sum(axis=1))
    return float((log_norm - z[np.arange(len(labels)), labels]).mean())


def nll(probs: np.ndarray,
        labels: np.ndarray,
        temperature: float = 1.0) -> float:
    r"""Mean negative log-likelihood of the labelled samples,
    :math:`-\frac{1}{N}\sum_i \log p_T(y_i \mid x_i)`; label -1 is
    skipped."""
    probs, labels = _labelled(probs, labels)
    return _nll_of_log_probs(_log_probs(probs), labels, temperature)


def fit_temperature(probs: np.ndarray,
                    labels: np.ndarray,
                    bounds: Tuple[float, float] = (0.05, 20.),
                    tol: float = 1e-4) -> float:
    """The temperature that minimises the validation NLL.

    A golden-section search over :math:`\\log T` in ``bounds``: the NLL of
    temperature scaling is convex in :math:`1/T`, hence unimodal in
    :math:`\\log T`, so the search finds the optimum within ``tol`` (in
    :math:`\\log T`). An optimum on a bound is logged: the stream is
    degenerate (e.g. all wrong with certainty) or the bounds too tight.

    Args:
        probs (np.ndarray): ``[N, C]`` validation probabilities.
        labels (np.ndarray): ``[N]`` labels; -1 (unknown) is skipped.
        bounds (tuple[float, float]): Range of T.
        tol (float): Tolerance in log T.

    Returns:
        float: The fitted temperature.
    """
    low, high = bounds
    if not 0 < low < high:
        raise ValueError(f'bounds must satisfy 0 < low < high, got {bounds}')
    probs, labels = _labelled(probs, labels)
    log_probs = _log_probs(probs)

    def loss(log_t):
        return _nll_of_log_probs(log_probs, labels, math.exp(log_t))

    a, b = math.log(low), math.log(high)
    c, d = b - _GOLDEN * (b - a), a + _GOLDEN * (b - a)
    fc, fd = loss(c), loss(d)
    while b - a > tol:
        if fc <= fd:
            b, d, fd = d, c, fc
            c = b - _GOLDEN * (b - a)
            fc = loss(c)
        else:
            a, c, fc = c, d, fd
            d = a + _GOLDEN * (b - a)
            fd = loss(d)
    log_t = (a + b) / 2
    # The ends are not probed by the search itself.
    candidates = [(loss(log_t), log_t), (loss(math.log(low)), math.log(low)),
                  (loss(math.log(high)), math.log(high))]
    best_loss, log_t = min(candidates)
    temperature = math.exp(log_t)
    if log_t - math.log(low) < 2 * tol or math.log(high) - log_t < 2 * tol:
        logger.warning(
            f'fitted temperature {temperature:.4g} is at the bound of '
            f'{bounds} (NLL {best_loss:.4f})')
    return temperature
