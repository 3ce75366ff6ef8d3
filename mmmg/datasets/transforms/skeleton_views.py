"""Augmented views of a skeleton clip for self-supervised pre-training.

Every view of USDRL-style pre-training is drawn independently from the
same clip, so any two views share content but differ in timing, missing
points and geometry. The augmentations follow iMiGUE-3K's 2D recipe:

- temporal crop-resize: a random share of the valid frames, resampled to
  the model's fixed length;
- speed jitter: a monotone time warp ``u -> u ** gamma`` of that resampling,
  so the gesture speeds up or slows down within the clip;
- frame dropping: frames turned into missing frames (score 0), as when
  the pose detector loses the person;
- confidence-aware joint corruption: points removed for the whole view,
  more often the less confident they were, plus jitter that grows as the
  confidence falls;
- small rigid 2D transforms: rotation, isotropic scale and translation in
  the person-centric frame of :class:`NormalizeSkeleton`.
"""
import math
from typing import Dict, Sequence

import numpy as np
from mmaction.registry import TRANSFORMS
from mmcv.transforms import BaseTransform

from .skeleton_sequence import _check_pose
from .transform_repr import transform_repr


def resample_clip(kp: np.ndarray, score: np.ndarray, positions: np.ndarray):
    """Sample a clip at fractional frame positions.

    Points valid in both neighbouring frames are linearly interpolated; a
    point missing in either takes the nearer frame, so missing points never
    blend into ``(0, 0)``.

    Args:
        kp (np.ndarray): ``[T, V, 2]``.
        score (np.ndarray): ``[T, V]``.
        positions (np.ndarray): ``[L]`` frame positions in ``[0, T - 1]``.

    Returns:
        tuple[np.ndarray, np.ndarray]: ``[L, V, 2]`` and ``[L, V]``.
    """
    lo = np.clip(np.floor(positions).astype(int), 0, len(kp) - 1)
    hi = np.minimum(lo + 1, len(kp) - 1)
    w = (positions - lo)[:, None]
    both = (score[lo] > 0) & (score[hi] > 0)
    near = np.where(w >= 0.5, hi[:, None], lo[:, None])
    cols = np.arange(kp.shape[1])[None]
    out_kp = np.where(both[..., None],
                      kp[lo] * (1 - w[..., None]) + kp[hi] * w[..., None],
                      kp[near, cols])
    out_score = np.where(both, score[lo] * (1 - w) + score[hi] * w,
                         score[near, cols])
    return out_kp, out_score


@TRANSFORMS.register_module()
class SkeletonViews(BaseTransform):
    """Draw ``num_views`` augmented views of the first person's clip.

    Required Keys:
        - keypoint (np.ndarray): ``[M, T, V, 2]``, person-centric (after
          :class:`NormalizeSkeleton`).
        - keypoint_score (np.ndarray): ``[M, T, V]``.

    Modified Keys:
        - keypoint: ``[num_views, length, V, 2]``.
        - keypoint_score: ``[num_views, length, V]``.
        - total_frames

    Args:
        num_views (int): Views per clip. Defaults to 4 (USDRL).
        length (int): Frames per view. Defaults to 64.
        crop_ratio (Sequence[float]): Range of the share of the valid
            frames a view covers. Defaults to (0.5, 1.0).
        speed_range (float): The time-warp exponent ``gamma`` is drawn
            log-uniformly from ``[1 / speed_range, speed_range]``; 1
            disables speed jitter. Defaults to 1.3.
        drop_prob (float): Chance that a view drops frames. Defaults to 0.5.
        drop_rate (float): Share of frames a dropping view loses.
            Defaults to 0.1.
        corrupt_prob (float): Chance that a view corrupts joints.
            Defaults to 0.5.
        corrupt_rate (float): Removal chance of a fully confident point;
            a point of mean score ``s`` is removed with
            ``corrupt_rate * (1 + low_conf_weight * (1 - s))``.
            Defaults to 0.1.
        low_conf_weight (float): See ``corrupt_rate``. Defaults to 2.
        jitter (float): Std of the position noise of a point with score
            0 (it shrinks linearly to 0 at score 1), in canonical units.
            Defaults to 0.02.
        max_rotation (float): Rotation range in degrees. Defaults to 10.
        scale_range (Sequence[float]): Isotropic scale range.
            Defaults to (0.9, 1.1).
        max_shift (float): Translation range in canonical units.
            Defaults to 0.1.
    """

    def __init__(self,
                 num_views: int = 4,
                 length: int = 64,
                 crop_ratio: Sequence[float] = (0.5, 1.0),
                 speed_range: float = 1.3,
                 drop_prob: float = 0.5,
                 drop_rate: float = 0.1,
                 corrupt_prob: float = 0.5,
                 corrupt_rate: float = 0.1,
                 low_conf_weight: float = 2.0,
                 jitter: float = 0.02,
                 max_rotation: float = 10.0,
                 scale_range: Sequence[float] = (0.9, 1.1),
                 max_shift: float = 0.1) -> None:
        if not 0 < crop_ratio[0] <= crop_ratio[1] <= 1:
            raise ValueError(f'crop_ratio must satisfy 0 < lo <= hi <= 1, '
                             f'got {crop_ratio}')
        if speed_range < 1:
            raise ValueError(f'speed_range must be >= 1, got {speed_range}')
        self.num_views = int(num_views)
        self.length = int(length)
        self.crop_ratio = tuple(crop_ratio)
        self.speed_range = float(speed_range)
        self.drop_prob, self.drop_rate = drop_prob, drop_rate
        self.corrupt_prob, self.corrupt_rate = corrupt_prob, corrupt_rate
        self.low_conf_weight, self.jitter = low_conf_weight, jitter
        self.max_rotation = max_rotation
        self.scale_range = tuple(scale_range)
        self.max_shift = max_shift

    def _positions(self, num_valid: int) -> np.ndarray:
        """Crop-resize with speed jitter: where each output frame samples."""
        ratio = np.random.uniform(*self.crop_ratio)
        span = max(1.0, ratio * (num_valid - 1))
        start = np.random.uniform(0, num_valid - 1 - span) \
            if num_valid - 1 > span else 0.0
        gamma = math.exp(np.random.uniform(-1, 1) * math.log(self.speed_range))
        u = np.linspace(0, 1, self.length)**gamma
        return np.clip(start + u * span, 0, num_valid - 1)

    def _corrupt(self, kp: np.ndarray, score: np.ndarray) -> None:
        mean_score = score.mean(axis=0)
        p = np.clip(
            self.corrupt_rate * (1 + self.low_conf_weight * (1 - mean_score)),
            0, 1)
        removed = np.random.rand(len(p)) < p
        score[:, removed] = 0
        noise = np.random.randn(*kp.shape) * self.jitter
        kp += noise * (1 - np.clip(score, 0, 1))[..., None]

    def _rigid(self, kp: np.ndarray) -> None:
        angle = math.radians(np.random.uniform(-1, 1) * self.max_rotation)
        scale = np.random.uniform(*self.scale_range)
        c, s = math.cos(angle) * scale, math.sin(angle) * scale
        shift = np.random.uniform(-1, 1, size=2) * self.max_shift
        kp[:] = kp @ np.array([[c, s], [-s, c]]) + shift

    def view(self, kp: np.ndarray, score: np.ndarray):
        """One augmented view of a clip (``[T, V, 2]``, ``[T, V]``)."""
        kp, score = resample_clip(kp, score, self._positions(len(kp)))
        kp, score = kp.astype(np.float32), score.astype(np.float32)
        if np.random.rand() < self.drop_prob:
            score[np.random.rand(self.length) < self.drop_rate] = 0
        if np.random.rand() < self.corrupt_prob:
            self._corrupt(kp, score)
        self._rigid(kp)
        kp[score <= 0] = 0
        return kp, score

    def transform(self, results: Dict) -> Dict:
        _check_pose(results)
        kp, score = results['keypoint'][0], results['keypoint_score'][0]
        # Pretraining clips of the sampler have no padding, but annotation
        # clips may end in frames without a person; views use the span
        # that has one.
        seen = np.flatnonzero(score.max(axis=1) > 0)
        if len(seen):
            kp, score = kp[seen[0]:seen[-1] + 1], score[seen[0]:seen[-1] + 1]
        views = [self.view(kp, score) for _ in range(self.num_views)]
        results['keypoint'] = np.stack([v[0] for v in views])
        results['keypoint_score'] = np.stack([v[1] for v in views])
        results['total_frames'] = self.length
        return results

    def __repr__(self) -> str:
        return transform_repr(self, 'num_views', 'length', 'crop_ratio',
                              'speed_range')
