"""numpy-2-safe replacements for MMAction2 1.1.0's ``PoseCompact`` and
``MMCompact``, which use ``np.Inf`` (removed in numpy 2)."""
from typing import Dict, Optional, Tuple

import numpy as np
from mmaction.datasets.transforms import MMCompact, PoseCompact
from mmaction.registry import TRANSFORMS


def _combine_quadruple(outer, inner):
    """Compose two (x, y, w, h) crops given in relative coordinates."""
    return (outer[0] + inner[0] * outer[2], outer[1] + inner[1] * outer[3],
            inner[2] * outer[2], inner[3] * outer[3])


def _padded_box(compact: PoseCompact, kp_x: np.ndarray, kp_y: np.ndarray,
                img_shape: Tuple[int, int]) -> Optional[Tuple[int, ...]]:
    """``(min_x, min_y, max_x, max_y)`` of the crop around the valid
    coordinates ``kp_x`` and ``kp_y``, with the ``padding``, ``threshold``,
    ``hw_ratio`` and ``allow_imgpad`` of ``compact``; None when there is no
    point or the tight box is under ``threshold``."""
    if not kp_x.size or not kp_y.size:
        return None
    min_x, max_x = kp_x.min(), kp_x.max()
    min_y, max_y = kp_y.min(), kp_y.max()
    if (max_x - min_x < compact.threshold
            or max_y - min_y < compact.threshold):
        return None

    center_x, center_y = (max_x + min_x) / 2, (max_y + min_y) / 2
    half_w = (max_x - min_x) / 2 * (1 + compact.padding)
    half_h = (max_y - min_y) / 2 * (1 + compact.padding)
    if compact.hw_ratio is not None:
        half_h = max(compact.hw_ratio[0] * half_w, half_h)
        half_w = max(1 / compact.hw_ratio[1] * half_h, half_w)
    min_x, max_x = center_x - half_w, center_x + half_w
    min_y, max_y = center_y - half_h, center_y + half_h
    if compact.allow_imgpad:
        return int(min_x), int(min_y), int(max_x), int(max_y)
    h, w = img_shape
    return (int(max(0, min_x)), int(max(0, min_y)), int(min(w, max_x)),
            int(min(h, max_y)))


@TRANSFORMS.register_module()
class MGPoseCompact(PoseCompact):
    """Crop the frame to the padded tight box around all keypoints.

    Same behaviour and arguments as MMAction2's ``PoseCompact`` (which uses
    ``np.Inf``, removed in numpy 2); a coordinate of exactly 0 marks a missed
    point, as in OpenPose output, and is left untouched.

    Required Keys:
        - keypoint
        - img_shape

    Modified Keys:
        - img_shape
        - keypoint

    Added Keys:
        - crop_quadruple

    Args:
        padding (float): Relative padding of the tight box. Defaults to 0.25.
        threshold (int): Skip the crop when the tight box is narrower or
            shorter than this many pixels. Defaults to 10.
        hw_ratio (float | tuple[float] | None): Required height/width ratio
            (range) of the padded box. Defaults to None.
        allow_imgpad (bool): Whether the box may extend beyond the image to
            meet ``hw_ratio``. Defaults to True.
    """

    def transform(self, results: Dict) -> Dict:
        h, w = results['img_shape']
        kp = results['keypoint']
        kp[np.isnan(kp)] = 0.
        kp_x, kp_y = kp[..., 0], kp[..., 1]
        valid_x, valid_y = kp_x != 0, kp_y != 0
        box = _padded_box(self, kp_x[valid_x], kp_y[valid_y], (h, w))
        if box is None:
            return results
        min_x, min_y, max_x, max_y = box

        kp_x[valid_x] -= min_x
        kp_y[valid_y] -= min_y
        results['img_shape'] = (max_y - min_y, max_x - min_x)
        results['crop_quadruple'] = _combine_quadruple(
            results.get('crop_quadruple', (0., 0., 1., 1.)),
            (min_x / w, min_y / h, (max_x - min_x) / w, (max_y - min_y) / h))
        return results


@TRANSFORMS.register_module()
class MGMMCompact(MMCompact):
    """Crop RGB frames and keypoints to the padded box around all keypoints.

    Same behaviour and arguments as MMAction2's ``MMCompact`` (RGB + pose
    pipelines), whose box search uses ``np.Inf``.

    Required Keys:
        - imgs
        - keypoint
        - img_shape

    Modified Keys:
        - imgs
        - keypoint
        - img_shape

    Args:
        As :class:`MGPoseCompact`, but ``hw_ratio`` defaults to 1, and with
        ``allow_imgpad`` the frames are zero-padded.
    """

    def _get_box(self, keypoint: np.ndarray, img_shape: Tuple[int]) -> Tuple:
        kp_x, kp_y = keypoint[..., 0], keypoint[..., 1]
        box = _padded_box(self, kp_x[kp_x != 0], kp_y[kp_y != 0], img_shape)
        if box is None:
            h, w = img_shape
            return 0, 0, w, h
        return box
