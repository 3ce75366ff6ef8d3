"""Small real videos for the video job tests: written with OpenCV (mp4v)."""
import os
import os.path as osp

import cv2
import numpy as np


def write_video(path, frames, fps=25):
    """Write RGB ``uint8`` frames ``(n, H, W, 3)`` to an mp4v video."""
    os.makedirs(osp.dirname(str(path)), exist_ok=True)
    height, width = frames.shape[1:3]
    writer = cv2.VideoWriter(
        str(path), cv2.VideoWriter_fourcc(*'mp4v'), fps, (width, height))
    assert writer.isOpened(), path
    for frame in frames:
        writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    writer.release()
    return str(path)


def plain_frames(num_frames, size=(64, 48)):
    """Frames of rising grey levels, ``size = (W, H)``."""
    levels = np.linspace(20, 230, num_frames).astype(np.uint8)
    return np.stack([np.full(size[::-1] + (3, ), v, np.uint8) for v in levels])


def translating_frames(num_frames, size=(96, 64), shift=(3, -2), seed=0):
    """A smooth random texture moving ``shift = (dx, dy)`` pixels a frame."""
    width, height = size
    dx, dy = shift
    margin_x = abs(dx) * num_frames + 4
    margin_y = abs(dy) * num_frames + 4
    rng = np.random.default_rng(seed)
    texture = rng.integers(0, 256,
                           (height + 2 * margin_y, width + 2 * margin_x, 3),
                           np.uint8)
    texture = cv2.GaussianBlur(texture, (7, 7), 0)
    frames = []
    for t in range(num_frames):
        # Content moving by (dx, dy) is a window moving by (-dx, -dy).
        y0, x0 = margin_y - dy * t, margin_x - dx * t
        frames.append(texture[y0:y0 + height, x0:x0 + width])
    return np.stack(frames)


def write_corrupt_video(path, num_frames=20):
    """A video whose container opens but whose frame data is zeroed."""
    write_video(path, translating_frames(num_frames, size=(64, 48)))
    data = bytearray(open(path, 'rb').read())
    # Zero the frame data, keeping its start and the index (moov) after it.
    start, end = data.find(b'mdat') + 64, data.find(b'moov') - 8
    assert start < end, path
    data[start:end] = bytes(end - start)
    with open(path, 'wb') as f:
        f.write(data)
    return str(path)


def write_truncated_video(path, num_frames=20):
    """A video cut in half, as by an interrupted copy."""
    write_video(path, translating_frames(num_frames, size=(64, 48)))
    data = open(path, 'rb').read()
    with open(path, 'wb') as f:
        f.write(data[:len(data) // 2])
    return str(path)


def write_garbage_video(path, size=3000):
    """A file named like a video that holds no container."""
    os.makedirs(osp.dirname(str(path)), exist_ok=True)
    with open(path, 'wb') as f:
        f.write(
            np.random.default_rng(0).integers(0, 256, size,
                                              np.uint8).tobytes())
    return str(path)
