"""Open a long video for decoding one segment of it with the stock pipeline.

iMiGUE clips are ``[start, end]`` frame ranges of long interview videos
(``rgb_{split}.txt`` of the converter). :class:`DecordInitSegment` opens the
long video and sets ``total_frames`` and ``start_index`` so that the stock
samplers (``SampleFrames``, ``UniformSample``, ...), which draw indices in
``[0, total_frames)`` and add ``start_index``, pick frames of the segment
only; stock ``DecordDecode`` then decodes them.
"""
import io
import os
import os.path as osp
from collections import OrderedDict
from typing import Dict, Optional, Sequence

import decord
from mmaction.registry import TRANSFORMS
from mmcv.transforms import BaseTransform
from mmengine import fileio

from mmmg.utils.video_list import DEFAULT_END_TOLERANCE, resolve_segment

# What decord raises for unreadable data (out-of-range indices included).
DECODE_ERRORS = (IndexError, RuntimeError, decord.DECORDError)
# Reader caches inherited through fork; never used, never destroyed (see
# ``DecordInitSegment._get_reader``). Workers end with ``os._exit``.
_INHERITED_READERS = []


class VideoSegmentError(RuntimeError):
    """A video that cannot be read, or a segment that does not fit it.

    Args:
        filename (str): The video.
        sample_id (str, optional): The sample that asked for it.
        problem (str): What is wrong.
    """

    def __init__(self, filename: str, sample_id: Optional[str],
                 problem: str) -> None:
        # All three in ``args``: the error pickles across worker processes.
        super().__init__(filename, sample_id, problem)
        self.filename, self.sample_id, self.problem = (filename, sample_id,
                                                       problem)

    def __str__(self) -> str:
        who = '' if self.sample_id is None else f'sample {self.sample_id!r}: '
        return f'{who}{self.filename}: {self.problem}'


def open_video_reader(filename: str,
                      num_threads: int = 1,
                      backend_args: Optional[dict] = None,
                      sample_id: Optional[str] = None,
                      decode_size: Optional[Sequence[int]] = None):
    """A ``decord.VideoReader`` of ``filename``.

    Local files are opened by path (decord streams them); with
    ``backend_args`` the whole file is fetched into memory first.
    ``decode_size`` ``(width, height)`` makes the reader return frames
    scaled to that size.

    Raises:
        VideoSegmentError: The file is missing, unreadable or has no frames.
    """
    if backend_args is None and not osp.isfile(filename):
        raise VideoSegmentError(filename, sample_id, 'no such video file')
    try:
        source = filename if backend_args is None else io.BytesIO(
            fileio.get(filename, backend_args=backend_args))
        width, height = decode_size or (-1, -1)
        reader = decord.VideoReader(
            source, num_threads=num_threads, width=width, height=height)
    except DECODE_ERRORS + (OSError, ) as e:
        raise VideoSegmentError(
            filename, sample_id,
            f'cannot open the video (truncated or not a video?): {e}') from e
    if len(reader) == 0:
        raise VideoSegmentError(filename, sample_id, 'the video has no frames')
    return reader


class _NamedReader:
    """A decord reader whose decoding errors name the video and sample.

    Stock ``DecordDecode`` only calls ``get_batch`` (``seek``/``next`` in its
    efficient mode); a bare decord error would not say which file failed.
    """

    def __init__(self, reader, filename: str, sample_id: Optional[str]):
        self._reader, self._filename, self._sample_id = (reader, filename,
                                                         sample_id)

    def _wrap(self, method, *args):
        try:
            return method(*args)
        except DECODE_ERRORS as e:
            raise VideoSegmentError(
                self._filename, self._sample_id,
                f'decoding failed (truncated or corrupt video?): {e}') from e

    def get_batch(self, indices):
        return self._wrap(self._reader.get_batch, indices)

    def seek(self, pos):
        return self._wrap(self._reader.seek, pos)

    def next(self):
        return self._wrap(self._reader.next)

    def __getitem__(self, idx):
        return self._wrap(self._reader.__getitem__, idx)

    def __len__(self) -> int:
        return len(self._reader)

    def __getattr__(self, name):
        if name.startswith('_'):  # not set yet (copying): no recursion
            raise AttributeError(name)
        return getattr(self._reader, name)


@TRANSFORMS.register_module()
class DecordInitSegment(BaseTransform):
    """Open a (long) video with decord and restrict sampling to a segment.

    Samples with ``start``/``end`` are segments ``[start, end]`` (0-based,
    inclusive) of a long video: ``total_frames`` becomes the segment length
    and ``start_index`` its first frame, which the stock samplers add to
    every index they draw. Samples without them (pre-cut clips) use the
    whole video from frame 0, as stock ``DecordInit``.

    Readers are cached per worker process (LRU): decord reads every packet
    of a video when it opens it (0.3 s for a 20-minute 720p mp4 here, 3.9x
    loading a cut clip of the segment; a reused reader loads in 1.2x,
    ``benchmarks/bench_segment_decode.py``), so clips of one video should
    share a reader. The list order of val/test data gives that; shuffled
    training mostly does not, and an open reader of such a video holds
    100-200 MB, too much to cache every video: cut the clips first with
    ``data_prep/cut_clips.py`` (``docs/data_preparation.md``, "Long videos
    or cut clips"). Local videos are opened by
    path instead of being read into memory as stock ``DecordInit`` does.
    That packet scan also makes a truncated video fail at once, naming the
    file and sample, as do decoding errors in the stock ``DecordDecode``
    later.

    Required Keys:
        - filename
        - start (optional)
        - end (optional)
        - sample_id (optional, for error messages)

    Modified Keys:
        - end (clamped to the last frame within ``end_tolerance``)
        - start_index

    Added Keys:
        - video_reader
        - total_frames
        - avg_fps

    Args:
        num_threads (int): Decoding threads per reader. Defaults to 1.
        cache_size (int): Open readers kept per process; 0 reopens the video
            for every sample. Defaults to 4.
        end_tolerance (int): How many frames a segment may end past the last
            frame of its video; such an end is clamped. Defaults to
            ``DEFAULT_END_TOLERANCE`` (5, the converter's frame tolerance).
        backend_args (dict, optional): mmengine file backend for videos not
            on a local disk; such a video is read into memory. Defaults to
            None (local paths).
        decode_size (tuple[int], optional): ``(width, height)`` the decoder
            scales frames to (FFmpeg's scaler, in the decoding thread),
            e.g. what the pipeline's ``Resize`` would make of them: less
            memory and colour conversion per frame, and ``Resize`` becomes
            a no-op. The aspect ratio is not kept. decord 0.6.0 fails to
            decode at a few sizes (48x32 of a 320x240 video: a size
            mismatch, raised as :class:`VideoSegmentError`); check the size
            once. Defaults to None (the video's size).
    """

    def __init__(self,
                 num_threads: int = 1,
                 cache_size: int = 4,
                 end_tolerance: int = DEFAULT_END_TOLERANCE,
                 backend_args: Optional[dict] = None,
                 decode_size: Optional[Sequence[int]] = None) -> None:
        if cache_size < 0 or end_tolerance < 0:
            raise ValueError('cache_size and end_tolerance must be >= 0, got '
                             f'{cache_size} and {end_tolerance}')
        self.num_threads = num_threads
        self.cache_size = cache_size
        self.end_tolerance = end_tolerance
        self.backend_args = backend_args
        if decode_size is not None:
            decode_size = tuple(int(v) for v in decode_size)
            if len(decode_size) != 2 or min(decode_size) < 1:
                raise ValueError('decode_size must be (width, height) > 0, '
                                 f'got {decode_size}')
        self.decode_size = decode_size
        self._reset_cache()

    def _reset_cache(self) -> None:
        self._owner_pid = os.getpid()
        self._readers: 'OrderedDict[str, object]' = OrderedDict()

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        for key in ('_readers', '_owner_pid'):
            state.pop(key)
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._reset_cache()

    def _get_reader(self, filename: str, sample_id: Optional[str]):
        if os.getpid() != self._owner_pid:
            # A forked worker: readers of the parent share its file offsets,
            # and destroying one hangs (it waits for a decoder thread that
            # did not survive the fork). Park them, unused, and open anew.
            _INHERITED_READERS.append(self._readers)
            self._reset_cache()
        reader = self._readers.pop(filename, None)
        if reader is None:
            reader = open_video_reader(filename, self.num_threads,
                                       self.backend_args, sample_id,
                                       self.decode_size)
        if self.cache_size:
            self._readers[filename] = reader
            while len(self._readers) > self.cache_size:
                self._readers.popitem(last=False)
        return reader

    def transform(self, results: Dict) -> Dict:
        filename = results['filename']
        sample_id = results.get('sample_id')
        reader = self._get_reader(filename, sample_id)
        num_frames = len(reader)
        if 'start' in results or 'end' in results:
            if 'start' not in results or 'end' not in results:
                raise VideoSegmentError(
                    filename, sample_id, 'a segment needs both `start` and '
                    '`end`')
            try:
                start, end = resolve_segment(
                    int(results['start']), int(results['end']), num_frames,
                    self.end_tolerance)
            except ValueError as e:
                raise VideoSegmentError(filename, sample_id, str(e)) from e
            results['end'] = end
        else:
            start, end = 0, num_frames - 1
        results['video_reader'] = _NamedReader(reader, filename, sample_id)
        results['total_frames'] = end - start + 1
        results['start_index'] = start
        results['avg_fps'] = reader.get_avg_fps()
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(num_threads={self.num_threads}, '
                f'cache_size={self.cache_size}, '
                f'end_tolerance={self.end_tolerance}, '
                f'backend_args={self.backend_args}, '
                f'decode_size={self.decode_size})')
