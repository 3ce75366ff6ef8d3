"""From a long video to its micro-gesture segments and the files that show
them: the per-video work of ``tools/spot_gestures.py``.

:func:`spot_video` scores the video with sliding windows
(:func:`~mmmg.apis.scoring.score_video`), turns the fused window scores
into per-frame posteriors and segments (:mod:`mmmg.spotting`) and times
each step. :func:`write_outputs` writes, each file atomically:

- ``<video>_overlay.mp4`` (optional): the video with the skeleton, the
  current label and a score bar;
- ``<video>_timeline.png``: classes over time, the ground truth beside;
- ``<video>_pred.csv``: the official ``_label.csv`` layout (raw MiGA class,
  start, end inclusive; no header);
- ``<video>_scores.json``, last: window bounds and scores per stream and
  fused, the segments, the spotting parameters and the timings. Its
  presence marks the video done (resume).
"""
import json
import os
import os.path as osp
import time
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence

import numpy as np

from mmmg.spotting import MIGA_NON_MG_CLASS
from mmmg.utils.io import atomic_open, atomic_path
from .scoring import PoseTrack, VideoScores, score_video
from .streams import StreamSet

OUTPUT_SUFFIXES = dict(
    csv='_pred.csv',
    png='_timeline.png',
    mp4='_overlay.mp4',
    json='_scores.json')


def output_paths(out_dir: str, stem: str, overlay: bool) -> Dict[str, str]:
    """The output files of one video, by kind."""
    return {
        kind: osp.join(out_dir, stem + suffix)
        for kind, suffix in OUTPUT_SUFFIXES.items() if kind != 'mp4' or overlay
    }


@dataclass
class SpotResult:
    """What :func:`spot_video` found in one video.

    Attributes:
        scores (VideoScores): The window scores.
        frame_scores (np.ndarray): ``[T, C]`` fused per-frame posteriors,
            NaN rows for frames no scored window covers.
        segments (list[Segment]): The spotted micro-gestures.
        params (dict): The spotting parameters used.
        background_class (str, optional): The non-MG class.
        seconds (dict): Wall time of ``pose``, ``scoring`` (``decode`` and
            ``model`` inside it) and ``spotting``.
    """
    scores: VideoScores
    frame_scores: np.ndarray
    segments: list
    params: dict
    background_class: Optional[str]
    seconds: Dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict:
        out = self.scores.to_dict()
        out.update(
            segments=[s.to_dict() for s in self.segments],
            background_class=self.background_class,
            params=self.params,
            seconds={
                k: round(float(v), 4)
                for k, v in self.seconds.items()
            })
        return out


def default_background(classes: Sequence[str]) -> Optional[str]:
    """The iMiGUE non-MG class when the streams score it, else None."""
    return MIGA_NON_MG_CLASS if MIGA_NON_MG_CLASS in classes else None


def spot_video(streams: StreamSet,
               video: Optional[str],
               pose: Optional[PoseTrack] = None,
               window=None,
               stride=None,
               batch_size: int = 8,
               min_person: float = 0.5,
               background_class: Optional[str] = None,
               params: Optional[dict] = None,
               on_frames=None,
               pose_seconds: float = 0.0) -> SpotResult:
    """Score a video and spot its micro-gestures.

    Args:
        streams, video, pose, window, stride, batch_size, min_person,
            on_frames: See :func:`~mmmg.apis.scoring.score_video`.
        background_class (str, optional): The non-MG class, never emitted.
        params (dict, optional): Overrides of
            :data:`mmmg.spotting.SPOTTING_DEFAULTS`.
        pose_seconds (float): Time spent on the pose file, for the report.
    """
    from mmmg.spotting import (SPOTTING_DEFAULTS, spot_segments,
                               windows_to_frame_scores)
    tic = time.perf_counter()
    scores = score_video(streams, video, pose, window, stride, batch_size,
                         min_person, on_frames)
    scoring = time.perf_counter() - tic
    tic = time.perf_counter()
    keep = scores.scored
    num_frames = scores.num_frames
    if keep.any():
        frame_scores = windows_to_frame_scores(
            scores.fused[keep], scores.starts[keep],
            np.minimum(scores.ends[keep], num_frames), num_frames)
    else:  # nobody in the whole video: nothing to spot
        frame_scores = np.full((num_frames, len(scores.classes)), np.nan)
    params = dict(SPOTTING_DEFAULTS, **(params or {}))
    segments = spot_segments(
        frame_scores,
        scores.classes,
        background_class=background_class,
        fps=scores.fps,
        **params)
    spotting = time.perf_counter() - tic
    seconds = dict(
        pose=pose_seconds,
        scoring=scoring,
        decode=scores.seconds.get('decode', 0.0),
        model=scores.seconds.get('model', 0.0),
        spotting=spotting)
    return SpotResult(scores, frame_scores, segments, params, background_class,
                      seconds)


# ---------------------------------------------------------------- outputs --
def _label_at(segments: Sequence, num_frames: int) -> List[Optional[int]]:
    """Index into ``segments`` of the segment covering each frame."""
    at: List[Optional[int]] = [None] * num_frames
    for k, seg in enumerate(segments):
        for t in range(seg.start, min(seg.end, num_frames)):
            at[t] = k
    return at


def _draw_frame(frame: np.ndarray, t: int, result: SpotResult,
                keypoints: Optional[np.ndarray], scores: Optional[np.ndarray],
                edges, label_at) -> np.ndarray:
    """One RGB overlay frame: skeleton, current label, score bar."""
    import cv2
    img = np.ascontiguousarray(frame)
    h, w = img.shape[:2]
    if keypoints is not None and t < len(keypoints):
        kp, sc = keypoints[t], scores[t]
        for a, b in edges:
            if sc[a] > 0 and sc[b] > 0:
                cv2.line(img, tuple(int(v) for v in kp[a]),
                         tuple(int(v) for v in kp[b]), (0, 255, 0), 1,
                         cv2.LINE_AA)
        for (x, y), s in zip(kp, sc):
            if s > 0:
                cv2.circle(img, (int(x), int(y)), 2, (255, 80, 0), -1)
    k = label_at[t] if t < len(label_at) else None
    label = '-' if k is None else result.segments[k].label
    scale = max(0.45, h / 360)
    cv2.putText(img, label, (6, int(22 * scale) + 4), cv2.FONT_HERSHEY_SIMPLEX,
                scale, (255, 255, 255), 2, cv2.LINE_AA)
    cv2.putText(img, label, (6, int(22 * scale) + 4), cv2.FONT_HERSHEY_SIMPLEX,
                scale, (200, 0, 0), 1, cv2.LINE_AA)
    row = result.frame_scores[t] if t < len(result.frame_scores) else None
    bar_h = max(4, h // 30)
    cv2.rectangle(img, (0, h - bar_h), (w - 1, h - 1), (40, 40, 40), -1)
    if row is not None and not np.isnan(row).any():
        top = int(np.argmax(row))
        filled = int(round(float(row[top]) * (w - 1)))
        colour = (230, 60, 60) if k is not None else (160, 160, 160)
        cv2.rectangle(img, (0, h - bar_h), (filled, h - 1), colour, -1)
    return img


def render_overlay(path: str,
                   video: str,
                   result: SpotResult,
                   pose: Optional[PoseTrack],
                   chunk_size: int = 32) -> int:
    """Write the overlay MP4 of ``video`` to ``path`` (decoded and written
    ``chunk_size`` frames at a time); returns the frames written."""
    from mmmg.data_prep.video_jobs import FrameWriter, VideoStream
    from mmmg.keypoints.layouts import get_layout
    keypoints = scores = None
    edges = ()
    if pose is not None:
        keypoints = np.asarray(pose.record['keypoint'], np.float32)
        scores = np.asarray(pose.record['keypoint_score'], np.float32)
        try:
            edges = get_layout(str(pose.record['layout'])).edges
        except KeyError:
            edges = ()
    label_at = _label_at(result.segments, result.scores.num_frames)
    written = 0
    with VideoStream(video) as reader, FrameWriter(path, reader.fps) as out:
        for chunk in reader.chunks(chunk_size):
            out.write(
                np.stack([
                    _draw_frame(f, written + i, result, keypoints, scores,
                                edges, label_at) for i, f in enumerate(chunk)
                ]))
            written += len(chunk)
    return written


def write_outputs(paths: Dict[str, str],
                  result: SpotResult,
                  video: Optional[str],
                  pose: Optional[PoseTrack] = None,
                  ground_truth: Optional[list] = None,
                  title: Optional[str] = None) -> None:
    """Write the outputs of one video (module docstring); the scores JSON
    last, so its presence means all are complete."""
    from mmmg.spotting import plot_timeline, write_label_csv
    os.makedirs(osp.dirname(osp.abspath(paths['json'])), exist_ok=True)
    # The overlay decodes the whole video: a file damaged half-way fails
    # here, before any label table of this video is written.
    if 'mp4' in paths:
        with atomic_path(paths['mp4']) as tmp:
            render_overlay(tmp, video, result, pose)
    plot_timeline(
        paths['png'],
        result.segments,
        result.scores.classes,
        result.scores.num_frames,
        result.scores.fps,
        ground_truth=ground_truth,
        frame_scores=result.frame_scores,
        background_class=result.background_class,
        title=title)
    write_label_csv(paths['csv'], result.segments)
    with atomic_open(paths['json'], 'w') as f:
        json.dump(result.to_dict(), f)
        f.write('\n')


def outputs_complete(paths: Dict[str, str]) -> bool:
    """Whether a video's outputs are all there and its scores JSON (written
    last) reads back."""
    if not all(osp.isfile(p) for p in paths.values()):
        return False
    try:
        with open(paths['json']) as f:
            return isinstance(json.load(f), dict)
    except (OSError, ValueError):
        return False
