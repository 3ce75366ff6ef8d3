r"""Per-class loss weights from the label counts of a training annotation file.

With :math:`n_c` the number of training samples of class :math:`c` and
:math:`C` the number of classes, each mode gives an unnormalised weight

- ``'none'``: :math:`\tilde w_c = 1`
- ``'inverse'``: :math:`\tilde w_c = 1 / n_c`
- ``'sqrt_inverse'``: :math:`\tilde w_c = n_c^{-1/2}` (our reading of the
  "square-root smoothed" weighting of the 4th place of MiGA 2026, whose
  paper gives no formula; gentler than ``'inverse'`` on a > 2000:1 tail)
- ``'effective_number'``: :math:`\tilde w_c = (1 - \beta) / (1 - \beta^{n_c})`
  (Cui et al., "Class-Balanced Loss Based on Effective Number of Samples",
  CVPR 2019)

and the weights are normalised to mean 1 over the classes:

.. math::

    w_c = C \, \tilde w_c / \sum_{k=1}^{C} \tilde w_k

**Classes absent from training** (:math:`n_c = 0`) would get an infinite
weight. With ``absent='max'`` (default) they get the largest weight of the
present classes, :math:`\tilde w_c = \max_{k: n_k > 0} \tilde w_k`, before
normalisation, and a warning names them; with ``absent='error'`` they raise.
A class that has no training sample is never the target of a hard-label
loss term, so its weight only enters the normalisation (and soft labels,
e.g. label smoothing); ``'max'`` treats it like the rarest seen class, so
toy subsets and partial splits still train.
"""
import logging
import os.path as osp
from typing import Dict, List, Optional, Sequence, Union

import numpy as np
from mmengine.fileio import load
from mmengine.logging import print_log

from mmmg.datasets.video_clip_dataset import read_video_list

WEIGHT_MODES = ('none', 'inverse', 'sqrt_inverse', 'effective_number')
ABSENT_POLICIES = ('max', 'error')
# Cui et al. use beta in {0.9, 0.99, 0.999, 0.9999}; 0.999 suits classes of
# tens to thousands of clips, as in iMiGUE.
DEFAULT_BETA = 0.999
_PICKLE_EXTS = ('.pkl', '.pickle')
_SPEC_KEYS = {'mode', 'ann_file', 'split', 'num_classes', 'beta', 'absent'}


def _pickle_labels(ann_file: str, split: Optional[str]) -> List[tuple]:
    """(sample id, label) of the samples an MMAction2 pose pickle's split
    holds, selected exactly as ``PoseDataset`` selects them."""
    data = load(ann_file, file_format='pkl')
    if not isinstance(data, dict) or not isinstance(
            data.get('annotations'), list):
        raise ValueError(f'{ann_file}: expected an MMAction2 pose pickle, a '
                         "dict with an 'annotations' list")
    annos = data['annotations']
    splits = data.get('split')
    if split is None:
        if splits:
            # Counting every split would mix validation and test labels into
            # the training weights.
            raise ValueError(f'{ann_file} has splits {sorted(splits)}; name '
                             "the training one (e.g. split='train')")
    else:
        if not splits or split not in splits:
            raise ValueError(f'{ann_file}: no split {split!r} (the file has '
                             f'{sorted(splits or {})})')
        # PoseDataset keys samples by `filename` when present, else
        # `frame_dir`.
        key = 'filename' if annos and 'filename' in annos[0] else 'frame_dir'
        ids = set(splits[split])
        annos = [a for a in annos if a[key] in ids]
    return [(a.get('frame_dir', a.get('filename')), int(a.get('label', -1)))
            for a in annos]


def count_labels(ann_file: str,
                 num_classes: int,
                 split: Optional[str] = None) -> np.ndarray:
    """Training samples per class in an annotation file.

    Reads either an MMAction2 pose pickle (``.pkl`` / ``.pickle``:
    ``{'split': {name: [ids]}, 'annotations': [dict(frame_dir, label,
    ...)]}``; ``split`` names the training split) or a clip list of
    :func:`~mmmg.datasets.video_clip_dataset.read_video_list`
    (``<clip_id> <video> <start> <end> <label>`` or ``<clip>.mp4 <label>``
    lines; one file per split, so ``split`` must be None). Hidden labels
    (-1) are not counted.

    Args:
        ann_file (str): The annotation file.
        num_classes (int): Number of classes :math:`C`.
        split (str, optional): Split of a pose pickle. Defaults to None.

    Returns:
        np.ndarray: Counts :math:`n_c`, int64, shape (C, ).

    Raises:
        FileNotFoundError: ``ann_file`` does not exist.
        ValueError: A label outside ``[-1, C)``, a split that is missing or
            not named, a split given for a clip list, or no labelled sample.
    """
    if not osp.isfile(ann_file):
        raise FileNotFoundError(f'annotation file {ann_file!r} not found '
                                '(needed for the class weights)')
    if num_classes < 1:
        raise ValueError(f'num_classes must be positive, got {num_classes}')
    if ann_file.endswith(_PICKLE_EXTS):
        samples = _pickle_labels(ann_file, split)
    else:
        if split is not None:
            raise ValueError(
                f'{ann_file} is a clip list, which holds one split; got '
                f'split={split!r}: point ann_file at the training list '
                '(e.g. rgb_train.txt) and leave split out')
        _, entries = read_video_list(ann_file)
        samples = [(e.sample_id, e.label) for e in entries]
    labels = np.array([label for _, label in samples], dtype=np.int64)
    bad = (labels < -1) | (labels >= num_classes)
    if bad.any():
        sample_id, label = samples[int(np.flatnonzero(bad)[0])]
        raise ValueError(f'{ann_file}: sample {sample_id!r} has label '
                         f'{label}, outside [0, {num_classes})')
    labels = labels[labels >= 0]
    if not len(labels):
        where = f' split {split!r}' if split is not None else ''
        raise ValueError(f'{ann_file}{where}: no labelled sample to count')
    return np.bincount(labels, minlength=num_classes)


def class_weights_from_counts(counts: Sequence[int],
                              mode: str,
                              beta: float = DEFAULT_BETA,
                              absent: str = 'max') -> np.ndarray:
    r"""Class weights :math:`w_c` of the module formulas, mean 1 over classes.

    Args:
        counts (Sequence[int]): :math:`n_c` per class.
        mode (str): One of :data:`WEIGHT_MODES`.
        beta (float): :math:`\beta \in [0, 1)` of ``'effective_number'``.
            Defaults to :data:`DEFAULT_BETA`.
        absent (str): ``'max'`` or ``'error'``, for classes with
            :math:`n_c = 0` (see the module docstring). Defaults to ``'max'``.

    Returns:
        np.ndarray: float64 weights, shape (C, ).

    Raises:
        ValueError: Unknown mode or policy, beta out of range, negative
            counts, no sample at all, or (``absent='error'``) an absent
            class.
    """
    if mode not in WEIGHT_MODES:
        raise ValueError(f'class weight mode must be one of {WEIGHT_MODES}, '
                         f'got {mode!r}')
    if absent not in ABSENT_POLICIES:
        raise ValueError(f'absent must be one of {ABSENT_POLICIES}, got '
                         f'{absent!r}')
    if not 0 <= beta < 1:
        raise ValueError(f'beta must be in [0, 1), got {beta}')
    n = np.asarray(counts, dtype=np.float64)
    if n.ndim != 1 or not len(n) or (n < 0).any():
        raise ValueError(f'counts must be a non-empty list of non-negative '
                         f'numbers, got {counts!r}')
    present = n > 0
    if not present.any():
        raise ValueError('every class count is zero')
    if mode != 'none' and absent == 'error' and not present.all():
        missing = np.flatnonzero(~present).tolist()
        raise ValueError(f'classes {missing} have no training sample; their '
                         'weight would be infinite')
    w = np.ones_like(n)
    if mode == 'inverse':
        w[present] = 1. / n[present]
    elif mode == 'sqrt_inverse':
        w[present] = n[present]**-0.5
    elif mode == 'effective_number':
        w[present] = (1. - beta) / (1. - beta**n[present])
    w[~present] = w[present].max()
    return len(w) * w / w.sum()


def resolve_class_weight(class_weight: Union[None, Sequence[float], Dict],
                         owner: str = 'loss') -> Optional[List[float]]:
    """Turn a ``class_weight`` config entry into a list of weights (or None).

    Args:
        class_weight (None | list[float] | dict): None (unweighted), explicit
            positive weights (used as given, not renormalised), or a spec
            ``dict(mode, ann_file, num_classes, split=None,
            beta=DEFAULT_BETA, absent='max')``, whose weights are computed
            now from the labels of ``ann_file`` and logged. ``mode='none'``
            needs no file and gives None.
        owner (str): Name for messages and the log. Defaults to ``'loss'``.

    Returns:
        list[float] | None: The weights.

    Raises:
        TypeError: ``class_weight`` is of another type.
        ValueError: A bad spec or bad explicit weights; see also
            :func:`count_labels` and :func:`class_weights_from_counts`.
    """
    if class_weight is None:
        return None
    if not isinstance(class_weight, dict):
        if isinstance(class_weight,
                      (str, bytes)) or not hasattr(class_weight, '__len__'):
            raise TypeError(f'{owner}: class_weight must be None, a list of '
                            'weights or a dict spec, got '
                            f'{type(class_weight).__name__}')
        w = np.asarray(class_weight, dtype=np.float64)
        if w.ndim != 1 or not len(w) or not (np.isfinite(w) & (w > 0)).all():
            raise ValueError(f'{owner}: class_weight must be positive finite '
                             f'numbers, got {list(class_weight)}')
        return w.tolist()
    spec = dict(class_weight)
    unknown = set(spec) - _SPEC_KEYS
    if unknown:
        raise ValueError(f'{owner}: unknown class_weight keys '
                         f'{sorted(unknown)} (allowed: {sorted(_SPEC_KEYS)})')
    mode = spec.get('mode')
    if mode not in WEIGHT_MODES:
        raise ValueError(f'{owner}: class_weight mode must be one of '
                         f'{WEIGHT_MODES}, got {mode!r}')
    if mode == 'none':
        return None
    for key in ('ann_file', 'num_classes'):
        if spec.get(key) is None:
            raise ValueError(f'{owner}: class_weight mode {mode!r} needs '
                             f'{key!r}')
    ann_file, num_classes = spec['ann_file'], int(spec['num_classes'])
    counts = count_labels(ann_file, num_classes, spec.get('split'))
    try:
        weights = class_weights_from_counts(
            counts,
            mode,
            beta=spec.get('beta', DEFAULT_BETA),
            absent=spec.get('absent', 'max'))
    except ValueError as e:
        raise ValueError(f'{owner}: {_source(spec)}: {e}') from e
    _log_weights(owner, spec, counts, weights)
    return weights.tolist()


def _source(spec: dict) -> str:
    split = spec.get('split')
    return spec['ann_file'] + (f' [{split}]' if split is not None else '')


def _log_weights(owner: str, spec: dict, counts: np.ndarray,
                 weights: np.ndarray) -> None:
    source = _source(spec)
    mode = spec['mode']
    if mode == 'effective_number':
        mode += f', beta={spec.get("beta", DEFAULT_BETA)}'
    rows = '\n'.join(f'  class {c:3d}: n={n:6d}  w={w:.4f}'
                     for c, (n, w) in enumerate(zip(counts, weights)))
    print_log(
        f'{owner}: class weights ({mode}) from {source}:\n{rows}',
        logger='current')
    missing = np.flatnonzero(counts == 0).tolist()
    if missing:
        print_log(
            f'{owner}: classes {missing} have no training sample in '
            f'{source}; they get the largest weight of the seen '
            'classes',
            logger='current',
            level=logging.WARNING)


__all__ = [
    'ABSENT_POLICIES', 'DEFAULT_BETA', 'WEIGHT_MODES',
    'class_weights_from_counts', 'count_labels', 'resolve_class_weight'
]
