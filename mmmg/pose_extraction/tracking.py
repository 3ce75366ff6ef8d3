"""Follow the primary interviewee through a video's person detections.

An interview video shows one subject large and near the centre, and at
times others (an interviewer, a reporter) at the edges. The tracker picks
the subject once and follows it:

- **Selection**: with no track, the box with the highest
  :func:`primary_score` (its share of the frame times its closeness to the
  frame centre) starts the track.
- **Tracking**: in later frames, the box overlapping the tracked box most
  (IoU at least ``iou_thr``) continues it.
- **Gaps**: a frame where no box continues the track has no person (it is
  marked, not filled with someone else), and the track waits for up to
  ``max_lost`` such frames. After that it is dropped and the next frame
  selects anew, so a subject who changed seats is found again.
"""
from typing import Optional, Tuple

import numpy as np


def box_iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """IoU of one ``xyxy`` box with each of ``boxes [n, >=4]``."""
    boxes = np.asarray(boxes, np.float32).reshape(-1, boxes.shape[-1])
    x1 = np.maximum(box[0], boxes[:, 0])
    y1 = np.maximum(box[1], boxes[:, 1])
    x2 = np.minimum(box[2], boxes[:, 2])
    y2 = np.minimum(box[3], boxes[:, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    union = area + areas - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-9), 0.0)


def primary_score(boxes: np.ndarray, frame_size: Tuple[int,
                                                       int]) -> np.ndarray:
    """How much each box looks like the interviewee: large and central.

    Args:
        boxes (np.ndarray): ``[n, >=4]`` ``xyxy`` boxes.
        frame_size (tuple[int, int]): ``(W, H)``.

    Returns:
        np.ndarray: ``area / frame area * (1 - centre distance / half
        diagonal)``, in ``[0, 1]``.
    """
    w, h = frame_size
    boxes = np.asarray(boxes, np.float32)
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    center = (boxes[:, :2] + boxes[:, 2:4]) / 2
    offset = np.linalg.norm(center - np.array([w / 2, h / 2]), axis=1)
    closeness = 1 - np.clip(offset / np.hypot(w / 2, h / 2), 0, 1)
    return area / float(w * h) * closeness


class PrimaryPersonTracker:
    """Pick the interviewee's box frame by frame (see the module docstring).

    Args:
        frame_size (tuple[int, int]): ``(W, H)`` of the video.
        iou_thr (float): Least IoU with the tracked box that continues it.
        max_lost (int): Frames without a continuing box before the track
            is dropped and a new subject selected.
    """

    def __init__(self,
                 frame_size: Tuple[int, int],
                 iou_thr: float = 0.3,
                 max_lost: int = 25) -> None:
        if not 0 < iou_thr <= 1:
            raise ValueError(f'iou_thr must be in (0, 1], got {iou_thr}')
        if max_lost < 0:
            raise ValueError(f'max_lost must be >= 0, got {max_lost}')
        self.frame_size = frame_size
        self.iou_thr = iou_thr
        self.max_lost = max_lost
        self.track: Optional[np.ndarray] = None
        self.lost = 0

    def update(self, boxes: np.ndarray) -> Optional[np.ndarray]:
        """The subject's box in the next frame, or None when absent.

        Args:
            boxes (np.ndarray): ``[n, 4 or 5]`` person boxes of the frame.

        Returns:
            np.ndarray, optional: The chosen row of ``boxes``.
        """
        boxes = np.asarray(boxes, np.float32)
        if self.track is not None and len(boxes):
            iou = box_iou(self.track, boxes)
            best = int(np.argmax(iou))
            if iou[best] >= self.iou_thr:
                return self._follow(boxes[best])
        if self.track is not None:
            self.lost += 1
            if self.lost <= self.max_lost:
                return None
            self.track = None
        if not len(boxes):
            return None
        best = int(np.argmax(primary_score(boxes, self.frame_size)))
        return self._follow(boxes[best])

    def _follow(self, box: np.ndarray) -> np.ndarray:
        self.track, self.lost = box[:4].copy(), 0
        return box
