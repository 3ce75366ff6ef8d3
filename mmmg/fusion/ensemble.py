"""A score-level ensemble: per-stream temperatures and fusion weights, fitted
on validation scores, saved as JSON and applied to test scores."""
import json
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence

import numpy as np

from mmmg.utils import atomic_open
from .temperature import apply_temperature, fit_temperature
from .weight_search import METRICS, search_weights

METHODS = ('mean', 'temperature')
FUSION_FORMAT = 'mmmg.fusion'


@dataclass
class Ensemble:
    """Weighted soft voting over streams.

    The fused probabilities of a sample are

    .. math::

        p = \\sum_s w_s \\, \\mathrm{softmax}(\\log p_s / T_s)

    with weights :math:`w` on the simplex. ``method='mean'`` keeps every
    :math:`T_s = 1` (the weighted mean of the streams' probabilities);
    ``method='temperature'`` fits each :math:`T_s` on validation scores
    first (temperature-scaled soft voting), so an over-confident stream
    does not outvote a calibrated one at equal weight.

    Args:
        streams (list[str]): Stream names, in the order of ``weights``.
        weights (list[float]): Fusion weights, summing to 1.
        temperatures (list[float]): One temperature per stream.
        method (str): ``'mean'`` or ``'temperature'``.
        metric (str, optional): The validation metric the weights were
            searched for, or None for given weights.
        val_metric (float, optional): That metric of the fused validation
            scores.
        meta (dict): Provenance (validation files, sample count, ...).
    """
    streams: List[str]
    weights: List[float]
    temperatures: List[float]
    method: str = 'temperature'
    metric: Optional[str] = None
    val_metric: Optional[float] = None
    meta: Dict = field(default_factory=dict)

    def __post_init__(self):
        if self.method not in METHODS:
            raise ValueError(f'method must be one of {METHODS}, got '
                             f'{self.method!r}')
        if not len(self.streams) == len(self.weights) == len(
                self.temperatures):
            raise ValueError(
                f'{len(self.streams)} streams, {len(self.weights)} weights '
                f'and {len(self.temperatures)} temperatures')
        weights = np.asarray(self.weights, dtype=np.float64)
        if (weights < 0).any() or not np.isclose(weights.sum(), 1):
            raise ValueError(f'weights must be >= 0 and sum to 1, got '
                             f'{self.weights}')
        if not all(t > 0 for t in self.temperatures):
            raise ValueError(f'temperatures must be > 0, got '
                             f'{self.temperatures}')

    def calibrate(self, stack: np.ndarray) -> np.ndarray:
        """``[S, N, C]`` probabilities with each stream's temperature."""
        self._check_stack(stack)
        return np.stack([
            apply_temperature(probs, t) if t != 1 else probs
            for probs, t in zip(stack, self.temperatures)
        ])

    def fuse(self, stack: np.ndarray) -> np.ndarray:
        """``[N, C]`` fused probabilities of a ``[S, N, C]`` stack whose
        streams are in the order of :attr:`streams`."""
        calibrated = self.calibrate(stack)
        return np.tensordot(np.asarray(self.weights), calibrated, axes=1)

    def _check_stack(self, stack: np.ndarray) -> None:
        if stack.ndim != 3 or len(stack) != len(self.streams):
            raise ValueError(f'expected scores of {len(self.streams)} streams '
                             f'{self.streams}, got an array of shape '
                             f'{stack.shape}')

    def to_dict(self) -> dict:
        return dict(
            format=FUSION_FORMAT,
            method=self.method,
            streams=list(self.streams),
            weights=[float(w) for w in self.weights],
            temperatures=[float(t) for t in self.temperatures],
            metric=self.metric,
            val_metric=self.val_metric,
            meta=self.meta)

    def save(self, path: str) -> None:
        with atomic_open(path, 'w') as f:
            json.dump(self.to_dict(), f, indent=2)
            f.write('\n')

    @classmethod
    def load(cls, path: str) -> 'Ensemble':
        with open(path) as f:
            try:
                data = json.load(f)
            except json.JSONDecodeError as err:
                raise ValueError(f'{path}: not a readable fusion.json '
                                 f'({err})') from None
        if not isinstance(data, dict) or data.get('format') != FUSION_FORMAT:
            raise ValueError(f'{path}: not a fusion file written by '
                             'tools/fuse_scores.py (no "format": '
                             f'"{FUSION_FORMAT}")')
        data.pop('format')
        try:
            return cls(**data)
        except (TypeError, ValueError) as err:
            raise ValueError(f'{path}: {err}') from None


def fit_ensemble(stack: np.ndarray,
                 labels: np.ndarray,
                 streams: Sequence[str],
                 method: str = 'temperature',
                 metric: Optional[str] = 'top1',
                 weights: Optional[Sequence[float]] = None,
                 temperature_bounds=(0.05, 20.),
                 seed: int = 0,
                 progress: bool = False,
                 meta: Optional[dict] = None) -> Ensemble:
    """Fit temperatures and weights on validation scores.

    Args:
        stack (np.ndarray): ``[S, N, C]`` validation probabilities.
        labels (np.ndarray): ``[N]`` labels, -1 where unknown (ignored).
        streams (Sequence[str]): Names of the S streams.
        method (str): ``'temperature'`` fits a temperature per stream by
            minimising the validation NLL; ``'mean'`` keeps them at 1.
        metric (str, optional): ``'top1'`` or ``'macro_f1'``: search the
            weights that maximise it on the temperature-scaled scores.
            None keeps ``weights`` (equal weights if those are None too).
        weights (Sequence[float], optional): Fixed weights (normalised to
            sum 1) when ``metric`` is None.
        temperature_bounds (tuple): Range the temperatures are clamped to.
        seed (int): Seed of the weight search.
        progress (bool): Show a progress bar during the search.
        meta (dict, optional): Provenance stored with the ensemble.

    Returns:
        Ensemble: The fitted ensemble.
    """
    if method not in METHODS:
        raise ValueError(f'method must be one of {METHODS}, got {method!r}')
    if metric is not None and metric not in METRICS:
        raise ValueError(f'metric must be one of {METRICS} or None, got '
                         f'{metric!r}')
    if len(streams) != len(stack):
        raise ValueError(f'{len(streams)} stream names for {len(stack)} '
                         'streams of scores')
    if method == 'temperature':
        temperatures = [
            fit_temperature(probs, labels, bounds=temperature_bounds)
            for probs in stack
        ]
    else:
        temperatures = [1.] * len(streams)
    ensemble = Ensemble(
        list(streams), [1. / len(streams)] * len(streams),
        temperatures,
        method,
        meta=dict(meta or {}))
    calibrated = ensemble.calibrate(stack)
    if metric is not None:
        best, value = search_weights(
            calibrated, labels, metric=metric, seed=seed, progress=progress)
        ensemble.weights = [float(w) for w in best]
        ensemble.metric, ensemble.val_metric = metric, float(value)
    elif weights is not None:
        weights = np.asarray(weights, dtype=np.float64)
        if len(weights) != len(streams) or (weights < 0).any() or \
                weights.sum() <= 0:
            raise ValueError(
                f'need {len(streams)} non-negative weights, one per stream '
                f'{list(streams)}, not all 0; got {weights.tolist()}')
        ensemble.weights = (weights / weights.sum()).tolist()
    return ensemble
