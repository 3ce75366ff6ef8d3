"""Fill short gaps of missing keypoints by linear interpolation in time.

Detectors lose a hand or an ear for a few frames when it turns or is
occluded; in micro-gestures those are the very points that move. A run of
at most ``max_gap`` frames in which a point is missing (confidence at or
below ``min_score``), with the point seen on both sides, gets coordinates
interpolated between the two bounding frames. Runs at the start or end of a
sequence, or longer than ``max_gap``, stay missing: nothing is extrapolated.

A filled point's confidence is ``score_scale`` times the smaller of the two
bounding confidences, so heatmaps (whose amplitude follows the confidence)
draw it fainter than a detection, and a later pass can tell it apart.
"""
from typing import Tuple

import numpy as np

DEFAULT_SCORE_SCALE = 0.5


def _runs(missing: np.ndarray):
    """``(start, stop)`` of every run of True in a 1-D boolean array."""
    edges = np.diff(np.concatenate([[0], missing.astype(np.int8), [0]]))
    return zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1))


def fill_keypoint_gaps(
    keypoint: np.ndarray,
    keypoint_score: np.ndarray,
    max_gap: int,
    min_score: float = 0.,
    score_scale: float = DEFAULT_SCORE_SCALE
) -> Tuple[np.ndarray, np.ndarray, int]:
    """Interpolate short gaps of every point of every person.

    Args:
        keypoint (np.ndarray): ``[..., T, V, C]`` coordinates.
        keypoint_score (np.ndarray): ``[..., T, V]`` confidences.
        max_gap (int): Longest run of missing frames to fill (0: none).
        min_score (float): A point at or below it is missing. Defaults
            to 0 (the releases' ``0, 0, 0`` for a missing point).
        score_scale (float): Filled confidence relative to the smaller of
            the bounding ones. Defaults to 0.5.

    Returns:
        tuple: New keypoint and score arrays (the inputs are left alone)
        and the number of points filled.
    """
    if keypoint.shape[:-1] != keypoint_score.shape or keypoint.ndim < 3:
        raise ValueError(f'keypoint shape {keypoint.shape} and score shape '
                         f'{keypoint_score.shape} are not [..., T, V, C] and '
                         '[..., T, V]')
    if max_gap < 0:
        raise ValueError(f'max_gap must be >= 0, got {max_gap}')
    kp = np.array(keypoint, copy=True)
    score = np.array(keypoint_score, copy=True)
    if max_gap == 0:
        return kp, score, 0
    num_frames = score.shape[-2]
    # One row per (person, point) track: [N, T, C] and [N, T].
    tracks = np.moveaxis(kp, -2, -3).reshape(-1, num_frames, kp.shape[-1])
    conf = np.moveaxis(score, -1, -2).reshape(-1, num_frames)
    filled = 0
    for n in np.flatnonzero(((conf <= min_score).any(1))
                            & ((conf > min_score).any(1))):
        for start, stop in _runs(conf[n] <= min_score):
            if start == 0 or stop == num_frames or stop - start > max_gap:
                continue
            before, after = start - 1, stop
            w = ((np.arange(start, stop) - before) / (after - before))[:, None]
            tracks[n, start:stop] = ((1 - w) * tracks[n, before] +
                                     w * tracks[n, after])
            conf[n, start:stop] = score_scale * min(conf[n, before],
                                                    conf[n, after])
            filled += int(stop - start)
    shape_kp = kp.shape[:-3] + (kp.shape[-2], num_frames, kp.shape[-1])
    kp = np.moveaxis(tracks.reshape(shape_kp), -3, -2)
    shape_score = score.shape[:-2] + (score.shape[-1], num_frames)
    score = np.moveaxis(conf.reshape(shape_score), -2, -1)
    return (np.ascontiguousarray(kp, dtype=keypoint.dtype),
            np.ascontiguousarray(score, dtype=keypoint_score.dtype), filled)
