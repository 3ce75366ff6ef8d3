"""Clip features grouped into padded per-video bags.

Video labels come from a CSV with a header ``video,outcome``; an outcome
is ``win``/``lose`` (or ``1``/``0``; win is class 1, the positive emotion).
"""
import csv
from dataclasses import dataclass
from typing import Dict, List, Sequence

import numpy as np

from mmmg.utils.sorting import natural_key

OUTCOMES = {'win': 1, 'lose': 0, '1': 1, '0': 0}


@dataclass
class VideoBags:
    """``features [B, K, D]``, ``mask [B, K]`` (True = a real clip),
    ``labels [B]`` and the ``videos`` they belong to."""
    features: np.ndarray
    mask: np.ndarray
    labels: np.ndarray
    videos: List[str]


def read_video_labels(path: str) -> Dict[str, int]:
    """``{video: 1 (win) or 0 (lose)}`` from a label CSV."""
    labels = {}
    with open(path, newline='') as f:
        rows = csv.reader(f)
        header = next(rows, None)
        if not header or [h.strip()
                          for h in header[:2]] != ['video', 'outcome']:
            raise ValueError(f'{path}: the first line must be the header '
                             f'`video,outcome`, got {header}')
        for line, row in enumerate(rows, start=2):
            if not row:
                continue
            if len(row) < 2 or row[1].strip().lower() not in OUTCOMES:
                raise ValueError(f'{path}, line {line}: expected '
                                 f'`<video>,win|lose`, got {row}')
            video = row[0].strip()
            if video in labels:
                raise ValueError(f'{path}, line {line}: video {video!r} '
                                 'is listed twice')
            labels[video] = OUTCOMES[row[1].strip().lower()]
    return labels


def join_streams(streams: Sequence[Dict[str, np.ndarray]]):
    """Concatenate several feature files' features of the same clips.

    Returns ``(features [N, sum D], sample_ids, videos)`` over the clips
    every stream has, in natural id order.
    """
    common = set(streams[0]['sample_ids'].tolist())
    for s in streams[1:]:
        common &= set(s['sample_ids'].tolist())
    ids = sorted(common, key=natural_key)
    if not ids:
        raise ValueError('the feature files share no sample id')
    parts, videos = [], None
    for s in streams:
        pos = {sid: i for i, sid in enumerate(s['sample_ids'].tolist())}
        rows = [pos[i] for i in ids]
        parts.append(s['features'][rows])
        videos = s['videos'][rows] if videos is None else videos
    return np.concatenate(parts, axis=1), ids, videos.tolist()


def build_bags(streams: Sequence[Dict[str, np.ndarray]],
               video_labels: Dict[str, int],
               max_clips: int = 64,
               strict: bool = False) -> VideoBags:
    """One bag per labelled video, clips in temporal (id) order.

    A video with more than ``max_clips`` clips keeps ``max_clips`` spread
    evenly over it. Videos without a label are left out (an error in strict
    mode), as are labels of videos without clips.
    """
    features, ids, videos = join_streams(streams)
    by_video: Dict[str, List[int]] = {}
    for row, video in enumerate(videos):
        by_video.setdefault(video, []).append(row)
    unlabelled = sorted(set(by_video) - set(video_labels))
    if unlabelled and strict:
        raise KeyError(f'{len(unlabelled)} videos have no outcome label, '
                       f'e.g. {unlabelled[:5]}')
    names = sorted(set(by_video) & set(video_labels), key=natural_key)
    if not names:
        raise ValueError('no video has both clips and an outcome label')
    dims = features.shape[1]
    out = np.zeros((len(names), max_clips, dims), np.float32)
    mask = np.zeros((len(names), max_clips), bool)
    for b, name in enumerate(names):
        rows = by_video[name]
        if len(rows) > max_clips:
            pick = np.linspace(0, len(rows) - 1, max_clips).round()
            rows = [rows[int(i)] for i in pick]
        out[b, :len(rows)] = features[rows]
        mask[b, :len(rows)] = True
    labels = np.asarray([video_labels[n] for n in names], np.int64)
    return VideoBags(out, mask, labels, names)
