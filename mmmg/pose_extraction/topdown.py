"""Top-down pose pre- and post-processing of RTMPose-style SimCC models.

A top-down model sees one person at a time: the person's box, padded by
:data:`BOX_PADDING` and widened or heightened to the model's aspect ratio,
is warped to the model input (``W x H``, e.g. 192 x 256 or 288 x 384) and
normalised with the ImageNet mean and std in RGB order. The model answers
with two SimCC vectors per keypoint, ``simcc_x [N, K, W * r]`` and
``simcc_y [N, K, H * r]`` (split ratio ``r``, 2.0 for RTMPose, RTMW and
DWPose); a keypoint is at the argmax of each, divided by ``r``, mapped back
through the inverse of the crop's affine transform. Its confidence is the
smaller of the two maxima, as in MMPose's decoder; a keypoint whose
confidence is not positive gets ``(0, 0)`` and score 0.

Everything here is plain numpy and OpenCV, shared by the ONNX backend and
the benchmark.
"""
from typing import Sequence, Tuple

import cv2
import numpy as np

# Context around the person kept in the crop (RTMPose's bbox padding).
BOX_PADDING = 1.25
# ImageNet statistics in RGB order, as RTMPose was trained with.
PIXEL_MEAN = np.array([123.675, 116.28, 103.53], np.float32)
PIXEL_STD = np.array([58.395, 57.12, 57.375], np.float32)
_INV_STD = 1 / PIXEL_STD


def box_to_center_scale(boxes: np.ndarray,
                        input_size: Tuple[int, int],
                        padding: float = BOX_PADDING
                        ) -> Tuple[np.ndarray, np.ndarray]:
    """Crop centres and sizes of ``xyxy`` boxes for an input of ``(W, H)``.

    The padded box grows along one side until it has the input's aspect
    ratio, so the warp scales both axes alike.

    Args:
        boxes (np.ndarray): ``[N, 4]`` boxes ``x1, y1, x2, y2`` in pixels.
        input_size (tuple[int, int]): Model input ``(W, H)``.
        padding (float): Factor applied to the box size.

    Returns:
        tuple[np.ndarray, np.ndarray]: Centres ``[N, 2]`` and crop sizes
        ``[N, 2]`` (width, height) in pixels.
    """
    boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
    center = (boxes[:, :2] + boxes[:, 2:]) / 2
    size = (boxes[:, 2:] - boxes[:, :2]) * padding
    aspect = input_size[0] / input_size[1]
    wide = size[:, 0] > size[:, 1] * aspect
    size = np.where(wide[:, None],
                    np.stack([size[:, 0], size[:, 0] / aspect], 1),
                    np.stack([size[:, 1] * aspect, size[:, 1]], 1))
    return center, size.astype(np.float32)


def crop_matrix(center: np.ndarray, size: np.ndarray,
                input_size: Tuple[int, int]) -> np.ndarray:
    """The ``2 x 3`` affine map from frame pixels to model input pixels.

    The crop centre lands on the input's centre and ``size`` on the input's
    extent; no rotation. ``center`` and ``size`` may be ``[N, 2]``, giving
    ``[N, 2, 3]``.
    """
    center = np.asarray(center, np.float32)
    extent = np.asarray(input_size, np.float32)
    scale = extent / np.asarray(size, np.float32)
    matrix = np.zeros(center.shape[:-1] + (2, 3), np.float32)
    matrix[..., 0, 0], matrix[..., 1, 1] = scale[..., 0], scale[..., 1]
    matrix[..., :, 2] = extent / 2 - scale * center
    return matrix


def crop_batch(frames: Sequence[np.ndarray], boxes: np.ndarray,
               input_size: Tuple[int, int]
               ) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Warp and normalise one person crop per frame, as one batch.

    One ``cv2.warpAffine`` per crop into a ``uint8`` batch, then one
    normalisation of the whole batch.

    Args:
        frames (Sequence[np.ndarray]): ``uint8 [H, W, 3]`` RGB frames (or
            an ``[N, H, W, 3]`` array), one per box.
        boxes (np.ndarray): ``[N, 4]`` ``xyxy`` boxes.
        input_size (tuple[int, int]): Model input ``(W, H)``.

    Returns:
        tuple: ``float32 [N, 3, H_in, W_in]`` model inputs, crop centres
        ``[N, 2]`` and crop sizes ``[N, 2]``.
    """
    center, size = box_to_center_scale(boxes, input_size)
    w, h = input_size
    patches = np.empty((len(center), h, w, 3), np.uint8)
    for frame, matrix, patch in zip(frames,
                                    crop_matrix(center, size, input_size),
                                    patches):
        cv2.warpAffine(
            frame, matrix, (w, h), dst=patch, flags=cv2.INTER_LINEAR)
    crops = np.empty((len(center), 3, h, w), np.float32)
    # Channel by channel: 3x faster than one broadcast over the transpose.
    for c in range(3):
        np.subtract(patches[..., c], PIXEL_MEAN[c], out=crops[:, c])
        crops[:, c] *= _INV_STD[c]
    return crops, center, size


def crop_inputs(frame: np.ndarray, boxes: np.ndarray, input_size: Tuple[int,
                                                                        int]
                ) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`crop_batch` of several boxes in one RGB frame."""
    boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
    return crop_batch([frame] * len(boxes), boxes, input_size)


def decode_simcc(simcc_x: np.ndarray, simcc_y: np.ndarray,
                 split_ratio: float) -> Tuple[np.ndarray, np.ndarray]:
    """Keypoints in model input pixels and their confidences.

    Args:
        simcc_x (np.ndarray): ``[N, K, Wx]``.
        simcc_y (np.ndarray): ``[N, K, Wy]``.
        split_ratio (float): SimCC bins per input pixel.

    Returns:
        tuple[np.ndarray, np.ndarray]: ``float32 [N, K, 2]`` locations
        (``-1`` where the confidence is not positive) and ``float32 [N, K]``
        confidences (the smaller of the two maxima).
    """
    x = np.argmax(simcc_x, axis=-1)
    y = np.argmax(simcc_y, axis=-1)
    score = np.minimum(simcc_x.max(axis=-1), simcc_y.max(axis=-1))
    locs = np.stack([x, y], -1).astype(np.float32) / split_ratio
    locs[score <= 0] = -1
    return locs, score.astype(np.float32)


def to_frame_coords(locs: np.ndarray, center: np.ndarray, size: np.ndarray,
                    input_size: Tuple[int, int]) -> np.ndarray:
    """Map model input pixels back to frame pixels (inverse crop warp).

    Args:
        locs (np.ndarray): ``[N, K, 2]`` in model input pixels.
        center (np.ndarray): ``[N, 2]`` crop centres.
        size (np.ndarray): ``[N, 2]`` crop sizes.
        input_size (tuple[int, int]): Model input ``(W, H)``.

    Returns:
        np.ndarray: ``float32 [N, K, 2]`` frame pixels.
    """
    scale = size / np.asarray(input_size, np.float32)
    return (locs * scale[:, None] +
            (center - size / 2)[:, None]).astype(np.float32)


def decode_to_frame(simcc_x: np.ndarray, simcc_y: np.ndarray,
                    split_ratio: float, center: np.ndarray, size: np.ndarray,
                    input_size: Sequence[int]
                    ) -> Tuple[np.ndarray, np.ndarray]:
    """SimCC outputs to frame keypoints and scores; missing points are 0.

    Returns:
        tuple[np.ndarray, np.ndarray]: ``float32 [N, K, 2]`` keypoints and
        ``float32 [N, K]`` scores, both 0 where the score is not positive.
    """
    locs, score = decode_simcc(simcc_x, simcc_y, split_ratio)
    keypoints = to_frame_coords(locs, center, size, tuple(input_size))
    missing = score <= 0
    keypoints[missing] = 0
    score[missing] = 0
    return keypoints, score
