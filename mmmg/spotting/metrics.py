"""Spotting metrics: segment precision / recall / F1 at temporal IoU
thresholds, overall and per class, and frame-level accuracy.

A prediction is a true positive when it is matched to a ground-truth segment
of the same class with temporal IoU >= the threshold. Matching is greedy and
one-to-one: predictions in descending score order (file order on ties) each
take the still unmatched same-class ground-truth segment of highest IoU.
Unmatched predictions are false positives, unmatched ground truth false
negatives. ``F1 = 2 TP / (2 TP + FP + FN)`` (0 when all three are 0).
Among predictions of equal score (a label table carries no scores) the one
with the higher best IoU against same-class ground truth goes first.
"""
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from .segments import Segment, temporal_iou

IOU_THRESHOLDS = (0.3, 0.5, 0.7)


def match_segments(pred: Sequence[Segment], gt: Sequence[Segment],
                   iou_threshold: float) -> List[Tuple[int, int]]:
    """``(prediction index, ground-truth index)`` of each match (see the
    module docstring)."""
    if not pred or not gt:
        return []
    iou = temporal_iou([(p.start, p.end) for p in pred],
                       [(g.start, g.end) for g in gt])
    same = np.array([[p.label == g.label for g in gt] for p in pred])
    free = np.ones(len(gt), dtype=bool)
    matches = []
    best = np.where(same, iou, 0.).max(axis=1)
    for i in sorted(
            range(len(pred)), key=lambda i: (-pred[i].score, -best[i])):
        ok = same[i] & free & (iou[i] >= iou_threshold)
        if ok.any():
            j = int(np.argmax(np.where(ok, iou[i], -1.)))
            free[j] = False
            matches.append((i, j))
    return matches


def prf(tp: int, fp: int, fn: int) -> Dict[str, float]:
    """Counts with precision, recall and F1 (0 where undefined)."""
    return dict(
        tp=int(tp),
        fp=int(fp),
        fn=int(fn),
        precision=tp / (tp + fp) if tp + fp else 0.,
        recall=tp / (tp + fn) if tp + fn else 0.,
        f1=2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.)


def frame_accuracy(pred: Sequence[Segment],
                   gt: Sequence[Segment],
                   num_frames: Optional[int] = None) -> Tuple[int, int]:
    """``(correct frames, frames)``: a frame is correct when the set of
    labels of the predictions covering it equals that of the ground truth
    (both empty: no micro-gesture). The frames are ``0`` to
    ``num_frames`` (default 0) or to the last frame any segment covers,
    whichever is later."""
    segments = list(pred) + list(gt)
    num_frames = max([num_frames or 0] + [s.end for s in segments])
    labels = sorted({s.label for s in segments})
    masks = []
    for group in (pred, gt):
        mask = np.zeros((num_frames, len(labels)), dtype=bool)
        for s in group:
            mask[s.start:s.end, labels.index(s.label)] = True
        masks.append(mask)
    return int((masks[0] == masks[1]).all(axis=1).sum()), int(num_frames)


def threshold_key(iou: float) -> str:
    """Report key of an IoU threshold: ``0.5`` -> ``'0.5'``."""
    return f'{iou:g}'


def evaluate_spotting(videos: Mapping[str, Tuple[Sequence[Segment],
                                                 Sequence[Segment]]],
                      iou_thresholds: Sequence[float] = IOU_THRESHOLDS,
                      background_class: Optional[str] = None,
                      num_frames: Optional[Mapping[str, int]] = None) -> dict:
    """Evaluate predictions against ground truth, video by video.

    Args:
        videos (Mapping): ``{video id: (predicted, ground-truth segments)}``.
        iou_thresholds (Sequence[float]): Temporal IoU thresholds.
        background_class (str | None): Segments of this class (the non-MG
            class, which the spotter never emits) are left out of both
            sides and counted in ``ignored_background``.
        num_frames (Mapping[str, int | None] | None): Frames per video for
            frame accuracy (see :func:`frame_accuracy`); default: up to the
            last frame any segment covers.

    Returns:
        dict: ``iou_thresholds``, ``background_class``, ``videos``,
        ``gt_segments``, ``pred_segments``, ``ignored_background``
        (``{'gt', 'pred'}``), ``overall`` and ``macro_f1`` keyed by
        threshold (``'0.5'``; ``overall`` holds ``tp, fp, fn, precision,
        recall, f1``; macro-F1 averages the classes with ground truth),
        ``per_class`` (``{class: {'gt', 'pred', '0.5': {...}}}``),
        ``frame_accuracy`` and ``per_video``.
    """
    keys = [threshold_key(t) for t in iou_thresholds]
    counts: Dict[str, Dict[str, np.ndarray]] = {}
    report = dict(
        iou_thresholds=[float(t) for t in iou_thresholds],
        background_class=background_class,
        videos=len(videos),
        gt_segments=0,
        pred_segments=0,
        ignored_background=dict(gt=0, pred=0),
        per_video={})
    correct_frames = total_frames = 0
    for vid in sorted(videos):
        pred, gt = videos[vid]
        for side, segs in (('pred', pred), ('gt', gt)):
            report['ignored_background'][side] += sum(
                s.label == background_class for s in segs)
        pred = [s for s in pred if s.label != background_class]
        gt = [s for s in gt if s.label != background_class]
        report['gt_segments'] += len(gt)
        report['pred_segments'] += len(pred)
        video = dict(gt=len(gt), pred=len(pred), f1={})
        for key, thr in zip(keys, iou_thresholds):
            matches = match_segments(pred, gt, thr)
            tp_pred = {i for i, _ in matches}
            tp_gt = {j for _, j in matches}
            for idx, s in enumerate(pred):
                c = counts.setdefault(s.label, {}).setdefault(
                    key, np.zeros(3, dtype=np.int64))
                c[0 if idx in tp_pred else 1] += 1
            for idx, s in enumerate(gt):
                if idx not in tp_gt:
                    counts.setdefault(s.label, {}).setdefault(
                        key, np.zeros(3, dtype=np.int64))[2] += 1
            video['f1'][key] = prf(
                len(matches),
                len(pred) - len(matches),
                len(gt) - len(matches))['f1']
        correct, frames = frame_accuracy(
            pred, gt, None if num_frames is None else num_frames.get(vid))
        video['frames'] = frames
        video['frame_accuracy'] = correct / frames if frames else 1.
        correct_frames += correct
        total_frames += frames
        report['per_video'][vid] = video

    zero = np.zeros(3, dtype=np.int64)
    gt_per_class = {}
    for vid in videos:
        for s in videos[vid][1]:
            if s.label != background_class:
                gt_per_class[s.label] = gt_per_class.get(s.label, 0) + 1
    report['overall'] = {}
    report['macro_f1'] = {}
    report['per_class'] = {}
    for key in keys:
        total = sum((c.get(key, zero) for c in counts.values()), zero)
        report['overall'][key] = prf(*total)
        f1s = [
            prf(*counts[name].get(key, zero))['f1'] for name in gt_per_class
        ]
        report['macro_f1'][key] = float(np.mean(f1s)) if f1s else 0.
    for name in sorted(counts):
        row = {key: prf(*counts[name].get(key, zero)) for key in keys}
        any_key = keys[0]
        row['gt'] = int(row[any_key]['tp'] + row[any_key]['fn'])
        row['pred'] = int(row[any_key]['tp'] + row[any_key]['fp'])
        report['per_class'][name] = row
    report['frame_accuracy'] = (
        correct_frames / total_frames if total_frames else 1.)
    return report


def format_report(report: dict, per_class_iou: Optional[float] = 0.5) -> str:
    """A plain-text table of a :func:`evaluate_spotting` report: overall
    rows per threshold, then (``per_class_iou`` not None) one row per class
    at that threshold."""
    lines = [
        f'{report["videos"]} videos, {report["gt_segments"]} ground-truth '
        f'and {report["pred_segments"]} predicted segments'
    ]
    ignored = report['ignored_background']
    if report['background_class'] is not None:
        lines[0] += (f' ({ignored["gt"]} / {ignored["pred"]} '
                     f'{report["background_class"]!r} left out)')
    head = (f'{"":<24}{"tIoU":>5}{"TP":>6}{"FP":>6}{"FN":>6}'
            f'{"precision":>10}{"recall":>8}{"F1":>8}')
    lines.append(head)

    def row(name, key, c):
        return (f'{name:<24}{key:>5}{c["tp"]:>6}{c["fp"]:>6}{c["fn"]:>6}'
                f'{c["precision"]:>10.3f}{c["recall"]:>8.3f}'
                f'{c["f1"]:>8.3f}')

    for key, c in report['overall'].items():
        lines.append(
            row('overall', key, c) +
            f'  macro-F1 {report["macro_f1"][key]:.3f}')
    if per_class_iou is not None:
        key = threshold_key(per_class_iou)
        for name, c in report['per_class'].items():
            if key in c:
                lines.append(row(name[:23], key, c[key]))
    lines.append(f'frame accuracy {report["frame_accuracy"]:.3f}')
    return '\n'.join(lines)
