"""Taylor videos of whole video sets (``data_prep/make_taylor_videos.py``).

Each video becomes an mp4 of 8-bit Taylor frames, exactly the frames that
:class:`mmmg.datasets.transforms.TaylorVideo` computes on the fly (same
formula, same fixed mapping ``round(offset + scale_c * T_c)``, see
``mmmg/datasets/transforms/taylor.py``) up to the lossy video codec.

Frame alignment: Taylor frame ``t`` is the window of source frames
``t .. t + L - 1`` (``L = K + 3``), so source frame numbers (and the segment
lists of ``data_prep/imigue_to_mmaction.py``) index the Taylor video
directly. With ``keep_length`` (the default) the source's last frame is
repeated ``L - 1`` times so the Taylor video has as many frames as its
source and segments that end near the end of a video stay inside it;
without it the video has the paper's ``N - L + 1`` frames. A video shorter
than ``L`` frames is padded the same way (``short_video='repeat'``) or
fails (``'error'``).

Streaming: frames are decoded in chunks (:class:`VideoStream`) and only the
last ``L - 1`` gray frames are carried into the next chunk, so memory stays
at one chunk and the output equals the whole-video computation (each Taylor
frame depends on its own window only). Running, resuming, failure logs and
strict mode are those of :mod:`mmmg.data_prep.video_jobs`.

Codec: ``mp4v`` (the default) is OpenCV's MPEG-4 Part 2 encoder at a quality
OpenCV fixes (its FFmpeg options are not passed to the encoder). Taylor
frames are mostly mid grey with fine, noise-like detail, which it keeps only
roughly: on real 640x336 face footage the decoded pixels differ from the
computed ones by 2-3 grey levels (standard deviation, against a signal of
4-6) and mid grey 128 decodes as about (124, 126, 123) in R, G, B.
``FFV1`` (also in ``.mp4``, read by decord) is lossless at 30-50x the size;
:class:`~mmmg.datasets.transforms.TaylorVideo` computes exact frames on the
fly instead.

``taylor_meta.json`` in the output root records the settings; a run with
other settings into the same root is refused (unless overwriting), so one
folder never mixes Taylor videos of different mappings.
"""
import json
import os
import os.path as osp
from dataclasses import dataclass, field
from typing import Optional, Tuple

import numpy as np

from mmmg.datasets.transforms.taylor import (DEFAULT_NUM_TERMS, DEFAULT_OFFSET,
                                             DEFAULT_TAYLOR_SCALE,
                                             SHORT_CLIP_MODES, compute_taylor,
                                             parse_scale, taylor_window,
                                             to_gray)
from mmmg.utils.io import atomic_open
from .video_jobs import (DEFAULT_CHUNK_SIZE, FrameCallback, FrameWriter,
                         VideoReadError, VideoStream)

META_FILE = 'taylor_meta.json'


class TaylorStream:
    """Taylor frames of one video fed chunk by chunk.

    Args:
        num_terms (int): Taylor terms ``K``. Defaults to 3.
        scale (float | Sequence[float]): Per-channel scale of the 8-bit
            mapping. Defaults to ``DEFAULT_TAYLOR_SCALE``.
        offset (float): Grey level of "no motion". Defaults to 128.
        keep_length (bool): At :meth:`finish`, repeat the last frame
            ``L - 1`` times so there are as many Taylor frames as frames.
            Defaults to False.
        short_video (str): Fewer than ``L`` frames in all (without
            ``keep_length``): ``'repeat'`` pads with the last frame,
            ``'error'`` makes :meth:`finish` raise ``ValueError``.
        channel_order (str): Colour order of the pushed frames.
        num_threads (int): Threads of the Taylor computation.
        batch_frames (int): Frames gathered before computing: larger
            batches recompute the ``L - 1`` frames shared with the previous
            batch less often (speed and memory only; the frames are the
            same). Defaults to 48.

    Frames returned by :meth:`push` and :meth:`finish` are views into a
    reused buffer, valid until the next call.
    """

    def __init__(self,
                 num_terms: int = DEFAULT_NUM_TERMS,
                 scale=DEFAULT_TAYLOR_SCALE,
                 offset: float = DEFAULT_OFFSET,
                 keep_length: bool = False,
                 short_video: str = 'repeat',
                 channel_order: str = 'rgb',
                 num_threads: int = 1,
                 batch_frames: int = 48) -> None:
        if short_video not in SHORT_CLIP_MODES:
            raise ValueError(f'short_video must be one of {SHORT_CLIP_MODES}'
                             f', got {short_video!r}')
        self.num_terms = num_terms
        self.window = taylor_window(num_terms)
        self.scale = parse_scale(scale)
        self.offset = float(offset)
        self.keep_length = keep_length
        self.short_video = short_video
        self.channel_order = channel_order
        self.num_threads = num_threads
        self.batch_frames = batch_frames
        self._gray = None  # [capacity, H, W] uint8; _count frames in use
        self._out = None
        self.reset()

    def reset(self) -> None:
        """Start a new video, keeping the buffers (fresh memory is slow to
        touch: page faults cost as much as the computation)."""
        self.frames_in = 0
        self.frames_out = 0
        self._count = 0

    def _reserve(self, shape: Tuple[int, int], frames: int) -> None:
        need = self._count + frames
        if self._gray is not None and self._gray.shape[1:] != shape:
            if self.frames_in:
                raise ValueError(f'frame size changed from '
                                 f'{self._gray.shape[1:]} to {shape}')
            self._gray = self._out = None  # a new video of another size
        if self._gray is None or len(self._gray) < need:
            grown = np.empty((need, ) + shape, np.uint8)
            if self._count:
                grown[:self._count] = self._gray[:self._count]
            self._gray = grown

    def push(self, frames: np.ndarray) -> np.ndarray:
        """Add uint8 frames ``[n, H, W, 3]``; return the Taylor frames
        ``[m, H, W, 3]`` of completed windows once ``batch_frames`` of them
        are pending (otherwise none yet)."""
        frames = np.asarray(frames)
        if frames.ndim != 4 or frames.shape[-1] != 3 or \
                frames.dtype != np.uint8:
            raise ValueError('expected uint8 frames [n, H, W, 3], got '
                             f'{frames.dtype} {frames.shape}')
        self._reserve(frames.shape[1:3], len(frames))
        end = self._count + len(frames)
        to_gray(frames, self.channel_order, out=self._gray[self._count:end])
        self._count = end
        self.frames_in += len(frames)
        if self._count - self.window + 1 < self.batch_frames:
            return np.empty((0, ) + frames.shape[1:], np.uint8)
        return self._emit()

    def _emit(self) -> np.ndarray:
        height, width = self._gray.shape[1:]
        num = self._count - self.window + 1
        if num <= 0:
            return np.empty((0, height, width, 3), np.uint8)
        if self._out is None or len(self._out) < num or \
                self._out.shape[1:3] != (height, width):
            self._out = np.empty((num, height, width, 3), np.uint8)
        out = compute_taylor(
            self._gray[:self._count],
            self.num_terms,
            self.scale,
            self.offset,
            out=self._out[:num],
            num_threads=self.num_threads)
        # The next window starts right after the last one computed.
        self._gray[:self.window - 1] = self._gray[num:self._count]
        self._count = self.window - 1
        self.frames_out += num
        return out

    def finish(self) -> np.ndarray:
        """The Taylor frames still owed at the end of the video: pending
        windows and those of the padding.

        Raises:
            ValueError: No frames were pushed, or the video is shorter than
                one window with ``short_video='error'``.
        """
        if self.frames_in == 0:
            raise ValueError('no frames')
        pad = self.window - 1 if self.keep_length else 0
        if self.frames_out == 0 and self._count + pad < self.window:
            if self.short_video == 'error':
                raise ValueError(
                    f'{self.frames_in} frames are fewer than the Taylor '
                    f'window of {self.window} frames '
                    f'(num_terms={self.num_terms})')
            pad = self.window - self._count
        if pad:
            self._reserve(self._gray.shape[1:], pad)
            last = self._gray[self._count - 1]
            self._gray[self._count:self._count + pad] = last
            self._count += pad
        return self._emit()


@dataclass
class TaylorVideoConverter:
    """Per-video function writing the Taylor video of a video.

    An instance is a :data:`mmmg.data_prep.video_jobs.VideoFunction`.

    Args:
        num_terms (int): Taylor terms ``K``.
        scale (tuple[float]): Per-channel scale of the 8-bit mapping.
        offset (float): Grey level of "no motion".
        keep_length (bool): As many Taylor frames as frames (see the module
            docstring); False gives ``N - L + 1``.
        short_video (str): ``'repeat'`` or ``'error'`` for videos shorter
            than one window.
        chunk_size (int): Frames decoded at a time.
        num_threads (int): Threads of the Taylor computation per process.
        fourcc (str): Output codec.
        verify (bool): Open the written video with decord and check its
            frame count.
    """
    num_terms: int = DEFAULT_NUM_TERMS
    scale: Tuple[float, float, float] = DEFAULT_TAYLOR_SCALE
    offset: float = DEFAULT_OFFSET
    keep_length: bool = True
    short_video: str = 'repeat'
    chunk_size: int = DEFAULT_CHUNK_SIZE
    num_threads: int = 1
    fourcc: str = 'mp4v'
    verify: bool = True
    window: int = field(init=False)

    def __post_init__(self) -> None:
        self.window = taylor_window(self.num_terms)
        self.scale = parse_scale(self.scale)
        if not 0 <= self.offset <= 255:
            raise ValueError(f'offset must be in [0, 255], got {self.offset}')
        if self.short_video not in SHORT_CLIP_MODES:
            raise ValueError(f'short_video must be one of {SHORT_CLIP_MODES}'
                             f', got {self.short_video!r}')
        if self.chunk_size < 1 or self.num_threads < 1:
            raise ValueError('chunk_size and num_threads must be >= 1')
        self._stream = None

    def stream(self) -> TaylorStream:
        """A :class:`TaylorStream` with these settings, reused (reset) from
        one video to the next in this process."""
        if self._stream is None:
            self._stream = TaylorStream(
                self.num_terms,
                self.scale,
                self.offset,
                self.keep_length,
                self.short_video,
                num_threads=self.num_threads)
        self._stream.reset()
        return self._stream

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state['_stream'] = None  # buffers stay in their process
        return state

    def settings(self) -> dict:
        """What the output depends on (``taylor_meta.json``)."""
        return dict(
            num_terms=self.num_terms,
            window=self.window,
            scale=list(self.scale),
            offset=self.offset,
            keep_length=self.keep_length,
            short_video=self.short_video,
            fourcc=self.fourcc,
            mapping='round(offset + scale_c * T_c), uint8-saturated',
            channels='T_c = sum_{n<K} S_n D_{n+1+c}, channel c of '
            'the RGB frame; Taylor frame t = source frames '
            't .. t+window-1')

    def __call__(self,
                 src: str,
                 dst: str,
                 on_frames: FrameCallback = lambda n: None) -> int:
        """Write the Taylor video of ``src`` to ``dst``.

        Returns:
            int: Taylor frames written.

        Raises:
            VideoReadError: ``src`` cannot be opened or decoded, or is
                shorter than one window with ``short_video='error'``.
        """
        with VideoStream(src) as video:
            stream = self.stream()
            with FrameWriter(dst, video.fps, self.fourcc) as writer:
                for chunk in video.chunks(self.chunk_size):
                    taylor = stream.push(chunk)
                    if len(taylor):
                        writer.write(taylor)
                    on_frames(len(chunk))
                try:
                    taylor = stream.finish()
                except ValueError as e:
                    raise VideoReadError(src, str(e)) from e
                if len(taylor):
                    writer.write(taylor)
        if self.verify:
            check_readable(dst, writer.frames)
        return writer.frames


def check_readable(path: str, frames: int) -> None:
    """Check that decord opens ``path`` and sees ``frames`` frames."""
    import decord
    try:
        num = len(decord.VideoReader(path, num_threads=1))
    except Exception as e:  # decord raises RuntimeError or DECORDError
        raise RuntimeError(f'decord cannot read the written video {path}: '
                           f'{e}') from e
    if num != frames:
        raise RuntimeError(f'decord reads {num} frames in the written video '
                           f'{path}, {frames} were written')


def write_taylor_meta(out_root: str,
                      converter: TaylorVideoConverter,
                      overwrite: bool = False) -> str:
    """Record the converter settings in ``out_root/taylor_meta.json``.

    Raises:
        ValueError: The root holds Taylor videos of other settings and
            ``overwrite`` is False.
    """
    path = osp.join(out_root, META_FILE)
    settings = converter.settings()
    if osp.exists(path) and not overwrite:
        with open(path) as f:
            try:
                old = json.load(f)
            except ValueError:
                old = None
        if old != settings:
            raise ValueError(
                f'{out_root} holds Taylor videos made with other settings '
                f'({path}: {old}); use another output folder or overwrite '
                'every video')
        return path
    os.makedirs(out_root, exist_ok=True)
    with atomic_open(path, 'w') as f:
        json.dump(settings, f, indent=2)
        f.write('\n')
    return path


def convert_frames(frames: np.ndarray,
                   converter: Optional[TaylorVideoConverter] = None,
                   chunk_size: Optional[int] = None) -> np.ndarray:
    """The Taylor frames the converter writes for ``frames`` (RGB uint8
    ``[N, H, W, 3]`` in memory), fed in chunks as from a video: for checks
    and benchmarks."""
    converter = converter or TaylorVideoConverter()
    chunk_size = chunk_size or converter.chunk_size
    stream = converter.stream()
    parts = [
        stream.push(frames[i:i + chunk_size]).copy()
        for i in range(0, len(frames), chunk_size)
    ]
    parts.append(stream.finish().copy())
    return np.concatenate(parts)
