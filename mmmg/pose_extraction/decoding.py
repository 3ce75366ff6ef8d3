"""Sequential, chunked video decoding for pose extraction.

:class:`FrameReader` decodes a video from its first frame to its last with
decord's ``next()``, optionally resized by FFmpeg while decoding (``scale``
below 1), and hands out ``uint8 [n, h, w, 3]`` RGB chunks. Reading in order
matters: decord's ``get_batch`` (what
:class:`mmmg.data_prep.video_jobs.VideoStream` uses for random access) ran
2-4x slower on the 720p benchmark video than ``next()`` for the very same
frames. Errors, including a decode failure half-way or a file with fewer
frames than its index claims, raise
:class:`~mmmg.data_prep.video_jobs.VideoReadError` naming the file.
"""
import os.path as osp
from typing import Callable, Iterator, Tuple, Union

import numpy as np

from mmmg.data_prep.video_jobs import FALLBACK_FPS, VideoReadError, error_line

# A scale or a function of the full ``(W, H)`` giving one.
Scale = Union[float, Callable[[int, int], float]]


def scaled_frame_size(width: int, height: int,
                      scale: float) -> Tuple[int, int]:
    """Decoded ``(w, h)`` of a ``width x height`` video at ``scale``: even
    sizes (FFmpeg's scaler and decord prefer them), at least 32 pixels."""
    if not 0 < scale <= 1:
        raise ValueError(f'the decode scale must be in (0, 1], got {scale}')
    if scale == 1:
        return width, height
    return tuple(
        min(full, max(32, 2 * int(round(full * scale / 2))))
        for full in (width, height))


class FrameReader:
    """Decode one video in order, in chunks, at full or reduced size.

    Args:
        path (str): The video file.
        scale (float | callable): Decode size as a share of the full frame
            size, in ``(0, 1]``, or a function of the full ``(W, H)``
            returning it. Sizes are rounded to even pixels, so the two axes'
            factors (:attr:`factors`) may differ slightly.

    Attributes:
        width, height (int): Full frame size.
        size (tuple[int, int]): Decoded ``(w, h)``.
        factors (tuple[float, float]): ``(w / width, h / height)``.
        num_frames (int): Frames the container announces.
        fps (float): Frame rate (``FALLBACK_FPS`` when unknown).

    Raises:
        VideoReadError: The file is missing, cannot be opened or has no
            frames.
    """

    def __init__(self, path: str, scale: Scale = 1.0) -> None:
        import decord  # noqa: F401  (imported late: heavy and optional)
        self.path = path
        if not osp.isfile(path):
            raise VideoReadError(path, 'no such file')
        self._reader = self._open()
        try:
            self.num_frames = len(self._reader)
            fps = float(self._reader.get_avg_fps())
        except Exception as e:
            raise VideoReadError(
                path, f'cannot open the video '
                f'({error_line(e)})')
        if self.num_frames <= 0:
            raise VideoReadError(path, 'the video has no frames')
        self.fps = fps if np.isfinite(fps) and fps > 0 else FALLBACK_FPS
        self._next_index = 0
        self._pending = self._decode()  # frame 0, which gives the size
        self.height, self.width = self._pending.shape[:2]
        if callable(scale):
            scale = scale(self.width, self.height)
        self.size = scaled_frame_size(self.width, self.height, scale)
        if self.size != (self.width, self.height):
            self._reader = self._open(*self.size)
            self._next_index = 0
            self._pending = self._decode()
        self.factors = (self.size[0] / self.width, self.size[1] / self.height)

    def _open(self, width: int = -1, height: int = -1):
        import decord
        try:
            return decord.VideoReader(
                self.path,
                ctx=decord.cpu(0),
                num_threads=1,
                width=width,
                height=height)
        except Exception as e:  # decord raises RuntimeError or DECORDError
            raise VideoReadError(self.path, 'cannot open the video '
                                 f'({error_line(e)})')

    def _decode(self) -> np.ndarray:
        index = self._next_index
        try:
            frame = self._reader.next().asnumpy()
        except StopIteration:
            raise VideoReadError(
                self.path, f'decoded {index} of the {self.num_frames} '
                'frames; the file may be truncated') from None
        except Exception as e:
            raise VideoReadError(
                self.path, f'cannot decode frame {index} of '
                f'{self.num_frames} ({error_line(e)})') from None
        self._next_index += 1
        return frame

    def chunks(self, chunk_size: int) -> Iterator[np.ndarray]:
        """Yield every frame in order, ``chunk_size`` at a time (once).

        Each chunk is a new array: reusing a ring of chunk buffers instead
        was slower as often as faster in interleaved runs at 720p.

        Raises:
            VideoReadError: A frame cannot be decoded.
        """
        if chunk_size < 1:
            raise ValueError(f'chunk_size must be >= 1, got {chunk_size}')
        w, h = self.size
        for start in range(0, self.num_frames, chunk_size):
            chunk = np.empty(
                (min(chunk_size, self.num_frames - start), h, w, 3), np.uint8)
            for row in chunk:
                if self._pending is not None:
                    row[...], self._pending = self._pending, None
                else:
                    row[...] = self._decode()
            yield chunk

    def close(self) -> None:
        self._reader = self._pending = None

    def __enter__(self) -> 'FrameReader':
        return self

    def __exit__(self, *exc) -> None:
        self.close()
