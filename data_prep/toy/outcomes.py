"""Win/lose labels for the toy iMiGUE videos, for the emotion protocol.

The toy data has no match outcomes, so this draws a proxy that clip
features can reveal: a video counts as a loss when the share of its clips
whose class is in the lower half of the classes present is above the
median share over all videos (ties broken by video name). Half of the
videos are losses, and the label depends on the gestures, as the paper
argues real outcomes do.
"""
import csv
from typing import Dict

import numpy as np

from mmmg.datasets.pose_dataset import load_pose_annotations
from mmmg.utils.io import atomic_open
from mmmg.utils.sorting import natural_key


def toy_outcomes(ann_file: str) -> Dict[str, int]:
    """``{video: 1 (win) or 0 (lose)}`` for every video of an annotation
    pickle written by ``data_prep/imigue_to_mmaction.py``."""
    annotations = load_pose_annotations(ann_file)
    labels = sorted({a['label'] for a in annotations if a['label'] >= 0})
    if len(labels) < 2:
        raise ValueError(f'{ann_file}: needs at least two classes')
    low = set(labels[:len(labels) // 2])
    clips: Dict[str, list] = {}
    for a in annotations:
        if a['label'] >= 0:
            clips.setdefault(str(a['video']), []).append(a['label'] in low)
    videos = sorted(clips, key=natural_key)
    share = np.array([np.mean(clips[v]) for v in videos])
    # A stable sort by share puts exactly the upper half first as losses.
    order = np.argsort(-share, kind='stable')
    outcome = {v: 1 for v in videos}
    for i in order[:len(videos) // 2]:
        outcome[videos[i]] = 0
    return outcome


def write_outcomes(outcomes: Dict[str, int], path: str) -> None:
    """Write a ``video,outcome`` CSV atomically."""
    with atomic_open(path, 'w') as f:
        w = csv.writer(f)
        w.writerow(['video', 'outcome'])
        for video in sorted(outcomes, key=natural_key):
            w.writerow([video, 'win' if outcomes[video] else 'lose'])
