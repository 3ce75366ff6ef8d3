"""Micro-gesture segments from per-frame class posteriors.

:func:`spot_segments` turns the ``(T, C)`` posteriors of
:func:`~mmmg.spotting.frame_scores.windows_to_frame_scores` into segments:

1. **smoothing**: a centred moving average of each class's posterior over
   ``smoothing_s`` seconds (frames covered by no window are left out of the
   average and never belong to a segment);
2. **background**: frames where the smoothed posterior of the non-MG class
   (``background_class``) reaches ``background_threshold`` belong to no
   micro-gesture; that class itself is never emitted;
3. **hysteresis** per class: a segment is a run of frames whose score stays
   at or above ``low`` and reaches ``high`` somewhere;
4. same-class segments at most ``merge_gap_s`` apart are joined (unless a
   blocked frame lies between), segments longer than ``max_duration_s`` are
   split at their weakest frame, shorter than ``min_duration_s`` dropped;
5. **temporal NMS**: greedily by score, a segment whose temporal IoU with a
   kept one exceeds ``nms_iou`` is dropped.

A segment's score is the mean smoothed posterior of its class over its
frames. :func:`naive_segments` is the baseline it is measured against.
"""
from dataclasses import asdict, dataclass
from typing import List, Optional, Sequence, Tuple, Union

import numpy as np

# Every parameter of spot_segments with its default; times in seconds,
# turned into frames with the video's fps.
SPOTTING_DEFAULTS = dict(
    # Centred moving average of each class's posterior; 0 turns it off.
    smoothing_s=0.4,
    # Hysteresis: a segment needs one frame >= high and extends while the
    # score stays >= low.
    high=0.5,
    low=0.3,
    # Per-class overrides {class name: (high, low)}, e.g. for rare classes
    # whose posteriors stay low.
    class_thresholds={},
    # Frames whose smoothed non-MG posterior reaches this are no MG.
    background_threshold=0.5,
    # Same-class segments separated by at most this gap are joined.
    merge_gap_s=0.2,
    # Shorter segments are dropped.
    min_duration_s=0.2,
    # Longer segments are split at their weakest frame; None: no limit.
    max_duration_s=20.0,
    # Temporal NMS: drop a segment overlapping a stronger kept one by more
    # than this temporal IoU.
    nms_iou=0.3,
    # NMS across classes (one micro-gesture at a time) or within a class.
    nms_class_agnostic=True,
)


@dataclass(frozen=True)
class Segment:
    """A labelled span of frames ``[start, end)`` (end exclusive)."""
    label: str
    start: int
    end: int
    score: float = 1.0

    def __post_init__(self):
        if not 0 <= self.start < self.end:
            raise ValueError(f'segment {self.label!r} {self.start}-'
                             f'{self.end}: need 0 <= start < end '
                             '(end exclusive)')

    @property
    def duration(self) -> int:
        return self.end - self.start

    def to_dict(self) -> dict:
        return asdict(self)


ClassRef = Union[str, int, None]


def class_index(classes: Sequence[str], cls: ClassRef) -> Optional[int]:
    """Index of ``cls`` (a name or an index) in ``classes``; None stays
    None."""
    if cls is None:
        return None
    if isinstance(cls, (int, np.integer)) and not isinstance(cls, bool):
        if not 0 <= cls < len(classes):
            raise ValueError(f'class index {cls} is out of range for '
                             f'{len(classes)} classes')
        return int(cls)
    if cls not in classes:
        raise ValueError(f'class {cls!r} is not in the class list '
                         f'({len(classes)} classes: {list(classes)[:5]} ...)')
    return list(classes).index(cls)


def spotting_params(**params) -> dict:
    """:data:`SPOTTING_DEFAULTS` updated with ``params``, checked."""
    unknown = sorted(set(params) - set(SPOTTING_DEFAULTS))
    if unknown:
        raise ValueError(f'unknown spotting parameter(s) {unknown}; known: '
                         f'{sorted(SPOTTING_DEFAULTS)}')
    merged = {**SPOTTING_DEFAULTS, **params}
    for name in ('smoothing_s', 'merge_gap_s', 'min_duration_s'):
        if merged[name] < 0:
            raise ValueError(f'{name} must be >= 0, got {merged[name]}')
    if merged['max_duration_s'] is not None and (merged['max_duration_s']
                                                 <= merged['min_duration_s']):
        raise ValueError('max_duration_s must be None or above '
                         f'min_duration_s, got {merged["max_duration_s"]}')
    if not 0 <= merged['nms_iou'] <= 1:
        raise ValueError(f'nms_iou must be in [0, 1], got {merged["nms_iou"]}')
    _check_thresholds('', merged['high'], merged['low'])
    for name, pair in merged['class_thresholds'].items():
        if len(pair) != 2:
            raise ValueError(f'class_thresholds[{name!r}] must be (high, '
                             f'low), got {pair!r}')
        _check_thresholds(f'class_thresholds[{name!r}]: ', *pair)
    return merged


def _check_thresholds(where: str, high: float, low: float) -> None:
    if not 0 <= low <= high:
        raise ValueError(f'{where}need 0 <= low <= high, got high={high} '
                         f'low={low}')


def smooth_scores(scores: np.ndarray, width: int) -> np.ndarray:
    """Centred moving average over ``width`` frames along axis 0, ignoring
    NaN entries; NaN where a window holds no number."""
    if width <= 1:
        return scores.copy()
    valid = ~np.isnan(scores)
    zero = np.zeros((1, ) + scores.shape[1:])
    sums = np.concatenate([zero, np.cumsum(np.where(valid, scores, 0), 0)])
    counts = np.concatenate([zero, np.cumsum(valid, 0)])
    t = np.arange(len(scores))
    lo = np.clip(t - width // 2, 0, len(scores))
    hi = np.clip(t - width // 2 + width, 0, len(scores))
    total = sums[hi] - sums[lo]
    count = counts[hi] - counts[lo]
    with np.errstate(invalid='ignore', divide='ignore'):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def _runs(mask: np.ndarray) -> List[Tuple[int, int]]:
    """``[start, end)`` of each run of True."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)))


def temporal_iou(a, b) -> np.ndarray:
    """Temporal IoU of every range of ``a`` with every range of ``b``.

    Args:
        a (array): ``(N, 2)`` frame ranges ``[start, end)``.
        b (array): ``(M, 2)`` frame ranges.

    Returns:
        np.ndarray: ``(N, M)`` intersection over union.
    """
    a = np.asarray(a, dtype=np.float64).reshape(-1, 2)
    b = np.asarray(b, dtype=np.float64).reshape(-1, 2)
    inter = np.clip(
        np.minimum(a[:, None, 1], b[None, :, 1]) -
        np.maximum(a[:, None, 0], b[None, :, 0]), 0, None)
    union = ((a[:, 1] - a[:, 0])[:, None] + (b[:, 1] - b[:, 0])[None] - inter)
    return inter / np.maximum(union, 1e-12)


def _split_long(start: int, end: int, score: np.ndarray, max_len: int,
                min_len: int) -> List[Tuple[int, int]]:
    """Split ``[start, end)`` at its weakest frame until no piece is longer
    than ``max_len``; each cut leaves ``min_len`` frames on both sides."""
    if end - start <= max_len:
        return [(start, end)]
    lo, hi = start + min_len, end - min_len
    cut = (
        lo + int(np.argmin(score[lo:hi])) if hi > lo else (start + end) // 2)
    return (_split_long(start, cut, score, max_len, min_len) +
            _split_long(cut, end, score, max_len, min_len))


def _frames(seconds: Optional[float], fps: float) -> Optional[int]:
    return None if seconds is None else int(round(seconds * fps))


def spot_segments(frame_scores,
                  classes: Sequence[str],
                  background_class: ClassRef = None,
                  fps: float = 30.0,
                  **params) -> List[Segment]:
    """Micro-gesture segments of one video (see the module docstring).

    Args:
        frame_scores (array): ``(T, C)`` per-frame class posteriors; NaN
            rows for frames no window covered.
        classes (Sequence[str]): The ``C`` class names.
        background_class (str | int | None): The non-micro-gesture class
            (name or index): it blocks frames and is never emitted. None:
            every class is a micro-gesture.
        fps (float): Frame rate, to turn the seconds of ``params`` into
            frames.
        **params: Overrides of :data:`SPOTTING_DEFAULTS`.

    Returns:
        list[Segment]: Segments sorted by start frame.
    """
    scores = np.asarray(frame_scores, dtype=np.float64)
    if scores.ndim != 2 or scores.shape[1] != len(classes):
        raise ValueError(f'frame_scores must be (T, {len(classes)}) for '
                         f'{len(classes)} classes, got {scores.shape}')
    if not fps > 0:
        raise ValueError(f'fps must be > 0, got {fps}')
    p = spotting_params(**params)
    for name in p['class_thresholds']:
        class_index(classes, name)
    background = class_index(classes, background_class)
    uncovered = np.isnan(scores)
    smoothed = smooth_scores(scores, max(1, _frames(p['smoothing_s'], fps)))
    smoothed[uncovered] = np.nan
    blocked = uncovered.all(axis=1)
    if background is not None:
        with np.errstate(invalid='ignore'):
            blocked |= smoothed[:, background] >= p['background_threshold']
    merge_gap = _frames(p['merge_gap_s'], fps)
    min_len = max(1, _frames(p['min_duration_s'], fps))
    max_len = _frames(p['max_duration_s'], fps)

    candidates = []
    for c, name in enumerate(classes):
        if c == background:
            continue
        high, low = p['class_thresholds'].get(name, (p['high'], p['low']))
        active = ~(blocked | uncovered[:, c])
        score = np.where(active, smoothed[:, c], 0.)
        runs = [(s, e) for s, e in _runs(active & (score >= low))
                if score[s:e].max() >= high]
        merged = []
        for s, e in runs:
            if (merged and s - merged[-1][1] <= merge_gap
                    and not blocked[merged[-1][1]:s].any()):
                merged[-1] = (merged[-1][0], e)
            else:
                merged.append((s, e))
        for s, e in merged:
            pieces = ([(s, e)] if max_len is None else _split_long(
                s, e, score, max_len, min_len))
            for ps, pe in pieces:
                if pe - ps >= min_len:
                    candidates.append(
                        Segment(name, int(ps), int(pe),
                                float(score[ps:pe].mean())))
    return sorted(
        _nms(candidates, p['nms_iou'], p['nms_class_agnostic']),
        key=lambda seg: (seg.start, seg.end, seg.label))


def _nms(segments: List[Segment], iou: float,
         class_agnostic: bool) -> List[Segment]:
    kept: List[Segment] = []
    for seg in sorted(segments, key=lambda s: -s.score):
        rivals = [(k.start, k.end) for k in kept
                  if class_agnostic or k.label == seg.label]
        if not rivals or temporal_iou([(seg.start, seg.end)],
                                      rivals).max() <= iou:
            kept.append(seg)
    return kept


def naive_segments(window_scores,
                   starts,
                   ends,
                   classes: Sequence[str],
                   background_class: ClassRef = None) -> List[Segment]:
    """The baseline: each fixed window labelled with its argmax class.

    Windows are sorted by start and cut so that each ends where the next
    begins; adjacent windows of one class form one segment (scored with the
    frame-weighted mean of their top probability); windows whose argmax is
    ``background_class`` give nothing. No smoothing, no thresholds: feed it
    non-overlapping windows (stride = window length).

    Returns:
        list[Segment]: Segments sorted by start frame.
    """
    scores = np.asarray(window_scores, dtype=np.float64)
    starts = np.asarray(starts, dtype=np.int64)
    ends = np.asarray(ends, dtype=np.int64)
    if scores.ndim != 2 or scores.shape[1] != len(classes):
        raise ValueError(f'window_scores must be (W, {len(classes)}), got '
                         f'{scores.shape}')
    if starts.shape != (len(scores), ) or ends.shape != (len(scores), ):
        raise ValueError('starts and ends must hold one frame per window')
    background = class_index(classes, background_class)
    order = np.argsort(starts, kind='stable')
    starts, ends, scores = starts[order], ends[order], scores[order]
    cut_ends = np.minimum(ends, np.append(starts[1:], np.iinfo(np.int64).max))
    labels = scores.argmax(axis=1)
    runs: List[dict] = []
    for start, end, label, row in zip(starts, cut_ends, labels, scores):
        if end <= start or label == background:
            continue
        if runs and runs[-1]['label'] == label and runs[-1]['end'] == start:
            runs[-1]['end'] = int(end)
            runs[-1]['mass'] += row[label] * (end - start)
        else:
            runs.append(
                dict(
                    label=label,
                    start=int(start),
                    end=int(end),
                    mass=row[label] * (end - start)))
    return [
        Segment(classes[r['label']], r['start'], r['end'],
                float(r['mass'] / (r['end'] - r['start']))) for r in runs
    ]


__all__ = [
    'SPOTTING_DEFAULTS', 'Segment', 'class_index', 'spotting_params',
    'smooth_scores', 'temporal_iou', 'spot_segments', 'naive_segments'
]
