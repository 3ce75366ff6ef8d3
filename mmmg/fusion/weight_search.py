"""Fusion weights searched on validation scores for top-1 or macro-F1.

Many candidate weight vectors are scored at once: the fused scores of K
candidates are one matrix product ``[K, S] @ [S, N*C]``, and the metric
follows from an argmax and a few bincounts, with no loop over candidates.
"""
from typing import Tuple

import numpy as np
from tqdm import tqdm

from mmmg.evaluation.functional import macro_f1

METRICS = ('top1', 'macro_f1')
# Bytes of fused float32 scores held at once while scoring candidates.
_BLOCK_BYTES = 64 * 2**20


def evaluate_weights(stack: np.ndarray,
                     labels: np.ndarray,
                     weights: np.ndarray,
                     metric: str = 'top1') -> np.ndarray:
    """The metric of the fused scores ``sum_s w_s P_s`` of each candidate.

    Args:
        stack (np.ndarray): ``[S, N, C]`` per-stream probabilities.
        labels (np.ndarray): ``[N]`` labels; -1 (unknown) is skipped.
        weights (np.ndarray): ``[K, S]`` candidate weights.
        metric (str): ``'top1'`` or ``'macro_f1'``.

    Returns:
        np.ndarray: ``[K]`` metric values.
    """
    if metric not in METRICS:
        raise ValueError(f'metric must be one of {METRICS}, got {metric!r}')
    weights = np.atleast_2d(np.asarray(weights, dtype=np.float32))
    labels = np.asarray(labels)
    known = labels >= 0
    if not known.any():
        raise ValueError('no labelled sample (all labels are -1)')
    num_streams, _, num_classes = stack.shape
    if weights.shape[1] != num_streams:
        raise ValueError(f'{weights.shape[1]} weights per candidate for '
                         f'{num_streams} streams')
    scores = np.ascontiguousarray(stack[:, known], dtype=np.float32)
    labels = labels[known]
    n = len(labels)
    flat = scores.reshape(num_streams, -1)
    chunk = max(1, _BLOCK_BYTES // (4 * flat.shape[1]))
    out = np.empty(len(weights))
    for i in range(0, len(weights), chunk):
        fused = weights[i:i + chunk] @ flat
        pred = fused.reshape(-1, n, num_classes).argmax(2)
        if metric == 'top1':
            out[i:i + chunk] = (pred == labels).mean(1)
        else:
            out[i:i + chunk] = macro_f1(labels, pred, num_classes)
    return out


def search_weights(stack: np.ndarray,
                   labels: np.ndarray,
                   metric: str = 'top1',
                   num_random: int = 2000,
                   rounds: int = 3,
                   grid: int = 21,
                   seed: int = 0,
                   progress: bool = False) -> Tuple[np.ndarray, float]:
    """Weights on the simplex that maximise a validation metric.

    Candidates: equal weights, each stream alone and ``num_random``
    Dirichlet(1) draws, then ``rounds`` of coordinate refinement: each
    stream's weight is set to every value of a ``grid`` over [0, 1] with
    the others rescaled to fill the rest. Among equal scores the candidate
    nearest to equal weights wins, so flat optima give stable weights; the
    result is never worse than the best single stream or equal weights.

    Args:
        stack (np.ndarray): ``[S, N, C]`` validation probabilities.
        labels (np.ndarray): ``[N]`` labels; -1 is skipped.
        metric (str): ``'top1'`` or ``'macro_f1'``.
        num_random (int): Random candidates of the first stage.
        rounds (int): Coordinate refinement rounds.
        grid (int): Grid points per coordinate.
        seed (int): Seed of the random candidates.
        progress (bool): Show a progress bar.

    Returns:
        tuple[np.ndarray, float]: The weights ``[S]`` and their metric.
    """
    num_streams = len(stack)
    equal = np.full(num_streams, 1. / num_streams)
    if num_streams == 1:
        return equal, float(evaluate_weights(stack, labels, equal, metric)[0])
    rng = np.random.default_rng(seed)
    steps = 1 + rounds * num_streams
    bar = tqdm(total=steps, desc='weight search', disable=not progress)

    def pick(candidates, best, best_value):
        values = evaluate_weights(stack, labels, candidates, metric)
        distance = np.abs(candidates - equal).sum(1)
        # Highest value first, then nearest to equal weights.
        i = np.lexsort((distance, -values))[0]
        if best is None or values[i] > best_value or (
                values[i] == best_value
                and distance[i] < np.abs(best - equal).sum()):
            best, best_value = candidates[i], float(values[i])
        bar.update()
        return best, best_value

    first = np.concatenate([
        equal[None],
        np.eye(num_streams),
        rng.dirichlet(np.ones(num_streams), size=num_random)
    ])
    best, best_value = pick(first, None, None)
    values = np.linspace(0, 1, grid)
    for _ in range(rounds):
        for s in range(num_streams):
            rest = np.delete(best, s)
            rest = rest / rest.sum() if rest.sum() > 0 else np.full(
                num_streams - 1, 1. / (num_streams - 1))
            candidates = np.empty((grid, num_streams))
            candidates[:, s] = values
            candidates[:, np.arange(num_streams) != s] = \
                (1 - values)[:, None] * rest
            best, best_value = pick(candidates, best, best_value)
    bar.close()
    return best / best.sum(), best_value
