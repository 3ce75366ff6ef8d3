"""Skeleton sequences for transformer encoders: person-centric coordinates,
a fixed temporal length with the valid length kept, and the packed
``[clips, T, V, x/y/score]`` input.

These follow iMiGUE-3K's pre-processing of the skeleton foundation model:
an upper-body layout (``upper_body59``, chosen when the annotations are
converted), coordinates centred on the shoulder midpoint and scaled to a
canonical size, and clips padded or truncated to a fixed number of frames.
"""
from typing import Dict, Sequence

import numpy as np
from mmaction.registry import TRANSFORMS
from mmcv.transforms import BaseTransform

from mmmg.keypoints import get_layout
from .transform_repr import transform_repr


def _check_pose(results: Dict) -> None:
    kp, score = results.get('keypoint'), results.get('keypoint_score')
    sample = results.get('sample_id', results.get('frame_dir', '?'))
    if kp is None or score is None:
        raise KeyError(f'sample {sample!r}: needs `keypoint` and '
                       '`keypoint_score`')
    if kp.ndim != 4 or kp.shape[-1] != 2 or kp.shape[:3] != score.shape:
        raise ValueError(
            f'sample {sample!r}: expected keypoint [M, T, V, 2] and '
            f'keypoint_score [M, T, V], got {kp.shape} and {score.shape}')


@TRANSFORMS.register_module()
class NormalizeSkeleton(BaseTransform):
    """Centre each person's clip on the shoulder midpoint and scale it so the
    shoulder width becomes ``canonical_size``.

    The reference is per clip, not per frame, so body sway and leaning (move
    torso, sit straight) stay visible: the centre and the width are medians
    over the frames where both shoulders have a score of at least
    ``min_score``. A clip without such a frame falls back to the mean and
    the larger side of the box of its confident points (a person seen from
    the side, or a bad detection). Points with score 0 stay ``(0, 0)``.

    Required Keys:
        - keypoint (np.ndarray): ``[M, T, V, 2]`` pixels.
        - keypoint_score (np.ndarray): ``[M, T, V]``.

    Modified Keys:
        - keypoint: person-centric coordinates, float32.

    Args:
        layout (str): Keypoint layout of the annotations. Defaults to
            ``'upper_body59'``.
        reference (Sequence[str]): The two points whose midpoint is the
            centre and whose distance is the scale. Defaults to the
            shoulders.
        canonical_size (float): Reference distance after scaling.
            Defaults to 1.
        min_score (float): Score a reference point needs. Defaults to 0.1.
    """

    def __init__(self,
                 layout: str = 'upper_body59',
                 reference: Sequence[str] = ('left_shoulder',
                                             'right_shoulder'),
                 canonical_size: float = 1.0,
                 min_score: float = 0.1) -> None:
        names = get_layout(layout).names
        missing = [n for n in reference if n not in names]
        if len(reference) != 2 or missing:
            raise ValueError(f'reference must be two points of {layout!r}; '
                             f'{missing or reference} are not')
        self.layout = layout
        self.reference = tuple(reference)
        self.ref_index = [names.index(n) for n in reference]
        self.canonical_size = float(canonical_size)
        self.min_score = float(min_score)

    def _reference(self, kp: np.ndarray, score: np.ndarray):
        """Centre and scale of one person's clip (``kp`` [T, V, 2])."""
        a, b = self.ref_index
        ok = (score[:, a] >= self.min_score) & (score[:, b] >= self.min_score)
        if ok.any():
            pa, pb = kp[ok, a], kp[ok, b]
            centre = np.median((pa + pb) / 2, axis=0)
            scale = float(np.median(np.linalg.norm(pa - pb, axis=-1)))
        else:
            pts = kp[score > 0]
            if not len(pts):
                return np.zeros(2), 1.0
            centre = pts.mean(axis=0)
            scale = float((pts.max(axis=0) - pts.min(axis=0)).max())
        return centre, scale if scale > 1e-6 else 1.0

    def transform(self, results: Dict) -> Dict:
        _check_pose(results)
        kp = results['keypoint'].astype(np.float32)
        score = results['keypoint_score']
        out = np.zeros_like(kp)
        for m in range(kp.shape[0]):
            centre, scale = self._reference(kp[m], score[m])
            out[m] = (kp[m] - centre) * (self.canonical_size / scale)
        out[score <= 0] = 0
        results['keypoint'] = out
        return results

    def __repr__(self) -> str:
        return transform_repr(self, 'layout', 'reference', 'canonical_size',
                              'min_score')


@TRANSFORMS.register_module()
class FixSkeletonLength(BaseTransform):
    """Pad or truncate a clip to ``length`` frames and keep how many are real.

    A longer clip is cut to a window of ``length`` frames: at a random start
    in training, centred in test mode. A shorter clip is padded at the end
    with missing frames (coordinates and scores 0), which the encoders
    recognise by their zero scores.

    Required Keys:
        - keypoint (np.ndarray): ``[M, T, V, C]``.
        - keypoint_score (np.ndarray): ``[M, T, V]``.

    Modified Keys:
        - keypoint, keypoint_score: ``length`` frames.
        - total_frames

    Added Keys:
        - valid_len (int): Real frames in the result.

    Args:
        length (int): Output frames. Defaults to 64.
        test_mode (bool): Centre the window of a longer clip instead of
            drawing it. Defaults to False.
    """

    def __init__(self, length: int = 64, test_mode: bool = False) -> None:
        if length < 1:
            raise ValueError(f'length must be positive, got {length}')
        self.length = int(length)
        self.test_mode = test_mode

    def transform(self, results: Dict) -> Dict:
        kp, score = results['keypoint'], results['keypoint_score']
        num = kp.shape[1]
        if num >= self.length:
            extra = num - self.length
            start = extra // 2 if self.test_mode else np.random.randint(extra +
                                                                        1)
            kp = kp[:, start:start + self.length]
            score = score[:, start:start + self.length]
            valid = self.length
        else:
            pad = self.length - num
            kp = np.concatenate(
                [kp, np.zeros((kp.shape[0], pad) + kp.shape[2:], kp.dtype)],
                axis=1)
            score = np.concatenate([
                score,
                np.zeros((score.shape[0], pad) + score.shape[2:], score.dtype)
            ],
                                   axis=1)
            valid = num
        results.update(
            keypoint=kp,
            keypoint_score=score,
            total_frames=self.length,
            valid_len=valid)
        return results

    def __repr__(self) -> str:
        return transform_repr(self, 'length', 'test_mode')


@TRANSFORMS.register_module()
class FormatSkeletonSequence(BaseTransform):
    """Append the scores to the coordinates as the last channel.

    The leading axis becomes the clip axis of the model input: one clip
    for a single-person annotation, the views for :class:`SkeletonViews`.
    The score channel tells the encoders which points and frames are
    missing.

    Required Keys:
        - keypoint (np.ndarray): ``[N, T, V, 2]``.
        - keypoint_score (np.ndarray): ``[N, T, V]``.

    Modified Keys:
        - keypoint: float32 ``[N, T, V, 3]`` (x, y, score).
    """

    def transform(self, results: Dict) -> Dict:
        kp, score = results['keypoint'], results['keypoint_score']
        results['keypoint'] = np.concatenate([kp, score[..., None]],
                                             axis=-1).astype(np.float32)
        return results
