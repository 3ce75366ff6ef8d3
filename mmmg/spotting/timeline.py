"""A timeline picture of spotted micro-gestures.

One row per class that occurs in the predictions or the ground truth (in
class-list order, top down); in each row the predictions are drawn in the
upper lane in the class's colour and the ground truth in the lower lane in
:data:`GT_COLOR`. With ``frame_scores`` a heat strip above shows the top
micro-gesture posterior of every frame (grey where no window covered it).
matplotlib is imported when a picture is drawn, with the Agg canvas.
"""
from typing import Optional, Sequence

import numpy as np

from mmmg.utils.io import atomic_open
from .segments import ClassRef, Segment, class_index

GT_COLOR = '#404040'
# Prediction lane of class i: PALETTE[i % len(PALETTE)] (tab10 without its
# grey, which is close to GT_COLOR).
PALETTE = ('#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b',
           '#e377c2', '#bcbd22', '#17becf')
DPI = 100


def class_color(classes: Sequence[str], label: str) -> str:
    """Colour of a class's prediction lane."""
    return PALETTE[list(classes).index(label) % len(PALETTE)]


def plot_timeline(path: str,
                  segments: Sequence[Segment],
                  classes: Sequence[str],
                  num_frames: int,
                  fps: float,
                  ground_truth: Optional[Sequence[Segment]] = None,
                  frame_scores=None,
                  background_class: ClassRef = None,
                  title: Optional[str] = None) -> None:
    """Draw the timeline of one video to a PNG at ``path`` (written through
    a temporary file).

    Args:
        path (str): Output ``.png``.
        segments (Sequence[Segment]): Predicted segments.
        classes (Sequence[str]): Class names; segment labels must be in it.
        num_frames (int): Frames of the video (the time axis).
        fps (float): Frame rate; the axis is in seconds.
        ground_truth (Sequence[Segment] | None): Drawn in the lower lanes.
        frame_scores (array | None): ``(num_frames, C)`` per-frame
            posteriors for the heat strip.
        background_class (str | int | None): Left out of the heat strip.
        title (str | None): Figure title.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    ground_truth = list(ground_truth or [])
    for seg in list(segments) + ground_truth:
        if seg.label not in classes:
            raise ValueError(f'{path}: segment label {seg.label!r} is not '
                             'in the class list')
    if num_frames <= 0 or not fps > 0:
        raise ValueError(f'{path}: need num_frames > 0 and fps > 0, got '
                         f'{num_frames} and {fps}')
    shown = [
        c for c in classes
        if any(s.label == c for s in list(segments) + ground_truth)
    ]
    duration = num_frames / fps
    heat = frame_scores is not None
    lanes_height = 0.45 * max(len(shown), 1)
    height = 1.0 + lanes_height + (0.4 if heat else 0.)
    width = float(np.clip(6 + duration / 20, 8, 20))
    fig = Figure(figsize=(width, height), dpi=DPI, layout='constrained')
    FigureCanvasAgg(fig)
    if heat:
        grid = fig.add_gridspec(2, 1, height_ratios=[0.3, lanes_height])
        ax_heat = fig.add_subplot(grid[0])
        ax = fig.add_subplot(grid[1], sharex=ax_heat)
        _heat_strip(ax_heat, frame_scores, classes, background_class,
                    num_frames, fps)
    else:
        ax = fig.add_subplot(1, 1, 1)
    rows = {name: len(shown) - 1 - i for i, name in enumerate(shown)}
    for seg_list, lane, color in ((segments, 0.5, None), (ground_truth, 0.1,
                                                          GT_COLOR)):
        for seg in seg_list:
            ax.broken_barh([(seg.start / fps, seg.duration / fps)],
                           (rows[seg.label] + lane, 0.4),
                           facecolors=color or class_color(classes, seg.label),
                           edgecolors='none')
    ax.set_xlim(0, duration)
    ax.set_ylim(0, max(len(shown), 1))
    ax.set_yticks([rows[name] + 0.5 for name in shown])
    ax.set_yticklabels(shown, fontsize=8)
    lanes = 'upper lanes: prediction'
    if ground_truth:
        lanes += ', lower lanes: ground truth'
    ax.set_xlabel(f'time (s); {lanes}')
    ax.grid(axis='x', alpha=0.3)
    ax.set_axisbelow(True)
    if not shown:
        ax.text(duration / 2, 0.5, 'no segments', ha='center', va='center')
    if title:
        fig.suptitle(title, fontsize=10)
    with atomic_open(path, 'wb') as f:
        fig.savefig(f, format='png')


def _heat_strip(ax, frame_scores, classes, background_class, num_frames,
                fps) -> None:
    scores = np.asarray(frame_scores, dtype=np.float64)
    if scores.shape != (num_frames, len(classes)):
        raise ValueError(f'frame_scores must be ({num_frames}, '
                         f'{len(classes)}), got {scores.shape}')
    background = class_index(classes, background_class)
    keep = [c for c in range(len(classes)) if c != background]
    top = scores[:, keep].max(axis=1) if keep else np.zeros(num_frames)
    ax.set_facecolor('#bbbbbb')
    ax.imshow(
        np.ma.masked_invalid(top[None]),
        aspect='auto',
        cmap='viridis',
        vmin=0,
        vmax=1,
        extent=(0, num_frames / fps, 0, 1),
        interpolation='nearest')
    ax.set_yticks([0.5])
    ax.set_yticklabels(['top MG score'], fontsize=8)
    ax.tick_params(axis='x', labelbottom=False)
