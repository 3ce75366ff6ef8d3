"""Tiny ONNX models with the signatures of RTMPose and an end-to-end
person detector, and real videos of a bright blob for them to find.

The pose model puts every keypoint at the brightest column and row of its
input crop (the SimCC argmax of the column and row means), so on a frame
with one Gaussian blob its keypoints land on the blob's centre. Keypoint
``k`` scores ``sigmoid(3 * peak + 3) * weight[k]``, with weights rising
from 0.5 to 1. The detector boxes the pixels brighter than a threshold.
"""
import numpy as np

from ..data_prep.synthetic_video import write_video

POSE_INPUT = (192, 256)  # (W, H)
SPLIT_RATIO = 2
DET_INPUT = (128, 128)
# Grey level of a "person" pixel: above the letterbox padding (114).
DET_THRESHOLD = 130
FRAME_SIZE = (160, 120)  # (W, H)
BLOB_SIGMA = 10.0


def keypoint_weights(num_keypoints):
    return np.linspace(0.5, 1.0, num_keypoints, dtype=np.float32)


def export_pose_model(path,
                      num_keypoints=133,
                      input_size=POSE_INPUT,
                      split_ratio=SPLIT_RATIO,
                      outputs=('simcc_x', 'simcc_y')):
    """Export the blob-finding SimCC model; ``outputs`` names its outputs
    (one name gives a model with a single, wrong output)."""
    import torch

    class BlobPose(torch.nn.Module):

        def __init__(self):
            super().__init__()
            self.register_buffer(
                'weight',
                torch.from_numpy(keypoint_weights(num_keypoints))[None, :,
                                                                  None])

        def simcc(self, profile):
            n, length = profile.shape
            bins = profile[:, :, None].expand(n, length, split_ratio)
            bins = bins.reshape(n, 1, length * split_ratio)
            bins = torch.sigmoid(3 * bins + 3)
            return bins * self.weight

        def forward(self, x):
            bright = x.mean(1)
            simcc_x = self.simcc(bright.mean(1))
            simcc_y = self.simcc(bright.mean(2))
            return (simcc_x, simcc_y)[:len(outputs)]

    w, h = input_size
    dynamic = {name: {0: 'batch'} for name in ('input', ) + tuple(outputs)}
    torch.onnx.export(
        BlobPose().eval(),
        torch.zeros(1, 3, h, w),
        str(path),
        input_names=['input'],
        output_names=list(outputs),
        dynamic_axes=dynamic,
        dynamo=False)
    return str(path)


def export_detector(path, input_size=DET_INPUT, threshold=DET_THRESHOLD):
    """Export an end-to-end detector: ``dets [N, 1, 5]`` boxing the pixels
    brighter than ``threshold`` (raw BGR input, the yolox preset), score 1,
    or score 0 where there are none; ``labels [N, 1]`` all person."""
    import torch

    class BrightBox(torch.nn.Module):

        def forward(self, x):
            mask = (x.mean(1) > threshold).float()
            cols, rows = mask.amax(1), mask.amax(2)
            xs = torch.arange(cols.shape[1], dtype=torch.float32)
            ys = torch.arange(rows.shape[1], dtype=torch.float32)
            x1 = (xs + (1 - cols) * 1e4).amin(1)
            x2 = (xs - (1 - cols) * 1e4).amax(1) + 1
            y1 = (ys + (1 - rows) * 1e4).amin(1)
            y2 = (ys - (1 - rows) * 1e4).amax(1) + 1
            score = cols.amax(1)
            dets = torch.stack([x1, y1, x2, y2, score], -1)[:, None]
            labels = torch.zeros_like(score, dtype=torch.int64)[:, None]
            return dets, labels

    w, h = input_size
    torch.onnx.export(
        BrightBox().eval(),
        torch.zeros(1, 3, h, w),
        str(path),
        input_names=['input'],
        output_names=['dets', 'labels'],
        dynamic_axes={
            'input': {
                0: 'batch'
            },
            'dets': {
                0: 'batch'
            },
            'labels': {
                0: 'batch'
            }
        },
        dynamo=False)
    return str(path)


def blob_frames(centers, size=FRAME_SIZE, sigma=BLOB_SIGMA):
    """RGB frames with a Gaussian blob at each centre (None: empty)."""
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    frames = []
    for center in centers:
        grey = np.full((h, w), 20, np.float32)
        if center is not None:
            cx, cy = center
            grey += 235 * np.exp(-((xx - cx)**2 + (yy - cy)**2) /
                                 (2 * sigma**2))
        frames.append(
            np.repeat(grey.clip(0, 255).astype(np.uint8)[..., None], 3, -1))
    return np.stack(frames)


def blob_path(num_frames, start=(60, 55), step=(1.0, 0.5), gaps=()):
    """Blob centres moving by ``step`` a frame; frames in ``gaps`` are
    empty."""
    return [
        None if t in gaps else (start[0] + step[0] * t, start[1] + step[1] * t)
        for t in range(num_frames)
    ]


def write_blob_video(path, centers, fps=25):
    return write_video(str(path), blob_frames(centers), fps=fps)


def write_half_corrupt_video(path, num_frames=30):
    """A blob video whose frame data is zeroed from its middle on: it opens
    and its first frames may decode, then decoding fails."""
    write_blob_video(path, blob_path(num_frames))
    data = bytearray(open(path, 'rb').read())
    start, end = data.find(b'mdat') + 8, data.find(b'moov') - 8
    assert start < end, path
    middle = (start + end) // 2
    data[middle:end] = bytes(end - middle)
    with open(path, 'wb') as f:
        f.write(data)
    return str(path)
