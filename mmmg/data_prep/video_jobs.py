"""Batch jobs that turn each video of a set into one derived video.

Flow, depth and similar converters share the same chores, gathered here:

- **Inputs**: videos found under a folder (:func:`discover_videos`) or named
  in a segment or clip list (:func:`mmmg.utils.video_list.list_videos`).
  :func:`plan_video_jobs` maps each one to an output that keeps its
  sub-folder under the output root and ends in ``.mp4``.
- **Streaming**: :class:`VideoStream` decodes with decord in chunks of
  frames, so a long video is never held in memory whole; :class:`FrameWriter`
  writes RGB chunks with ``cv2.VideoWriter``. A video that cannot be opened
  or decoded raises :class:`VideoReadError`, whose message names the file.
- **Running** (:func:`run_video_jobs`): a per-video function run by
  :func:`mmmg.utils.job_runner.run_jobs` (worker processes, bars over videos
  and frames, a worker crash fails only its video, failure log, strict
  stop, exit status). Each output is written to a hidden partial file next
  to it and renamed into place when complete; reruns skip the outputs that
  decord reads to their last frame (:func:`video_is_complete`), so a
  zero-byte or truncated file of a killed run is redone. A failing video is
  logged to a JSON lines file (``{"video": ..., "output": ..., "error":
  ...}``, the error starting with the video's path) and skipped, or stops
  the run in strict mode.

A per-video function has the signature ``fn(src, dst, on_frames) -> int``:
it reads ``src``, writes the complete output to ``dst`` (the partial path,
with the final extension so OpenCV picks the container), calls
``on_frames(n)`` after each ``n`` input frames for the progress bar and
returns the number of frames written. Under the ``fork`` start method the
function is inherited by the workers, not pickled; under ``spawn`` it must
pickle. A function may name the start method it needs in a
``start_method`` attribute (``'spawn'`` for torch models).

:func:`add_job_arguments` and :func:`jobs_from_args` give command-line tools
the same input, output and run options.
"""
import argparse
import os
import os.path as osp
import re
import sys
from dataclasses import dataclass
from typing import Callable, Iterator, List, Optional, Sequence, Tuple

import cv2
import numpy as np

from mmmg.utils.cli import ToolError, check_output_dir, check_output_file
from mmmg.utils.io import atomic_path
from mmmg.utils.job_runner import JobError
from mmmg.utils.job_runner import JobReport as _RunReport
from mmmg.utils.job_runner import run_jobs
from mmmg.utils.video_list import list_videos

VIDEO_EXTENSIONS = ('.mp4', '.avi', '.mkv', '.mov', '.webm', '.m4v')
DEFAULT_CHUNK_SIZE = 32
# Substituted when a container reports no usable frame rate.
FALLBACK_FPS = 25.0

# decord prefixes messages with "[12:00:00] /src/file.cc:123: ".
_DECORD_TAG = re.compile(r'\[\d\d:\d\d:\d\d\] \S+:\d+: ')

FrameCallback = Callable[[int], None]
VideoFunction = Callable[[str, str, FrameCallback], int]


class VideoReadError(RuntimeError):
    """A video that cannot be opened or decoded.

    Args:
        path (str): The video file.
        problem (str): What went wrong.
    """

    def __init__(self, path: str, problem: str) -> None:
        self.path = path
        self.problem = problem
        super().__init__(f'{path}: {problem}')


@dataclass(frozen=True)
class VideoJob:
    """One input video and the output made from it.

    Attributes:
        src (str): Input video.
        dst (str): Final output path.
    """
    src: str
    dst: str


# ---------------------------------------------------------------- inputs --
def _normalize_extensions(extensions: Sequence[str]) -> Tuple[str, ...]:
    return tuple(e.lower() if e.startswith('.') else '.' + e.lower()
                 for e in extensions)


def discover_videos(root: str,
                    extensions: Sequence[str] = VIDEO_EXTENSIONS,
                    exclude: Optional[str] = None) -> List[str]:
    """Video files anywhere below ``root``, sorted.

    Hidden files (partial outputs among them) are ignored.

    Args:
        root (str): Folder to search.
        extensions (Sequence[str]): File endings that count as videos,
            case-insensitive.
        exclude (str, optional): A folder below ``root`` to leave out, e.g.
            the output root when it lies inside the input folder.

    Returns:
        list[str]: Paths starting with ``root``.
    """
    if not osp.isdir(root):
        raise NotADirectoryError(f'video folder {root} does not exist')
    extensions = _normalize_extensions(extensions)
    skip = osp.realpath(exclude) if exclude else None
    videos = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(
            d for d in dirs if not d.startswith('.') and (
                skip is None or osp.realpath(osp.join(folder, d)) != skip))
        videos.extend(
            osp.join(folder, name) for name in files
            if not name.startswith('.')
            and osp.splitext(name)[1].lower() in extensions)
    return sorted(videos)


def plan_video_jobs(videos: Sequence[str],
                    out_root: str,
                    root: Optional[str] = None,
                    suffix: str = '.mp4') -> List[VideoJob]:
    """Pair each video with its output path.

    The output keeps the video's path relative to ``root`` with its
    extension replaced by ``suffix``; a video outside ``root`` (or any video
    without a root) goes straight into ``out_root`` under its own name.

    Args:
        videos (Sequence[str]): Input videos.
        out_root (str): Output root.
        root (str, optional): Input root the sub-folders are taken from.
        suffix (str): Output extension.

    Returns:
        list[VideoJob]: One job a video, in input order.

    Raises:
        ValueError: Two videos map to the same output, or an output would
            replace its own input.
    """
    real_root = osp.realpath(root) if root is not None else None
    jobs, owners = [], {}
    for src in videos:
        real_src = osp.realpath(src)
        rel = osp.basename(src)
        if real_root is not None and real_src.startswith(real_root + os.sep):
            rel = osp.relpath(real_src, real_root)
        dst = osp.join(out_root, osp.splitext(rel)[0] + suffix)
        real_dst = osp.realpath(dst)
        if real_dst == real_src:
            raise ValueError(f'the output of {src} would overwrite it; '
                             'choose an output root outside the inputs')
        if real_dst in owners:
            raise ValueError(f'{owners[real_dst]} and {src} would both be '
                             f'written to {dst}; pass the input root so '
                             'their sub-folders are kept')
        owners[real_dst] = src
        jobs.append(VideoJob(src, dst))
    return jobs


# ------------------------------------------------------------- streaming --
class VideoStream:
    """Chunked decoding of one video with decord.

    Frames are RGB ``uint8`` arrays of shape ``(n, H, W, 3)``. Only the
    requested frames are decoded, so memory stays at one chunk. (decord
    0.6.0 cannot decode a few tiny widths: 16, 24, 48 and 72 pixels;
    such videos raise :class:`VideoReadError` too.)

    Args:
        path (str): The video file.

    Raises:
        VideoReadError: The file is missing, cannot be opened or has no
            frames.
    """

    def __init__(self, path: str) -> None:
        import decord  # noqa: F401  (imported late: heavy and optional)
        self.path = path
        if not osp.isfile(path):
            raise VideoReadError(path, 'no such file')
        try:
            self._reader = decord.VideoReader(
                path, ctx=decord.cpu(0), num_threads=1)
            self.num_frames = len(self._reader)
            fps = float(self._reader.get_avg_fps())
        except Exception as e:  # decord raises RuntimeError or DECORDError
            raise VideoReadError(path,
                                 f'cannot open the video ({error_line(e)})')
        if self.num_frames <= 0:
            raise VideoReadError(path, 'the video has no frames')
        self.fps = fps if np.isfinite(fps) and fps > 0 else FALLBACK_FPS
        first = self.read([0])
        self.height, self.width = first.shape[1:3]

    def read(self, indices: Sequence[int]) -> np.ndarray:
        """Decode the frames at ``indices``.

        Raises:
            VideoReadError: A frame cannot be decoded (damaged or truncated
                data).
        """
        indices = list(indices)
        try:
            frames = self._reader.get_batch(indices).asnumpy()
        except Exception as e:
            raise VideoReadError(
                self.path, f'cannot decode frames {indices[0]}-{indices[-1]} '
                f'of {self.num_frames} ({error_line(e)})')
        if len(frames) != len(indices):
            raise VideoReadError(
                self.path, f'decoded {len(frames)} of the {len(indices)} '
                f'frames from {indices[0]}; the file may be truncated')
        return frames

    def chunks(self,
               chunk_size: int = DEFAULT_CHUNK_SIZE) -> Iterator[np.ndarray]:
        """Yield all frames in order, ``chunk_size`` at a time."""
        if chunk_size < 1:
            raise ValueError(f'chunk_size must be >= 1, got {chunk_size}')
        for start in range(0, self.num_frames, chunk_size):
            yield self.read(
                range(start, min(start + chunk_size, self.num_frames)))

    def close(self) -> None:
        self._reader = None

    def __enter__(self) -> 'VideoStream':
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def error_line(error: Exception) -> str:
    """The first line of an error without decord's time and source tags."""
    lines = str(error).strip().splitlines()
    text = _DECORD_TAG.sub('', lines[0]) if lines else ''
    return f'{type(error).__name__}: {text}'


class FrameWriter:
    """Write RGB frame chunks to a video with ``cv2.VideoWriter``.

    The writer opens on the first frame, so the frame size need not be known
    in advance. It writes exactly where it is told; atomic replacement is the
    job runner's part.

    Args:
        path (str): Output file; its extension picks the container.
        fps (float): Frame rate.
        fourcc (str): Four-character codec code; ``'mp4v'`` is available in
            every OpenCV build.
    """

    def __init__(self, path: str, fps: float, fourcc: str = 'mp4v') -> None:
        self.path = path
        self.fps = fps
        self.fourcc = fourcc
        self.frames = 0
        self._writer = None
        self._size = None

    def write(self, frames: np.ndarray) -> None:
        """Append frames, ``uint8`` of shape ``(n, H, W, 3)`` in RGB."""
        if frames.ndim != 4 or frames.shape[-1] != 3:
            raise ValueError(f'expected (n, H, W, 3) frames for {self.path}, '
                             f'got shape {frames.shape}')
        size = (frames.shape[2], frames.shape[1])
        if self._writer is None:
            self._writer = cv2.VideoWriter(
                self.path, cv2.VideoWriter_fourcc(*self.fourcc), self.fps,
                size)
            if not self._writer.isOpened():
                raise RuntimeError(f'OpenCV cannot write {self.fourcc} video '
                                   f'{self.path}')
            self._size = size
        elif size != self._size:
            raise ValueError(f'frame size changed from {self._size} to '
                             f'{size} while writing {self.path}')
        for frame in frames:
            self._writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
        self.frames += len(frames)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.release()
            self._writer = None
        if self.frames == 0:
            raise RuntimeError(f'no frames were written to {self.path}')

    def __enter__(self) -> 'FrameWriter':
        return self

    def __exit__(self, exc_type, *exc) -> None:
        if exc_type is None:
            self.close()
        elif self._writer is not None:
            self._writer.release()


def scaled_size(width: int, height: int, scale: float) -> Tuple[int, int]:
    """``(W, H)`` times ``scale``, rounded to even numbers.

    Even sizes keep 4:2:0 encoders from cropping a row or column.
    """
    if not 0 < scale <= 1:
        raise ValueError(f'scale must be in (0, 1], got {scale}')
    return (max(2,
                int(round(width * scale / 2)) * 2),
            max(2,
                int(round(height * scale / 2)) * 2))


def resize_frames(frames: np.ndarray, size: Tuple[int, int]) -> np.ndarray:
    """Resize ``(n, H, W, C)`` frames to ``size = (W, H)`` (area filter)."""
    if (frames.shape[2], frames.shape[1]) == tuple(size):
        return frames
    return np.stack([
        cv2.resize(frame, tuple(size), interpolation=cv2.INTER_AREA)
        for frame in frames
    ])


# ---------------------------------------------------------------- running --
def quiet_decoder() -> None:
    """Silence FFmpeg's messages in this process (decord's global level).

    Decoding errors still raise :class:`VideoReadError`; only FFmpeg's own
    stream of warnings (hundreds of lines for one damaged file) goes.
    """
    import decord
    decord.logging.set_level(decord.logging.QUIET)


def video_is_complete(path: str) -> bool:
    """Whether ``path`` is a finished video: decord opens it and decodes its
    last frame. A zero-byte or truncated file of a killed run is not."""
    if not osp.isfile(path) or osp.getsize(path) == 0:
        return False
    try:
        with VideoStream(path) as video:
            video.read([video.num_frames - 1])
    except VideoReadError:
        return False
    return True


@dataclass
class JobReport(_RunReport):
    """A :class:`~mmmg.utils.job_runner.JobReport` of video jobs, whose
    results are the frames written."""

    @property
    def frames(self) -> int:
        """Frames written over the done jobs."""
        return int(sum(self.results))


@dataclass(frozen=True)
class _VideoTask:
    """Run a per-video function on a job, publishing its output
    atomically."""
    fn: VideoFunction

    def __call__(self, job: VideoJob, on_frames: FrameCallback) -> int:
        os.makedirs(osp.dirname(osp.abspath(job.dst)), exist_ok=True)
        with atomic_path(job.dst) as tmp:
            return int(self.fn(job.src, tmp, on_frames))


def _job_name(job: VideoJob) -> str:
    return job.src


def _job_fields(job: VideoJob) -> dict:
    return dict(video=job.src, output=job.dst)


def run_video_jobs(jobs: Sequence[VideoJob],
                   fn: VideoFunction,
                   workers: int = 1,
                   overwrite: bool = False,
                   strict: bool = False,
                   failure_log: Optional[str] = None,
                   progress: bool = True,
                   desc: str = 'videos',
                   start_method: Optional[str] = None,
                   quiet: bool = False,
                   verify: Callable[[str],
                                    bool] = video_is_complete) -> JobReport:
    """Run ``fn`` (see the module docstring) on every job with
    :func:`mmmg.utils.job_runner.run_jobs`.

    Args:
        jobs (Sequence[VideoJob]): Work to do.
        fn (callable): Per-video function ``fn(src, dst, on_frames)``.
        workers (int): Worker processes. A worker that dies (e.g. a decoder
            crash) fails only its video. 0 runs the jobs in this process,
            where such a crash ends the run.
        overwrite (bool): Redo jobs whose output is complete instead of
            skipping them.
        strict (bool): Stop at the first failure with
            :class:`~mmmg.utils.job_runner.JobError` instead of logging and
            going on.
        failure_log (str, optional): JSON lines file listing the failures of
            this run (``{"video", "output", "error"}``).
        progress (bool): Show tqdm bars over videos and frames.
        desc (str): Label of the video bar.
        start_method (str, optional): Multiprocessing start method.
            Defaults to ``fn.start_method`` where ``fn`` has one, else the
            platform's default (``fork`` on Linux). Functions using torch
            need ``'spawn'``: CUDA cannot run in forked children, and
            children forked from a process that ran torch's OpenMP threads
            can hang.
        quiet (bool): Silence FFmpeg's messages (:func:`quiet_decoder`), in
            this process too.
        verify (callable): ``verify(output)`` is True for a finished output
            (resume skips it); by default a video decord reads to its end.

    Returns:
        JobReport: Done, skipped and failed jobs.
    """
    if quiet:
        quiet_decoder()
    report = run_jobs(
        jobs,
        _VideoTask(fn),
        workers=workers,
        verify=lambda job: verify(job.dst),
        overwrite=overwrite,
        strict=strict,
        failure_log=failure_log,
        name=_job_name,
        fields=_job_fields,
        progress=progress,
        desc=desc,
        unit='video',
        units='frame',
        start_method=start_method or getattr(fn, 'start_method', None),
        worker_init=quiet_decoder if quiet else None)
    return JobReport(**vars(report))


# ------------------------------------------------------------------- CLI --
def add_job_arguments(parser: argparse.ArgumentParser,
                      default_workers: int = 1,
                      outputs: str = 'outputs end in .mp4') -> None:
    """Add the shared input, output and run options to a tool's parser;
    ``outputs`` says what the tool writes, for the help of ``--out``."""
    io = parser.add_argument_group('inputs and outputs')
    source = io.add_mutually_exclusive_group(required=True)
    source.add_argument(
        '--input-dir',
        metavar='DIR',
        help='convert every video below this folder')
    source.add_argument(
        '--list',
        metavar='FILE',
        help='convert the videos named in this segment or '
        'clip list (each video once)')
    io.add_argument(
        '--root',
        metavar='DIR',
        help='with --list: base of relative paths and of the '
        'output sub-folders (default: the list file folder)')
    io.add_argument(
        '--column',
        type=int,
        metavar='N',
        help='with --list: 0-based field holding the path; the '
        'list format decides by default (1 in segment lists '
        'such as rgb_*.txt, 0 in clip lists)')
    io.add_argument(
        '--out',
        required=True,
        metavar='DIR',
        help='output root; sub-folders of the inputs are kept '
        f'and {outputs}')
    io.add_argument(
        '--ext',
        nargs='+',
        default=list(VIDEO_EXTENSIONS),
        metavar='EXT',
        help='with --input-dir: video endings '
        f'(default: {" ".join(VIDEO_EXTENSIONS)})')
    _add_run_arguments(parser.add_argument_group('batch run'), default_workers)


def _add_run_arguments(run, default_workers: int) -> None:
    run.add_argument(
        '--workers',
        type=int,
        default=default_workers,
        help='worker processes, one video each; 0 runs in this '
        'process, where a decoder crash ends the run (default '
        f'{default_workers})')
    run.add_argument(
        '--chunk-size',
        type=int,
        default=DEFAULT_CHUNK_SIZE,
        metavar='N',
        help='frames decoded at a time (memory '
        f'bound; default {DEFAULT_CHUNK_SIZE})')
    run.add_argument(
        '--overwrite',
        action='store_true',
        help='redo every video (default: skip the videos whose '
        'output is complete, so an interrupted run resumes and '
        'redoes its zero-byte or truncated outputs)')
    run.add_argument(
        '--strict',
        action='store_true',
        help='stop at the first bad video instead of logging '
        'and skipping it')
    run.add_argument(
        '--failure-log',
        metavar='FILE',
        help='JSON lines log of the videos that failed '
        '(default: <out>/failures.jsonl)')
    run.add_argument(
        '--no-progress', action='store_true', help='hide the progress bars')
    run.add_argument(
        '--decoder-log',
        action='store_true',
        help="show FFmpeg's own messages (hidden by default; "
        'failures are logged either way)')


def jobs_from_args(args: argparse.Namespace,
                   suffix: str = '.mp4') -> List[VideoJob]:
    """The jobs selected by the options of :func:`add_job_arguments`, with
    outputs ending in ``suffix``."""
    if args.input_dir:
        videos = discover_videos(args.input_dir, args.ext, exclude=args.out)
        root = args.input_dir
    else:
        root = args.root or osp.dirname(osp.abspath(args.list))
        videos = list_videos(args.list, root, args.column)
    return plan_video_jobs(videos, args.out, root, suffix)


def run_jobs_from_args(args: argparse.Namespace,
                       fn: VideoFunction,
                       desc: str = 'videos',
                       start_method: Optional[str] = None,
                       verify: Callable[[str], bool] = video_is_complete
                       ) -> JobReport:
    """Plan and run the jobs of a tool's parsed options; print a summary.

    A strict stop is a :class:`~mmmg.utils.cli.ToolError` naming the video
    (one line and exit status 2 under ``cli_main``); a run in which every
    video failed exits with status 1 after the summary (the rule of
    :mod:`mmmg.utils.job_runner`).
    """
    jobs = jobs_from_args(args)
    failure_log = args.failure_log or osp.join(args.out, 'failures.jsonl')
    try:
        report = run_video_jobs(
            jobs,
            fn,
            workers=args.workers,
            overwrite=args.overwrite,
            strict=args.strict,
            failure_log=failure_log,
            progress=not args.no_progress,
            desc=desc,
            start_method=start_method,
            quiet=not args.decoder_log,
            verify=verify)
    except JobError as e:
        raise ToolError(str(e)) from e
    print(report.summary('videos', args.out, f'{report.frames} frames'))
    if report.exit_status:
        sys.exit(report.exit_status)
    return report


def check_video_job_paths(args: argparse.Namespace) -> None:
    """Refuse a missing ``--input-dir`` / ``--list`` or an ``--out`` /
    ``--failure-log`` that cannot be written
    (:class:`~mmmg.utils.cli.ToolError`), before any model loads."""
    if args.input_dir and not osp.isdir(args.input_dir):
        raise ToolError(f'--input-dir {args.input_dir!r} is not a folder; '
                        'pass the folder of the videos')
    if args.list and not osp.isfile(args.list):
        raise ToolError(f'--list {args.list!r} not found; check the path')
    check_output_dir(args.out, '--out')
    if args.failure_log:
        check_output_file(args.failure_log, '--failure-log')


def check_job_arguments(parser: argparse.ArgumentParser,
                        args: argparse.Namespace) -> None:
    """Reject option values :func:`add_job_arguments` cannot check."""
    if args.workers < 0:
        parser.error(f'--workers must be >= 0, got {args.workers}')
    if args.chunk_size < 1:
        parser.error(f'--chunk-size must be >= 1, got {args.chunk_size}')
    if args.column is not None and args.column < 0:
        parser.error(f'--column must be >= 0, got {args.column}')
    if args.root and not args.list:
        parser.error('--root only applies to --list')
