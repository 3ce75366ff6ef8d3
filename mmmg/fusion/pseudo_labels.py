"""Cross-modal pseudo-labels: confident fused predictions on an unlabelled
split (e.g. the unseen test subjects) become training samples.

Thresholds are class-aware, in the manner of class-balanced self-training
(Zou et al., ECCV 2018): each class keeps the most confident share of the
samples predicted as it, so tail classes, whose predictions are rarely as
confident as the head's, are not swamped by a single global threshold.
"""
import copy
import pickle
from dataclasses import dataclass
from typing import Collection, Dict, Iterable, List, Optional, Sequence

import numpy as np

from mmmg.utils import atomic_open
from mmmg.utils.sorting import natural_key
from mmmg.utils.video_list import read_video_list
from .score_sources import read_pose_split, some_ids


def class_aware_thresholds(probs: np.ndarray,
                           keep_ratio: float = 0.5,
                           min_confidence: float = 0.5) -> np.ndarray:
    r"""One confidence threshold per class.

    With :math:`\hat y_i = \arg\max_c p_{ic}`, confidence
    :math:`s_i = \max_c p_{ic}` and :math:`S_c` the confidences of the
    :math:`n_c` samples predicted as class c, sorted in descending order:

    .. math::

        \tau_c = \max\left(S_c[\lceil r\, n_c \rceil - 1],\ \tau_{min}\right)

    so class c keeps its top :math:`r` share (at least one sample), but
    never a sample below the floor :math:`\tau_{min}`. A class nothing is
    predicted as gets :math:`+\infty`.

    Args:
        probs (np.ndarray): ``[N, C]`` fused probabilities.
        keep_ratio (float): r in (0, 1].
        min_confidence (float): The floor in [0, 1].

    Returns:
        np.ndarray: ``[C]`` thresholds.
    """
    if not 0 < keep_ratio <= 1:
        raise ValueError(f'keep_ratio must be in (0, 1], got {keep_ratio}')
    if not 0 <= min_confidence <= 1:
        raise ValueError(f'min_confidence must be in [0, 1], got '
                         f'{min_confidence}')
    pred, conf = probs.argmax(1), probs.max(1)
    thresholds = np.full(probs.shape[1], np.inf)
    for c in np.unique(pred):
        ranked = np.sort(conf[pred == c])[::-1]
        rank = int(np.ceil(keep_ratio * len(ranked))) - 1
        thresholds[c] = max(ranked[max(rank, 0)], min_confidence)
    return thresholds


@dataclass
class PseudoLabel:
    id: str
    label: int
    confidence: float


def select_pseudo_labels(ids: Sequence[str],
                         probs: np.ndarray,
                         thresholds: np.ndarray,
                         max_per_class: Optional[int] = None
                         ) -> List[PseudoLabel]:
    """Samples whose confidence reaches their predicted class's threshold,
    at most ``max_per_class`` (the most confident) per class, in id
    order."""
    pred, conf = probs.argmax(1), probs.max(1)
    chosen = np.flatnonzero(conf >= thresholds[pred])
    if max_per_class is not None:
        keep = []
        for c in np.unique(pred[chosen]):
            of_c = chosen[pred[chosen] == c]
            keep.extend(of_c[np.argsort(-conf[of_c],
                                        kind='stable')][:max_per_class])
        chosen = np.array(keep, dtype=np.int64)
    picked = [
        PseudoLabel(str(ids[i]), int(pred[i]), float(conf[i])) for i in chosen
    ]
    return sorted(picked, key=lambda p: natural_key(p.id))


def pseudo_label_summary(probs: np.ndarray,
                         thresholds: np.ndarray,
                         selected: Sequence[PseudoLabel],
                         ids: Sequence[str],
                         labels: Optional[np.ndarray] = None) -> Dict:
    """Per class: predicted and selected counts, threshold and, where the
    true labels are known, the pseudo-labels' accuracy."""
    num_classes = probs.shape[1]
    predicted = np.bincount(probs.argmax(1), minlength=num_classes)
    chosen = np.array([p.label for p in selected], dtype=np.int64)
    per_class = dict(
        predicted=predicted.tolist(),
        selected=np.bincount(chosen, minlength=num_classes).tolist(),
        threshold=[None if np.isinf(t) else float(t) for t in thresholds])
    summary = dict(
        samples=len(ids), selected=len(selected), per_class=per_class)
    if labels is not None and len(selected):
        truth = dict(zip(ids, labels))
        known = [(p.label, truth[p.id]) for p in selected if truth[p.id] >= 0]
        if known:
            pseudo, true = np.array(known).T
            correct = np.bincount(
                pseudo[pseudo == true], minlength=num_classes)
            counts = np.bincount(pseudo, minlength=num_classes)
            summary['accuracy'] = float((pseudo == true).mean())
            summary['labelled'] = len(known)
            per_class['accuracy'] = [
                float(k / n) if n else None for k, n in zip(correct, counts)
            ]
    return summary


def _check_selected(selected: Sequence[PseudoLabel], known: Collection[str],
                    not_known: str, train: Iterable[str],
                    in_train: str) -> None:
    """Every pseudo-labelled sample must be among ``known`` and none among
    the training samples; the messages start with ``not_known`` and
    ``in_train``."""
    missing = [p.id for p in selected if p.id not in known]
    if missing:
        raise ValueError(f'{not_known}: {some_ids(missing, count=True)}')
    overlap = sorted(set(train) & {p.id for p in selected}, key=natural_key)
    if overlap:
        raise ValueError(f'{in_train}: {some_ids(overlap, count=True)}')


def write_pose_pseudo_annotations(ann_file: str,
                                  selected: Sequence[PseudoLabel],
                                  out_file: str,
                                  train_split: str = 'train',
                                  split: str = 'train_pseudo') -> int:
    """A pose annotation pickle to train on: the train split plus the
    pseudo-labelled samples, under the split ``split``.

    The file holds only that split and its annotations; a pseudo-labelled
    annotation gets the pseudo label as ``label`` and its confidence as
    ``pseudo_confidence`` (its original label, hidden or not, is not
    kept: nothing of the unlabelled split's truth reaches training).

    Returns:
        int: The number of training samples written.
    """
    data, train = read_pose_split(ann_file, train_split)
    by_id = {str(a['frame_dir']): a for a in data['annotations']}
    _check_selected(
        selected, by_id,
        f'{ann_file}: pseudo-labelled samples not in the annotations', train,
        f'{ann_file}: pseudo-labelled samples are in the {train_split!r} '
        'split already')
    annotations = [by_id[i] for i in train if i in by_id]
    for p in selected:
        ann = copy.copy(by_id[p.id])
        ann['label'] = p.label
        ann['pseudo_confidence'] = p.confidence
        annotations.append(ann)
    ids = [str(a['frame_dir']) for a in annotations]
    with atomic_open(out_file, 'wb') as f:
        pickle.dump(
            dict(split={split: ids}, annotations=annotations),
            f,
            protocol=pickle.HIGHEST_PROTOCOL)
    return len(ids)


def write_list_pseudo_annotations(train_list: str, unlabelled_list: str,
                                  selected: Sequence[PseudoLabel],
                                  out_file: str) -> int:
    """A video list to train on: the training list's lines plus the
    pseudo-labelled samples' lines of the unlabelled list, with their
    label set. Segment and clip lists are both kept as they are.

    Returns:
        int: The number of training samples written.
    """
    train_format, train = read_video_list(train_list)
    other_format, other = read_video_list(unlabelled_list)
    if train_format != other_format:
        raise ValueError(f'{train_list} is a {train_format} list but '
                         f'{unlabelled_list} a {other_format} list')
    by_id = {e.sample_id: e for e in other}
    _check_selected(
        selected, by_id,
        f'{unlabelled_list}: pseudo-labelled samples not in the list',
        [e.sample_id for e in train],
        f'{train_list}: pseudo-labelled samples are training samples already')

    def line(entry, label):
        if train_format == 'segment':
            return (f'{entry.sample_id} {entry.video} {entry.start} '
                    f'{entry.end} {label}')
        return f'{entry.video} {label}'

    lines = [line(e, e.label) for e in train]
    lines += [line(by_id[p.id], p.label) for p in selected]
    with atomic_open(out_file, 'w') as f:
        f.write('\n'.join(lines) + '\n')
    return len(lines)
