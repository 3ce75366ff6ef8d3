"""Real mp4 files whose frames tell their own index after lossy coding.

Frame ``i`` is flat grey in two halves: the left half encodes ``i // 16`` and
the right half ``i % 16`` as one of 16 brightness levels 14 apart, far
more than the few levels mp4v coding shifts a flat area by. Halves are
32 pixels wide, whole macroblocks, so the coder does not blend them.
"""
import os
import os.path as osp

import cv2
import numpy as np

SIZE = (64, 48)  # (W, H)
_BASE, _STEP = 24, 14
MAX_FRAMES = 256


def _level(value):
    return _BASE + _STEP * value


def index_frame(index, size=SIZE):
    """BGR frame that encodes ``index`` (< ``MAX_FRAMES``)."""
    w, h = size
    frame = np.empty((h, w, 3), np.uint8)
    frame[:, :w // 2] = _level(index // 16)
    frame[:, w // 2:] = _level(index % 16)
    return frame


def write_index_video(path, num_frames, fps=25, size=SIZE):
    """An mp4 whose frame ``i`` encodes ``i``."""
    assert num_frames <= MAX_FRAMES
    os.makedirs(osp.dirname(path) or '.', exist_ok=True)
    writer = cv2.VideoWriter(
        str(path), cv2.VideoWriter_fourcc(*'mp4v'), fps, size)
    assert writer.isOpened()
    for i in range(num_frames):
        writer.write(index_frame(i, size))
    writer.release()
    return str(path)


def decode_index(frame):
    """Index encoded in a decoded frame (RGB or BGR, any channel order)."""
    h, w = frame.shape[:2]
    # Stay clear of the edge between the halves, where coding rings.
    left = frame[4:-4, 4:w // 2 - 4].mean()
    right = frame[4:-4, w // 2 + 4:-4].mean()
    high, low = (int(round((v - _BASE) / _STEP)) for v in (left, right))
    return 16 * high + low


def decode_indices(frames):
    return [decode_index(f) for f in frames]


def _boxes(data, start, end):
    """``(type, box start, payload start, box end)`` of the boxes in a span."""
    pos = start
    while pos + 8 <= end:
        size = int.from_bytes(data[pos:pos + 4], 'big')
        kind = bytes(data[pos + 4:pos + 8])
        head = 8
        if size == 1:
            size, head = int.from_bytes(data[pos + 8:pos + 16], 'big'), 16
        elif size == 0:
            size = end - pos
        yield kind, pos, pos + head, pos + size
        pos += size


def make_faststart(path):
    """Move the ``moov`` box of an mp4 in front of ``mdat``, as streaming
    encoders do, so that a truncated copy still states every frame.

    OpenCV writes ``moov`` last; chunk offsets (``stco``) are shifted by the
    size of the moved box.
    """
    data = bytearray(open(path, 'rb').read())
    top = {kind: (s, e) for kind, s, _, e in _boxes(data, 0, len(data))}
    moov_start, moov_end = top[b'moov']
    mdat_start = top[b'mdat'][0]
    assert mdat_start < moov_start, 'already fast-start'
    moov = bytearray(data[moov_start:moov_end])
    shift = len(moov)

    def patch(start, end):
        for kind, _, payload, box_end in _boxes(moov, start, end):
            if kind in (b'trak', b'mdia', b'minf', b'stbl'):
                patch(payload, box_end)
            elif kind == b'stco':
                count = int.from_bytes(moov[payload + 4:payload + 8], 'big')
                for k in range(count):
                    at = payload + 8 + 4 * k
                    value = int.from_bytes(moov[at:at + 4], 'big') + shift
                    moov[at:at + 4] = value.to_bytes(4, 'big')
            elif kind == b'co64':
                raise NotImplementedError('64-bit chunk offsets')

    patch(8, len(moov))
    out = (
        data[:mdat_start] + moov + data[mdat_start:moov_start] +
        data[moov_end:])
    with open(path, 'wb') as f:
        f.write(out)
    return path


def truncate(path, fraction, out=None):
    """Copy of the first ``fraction`` of a file's bytes (a cut download)."""
    data = open(path, 'rb').read()
    out = out or path
    with open(out, 'wb') as f:
        f.write(data[:int(len(data) * fraction)])
    return out
