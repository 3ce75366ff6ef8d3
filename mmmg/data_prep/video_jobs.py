"""Batch jobs that turn each video of a set into one derived video.

Flow, depth and similar converters share the same chores, gathered here:

- **Inputs**: videos found under a folder (:func:`discover_videos`) or named
  in a list file (:func:`read_video_list`). :func:`plan_video_jobs` maps each
  one to an output that keeps its sub-folder under the output root and ends
  in ``.mp4``.
- **Streaming**: :class:`VideoStream` decodes with decord in chunks of
  frames, so a long video is never held in memory whole; :class:`FrameWriter`
  writes RGB chunks with ``cv2.VideoWriter``. A video that cannot be opened
  or decoded raises :class:`VideoReadError`, whose message names the file.
- **Running** (:func:`run_video_jobs`): a per-video function in worker
  processes, with tqdm bars over videos and frames; a worker that crashes
  (a segfault in a decoder) fails only its own video. Each output is
  written to a hidden partial file next to it and renamed into place when
  complete, so an existing output is always a finished one: reruns skip it
  (resume) unless told to overwrite. A failing video is logged to a JSON
  lines file (``{"video": ..., "output": ..., "error": ...}``, the error
  starting with the video's path) and skipped, or stops the run in strict
  mode.

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
import collections
import json
import multiprocessing
import os
import os.path as osp
import queue as queue_module
import re
import sys
import time
from dataclasses import dataclass, field
from typing import Callable, Iterator, List, Optional, Sequence, Tuple

import cv2
import numpy as np
from tqdm import tqdm

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


class VideoJobError(RuntimeError):
    """A video job failed in strict mode.

    Args:
        video (str): The input video.
        error (str): The failure, starting with the video's path.
    """

    def __init__(self, video: str, error: str) -> None:
        self.video = video
        self.error = error
        super().__init__(error)


@dataclass(frozen=True)
class VideoJob:
    """One input video and the output made from it.

    Attributes:
        src (str): Input video.
        dst (str): Final output path.
    """
    src: str
    dst: str


@dataclass
class JobReport:
    """What a run did, in job order.

    Attributes:
        done (list[VideoJob]): Jobs whose output was written.
        skipped (list[VideoJob]): Jobs whose output already existed.
        failed (list[dict]): ``{'video', 'output', 'error'}`` per failure;
            the error message starts with the video's path.
        frames (int): Frames written over the done jobs.
        failure_log (str, optional): The failure log, when it was written.
    """
    done: List[VideoJob] = field(default_factory=list)
    skipped: List[VideoJob] = field(default_factory=list)
    failed: List[dict] = field(default_factory=list)
    frames: int = 0
    failure_log: Optional[str] = None


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
        dirs[:] = sorted(d for d in dirs if not d.startswith('.') and (
            skip is None or osp.realpath(osp.join(folder, d)) != skip))
        videos.extend(
            osp.join(folder, name) for name in files
            if not name.startswith('.')
            and osp.splitext(name)[1].lower() in extensions)
    return sorted(videos)


def read_video_list(list_file: str,
                    root: Optional[str] = None,
                    column: int = 0) -> List[str]:
    """Videos named in a list file, in order, without repeats.

    Each non-blank line not starting with ``#`` is split on whitespace and
    field ``column`` is the video path (so paths cannot hold spaces). This
    reads plain lists (``column=0``), MMAction2 video lists ``path label``
    and, with ``column=1``, the RGB clip lists of
    :mod:`mmmg.data_prep.imigue_release`.

    Args:
        list_file (str): The list.
        root (str, optional): Base of relative paths; defaults to the list
            file's folder.
        column (int): 0-based field holding the path.

    Returns:
        list[str]: Video paths (relative ones joined to ``root``).
    """
    if not osp.isfile(list_file):
        raise FileNotFoundError(f'video list {list_file} does not exist')
    base = root if root is not None else osp.dirname(osp.abspath(list_file))
    videos, seen = [], set()
    with open(list_file) as f:
        for number, line in enumerate(f, 1):
            fields = line.split()
            if not fields or fields[0].startswith('#'):
                continue
            if column >= len(fields):
                raise ValueError(f'{list_file}, line {number}: no field '
                                 f'{column} in {line.strip()!r}')
            path = osp.join(base, fields[column])
            if path not in seen:
                seen.add(path)
                videos.append(path)
    return videos


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


def partial_path(dst: str) -> str:
    """The hidden file an output is written to before it is renamed.

    The name is fixed per output (one writer per output at a time), so an
    interrupted run leaves at most one partial file, replaced by the next.
    """
    folder, name = osp.split(dst)
    stem, ext = osp.splitext(name)
    return osp.join(folder, f'.{stem}.partial{ext}')


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
            self._reader = decord.VideoReader(path, ctx=decord.cpu(0),
                                              num_threads=1)
            self.num_frames = len(self._reader)
            fps = float(self._reader.get_avg_fps())
        except Exception as e:  # decord raises RuntimeError or DECORDError
            raise VideoReadError(path, f'cannot open the video ({_first(e)})')
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
                f'of {self.num_frames} ({_first(e)})')
        if len(frames) != len(indices):
            raise VideoReadError(
                self.path, f'decoded {len(frames)} of the {len(indices)} '
                f'frames from {indices[0]}; the file may be truncated')
        return frames

    def chunks(self, chunk_size: int = DEFAULT_CHUNK_SIZE
               ) -> Iterator[np.ndarray]:
        """Yield all frames in order, ``chunk_size`` at a time."""
        if chunk_size < 1:
            raise ValueError(f'chunk_size must be >= 1, got {chunk_size}')
        for start in range(0, self.num_frames, chunk_size):
            yield self.read(range(start,
                                  min(start + chunk_size, self.num_frames)))

    def close(self) -> None:
        self._reader = None

    def __enter__(self) -> 'VideoStream':
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _first(error: Exception) -> str:
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
    return (max(2, int(round(width * scale / 2)) * 2),
            max(2, int(round(height * scale / 2)) * 2))


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


def _run_one(job: VideoJob, fn: VideoFunction, on_frames: FrameCallback
             ) -> Tuple[VideoJob, Optional[str], int]:
    """Run ``fn`` on one job, publishing its output atomically.

    Returns:
        tuple: ``(job, error message or None, frames written)``; errors are
        returned rather than raised so the caller picks skip or stop.
    """
    tmp = partial_path(job.dst)
    try:
        os.makedirs(osp.dirname(osp.abspath(job.dst)), exist_ok=True)
        frames = fn(job.src, tmp, on_frames)
        if not osp.isfile(tmp):
            raise RuntimeError(f'the converter wrote no file for {job.src}')
        os.replace(tmp, job.dst)
        return job, None, int(frames)
    except VideoReadError as e:  # its message names the file
        return job, str(e), 0
    except Exception as e:  # any failure of one video must not end the run
        return job, f'{job.src}: {type(e).__name__}: {e}', 0
    finally:
        if osp.exists(tmp):
            os.remove(tmp)


def _worker_loop(worker: int, fn: VideoFunction, tasks, events,
                 threads: int, quiet: bool) -> None:
    """A worker process: run the jobs sent to it until it gets None."""
    if quiet:
        quiet_decoder()
    # Each worker gets its share of the cores for torch. OpenCV's pool is
    # left alone: cv2.setNumThreads hangs in a child forked after the parent
    # used that pool.
    os.environ.setdefault('OMP_NUM_THREADS', str(threads))
    if 'torch' in sys.modules:
        sys.modules['torch'].set_num_threads(threads)
    for job in iter(tasks.get, None):
        result = _run_one(job, fn,
                          lambda n: events.put(('frames', worker, n)))
        events.put(('done', worker, result))


def _crash_message(job: VideoJob, exitcode: Optional[int]) -> str:
    return (f'{job.src}: the worker process died (exit code {exitcode}) '
            'while converting this video: a crash in native code (decoder, '
            'model) or out of memory')


def _run_in_processes(todo: List[VideoJob], fn: VideoFunction, workers: int,
                      on_frames: FrameCallback, start_method: Optional[str],
                      quiet: bool):
    """Yield results of ``todo`` run by ``workers`` processes.

    Jobs are handed out one at a time, so when a worker dies (a segfault in
    a decoder, the OOM killer) its job is known: it is reported as failed
    and a fresh worker takes over the rest. ``multiprocessing.Pool`` would
    hang instead, and ``ProcessPoolExecutor`` fails every queued job.
    """
    ctx = multiprocessing.get_context(start_method)
    events = ctx.Queue()
    threads = max(1, (os.cpu_count() or 1) // workers)
    pending = collections.deque(todo)
    procs, tasks, current = {}, {}, {}

    def start(worker):
        tasks[worker] = ctx.SimpleQueue()
        procs[worker] = ctx.Process(
            target=_worker_loop, daemon=True,
            args=(worker, fn, tasks[worker], events, threads, quiet))
        procs[worker].start()

    def feed(worker):
        current[worker] = pending.popleft() if pending else None
        tasks[worker].put(current[worker])  # None retires the worker

    def receive(timeout):
        """Handle one message; return a finished job's result, if any."""
        kind, worker, payload = events.get(timeout=timeout)
        if kind == 'frames':
            on_frames(payload)
            return None
        feed(worker)
        return payload

    def check_workers():
        for worker, proc in list(procs.items()):
            job = current[worker]
            if job is None or proc.is_alive():
                continue
            # What the worker sent before it died counts first.
            while True:
                try:
                    result = receive(timeout=0.1)
                except queue_module.Empty:
                    break
                if result is not None:
                    yield result
            proc.join()
            if current[worker] is not job:
                # It died after finishing ``job``: the job fed since then
                # never reached it.
                if current[worker] is not None:
                    pending.appendleft(current[worker])
                job = None
            if pending or job is not None:
                start(worker)
                feed(worker)
            else:
                current[worker] = None
            if job is not None:
                yield job, _crash_message(job, proc.exitcode), 0

    try:
        for worker in range(min(workers, len(todo))):
            start(worker)
            feed(worker)
        last_check = time.monotonic()
        while any(job is not None for job in current.values()):
            try:
                result = receive(timeout=0.5)
            except queue_module.Empty:
                result, last_check = None, 0
            if result is not None:
                yield result
            # Check for dead workers when idle and every second, as busy
            # workers' progress messages may never leave the queue idle.
            if time.monotonic() - last_check > 1:
                last_check = time.monotonic()
                yield from check_workers()
    finally:
        # Normal end: every worker got None and exits. Strict stop or
        # Ctrl-C: do not wait for the running videos.
        busy = any(job is not None for job in current.values())
        for proc in procs.values():
            if busy and proc.is_alive():
                proc.terminate()
            proc.join()


def run_video_jobs(jobs: Sequence[VideoJob],
                   fn: VideoFunction,
                   workers: int = 1,
                   overwrite: bool = False,
                   strict: bool = False,
                   failure_log: Optional[str] = None,
                   progress: bool = True,
                   desc: str = 'videos',
                   start_method: Optional[str] = None,
                   quiet: bool = False) -> JobReport:
    """Run ``fn`` (see the module docstring) on every job.

    Args:
        jobs (Sequence[VideoJob]): Work to do.
        fn (callable): Per-video function ``fn(src, dst, on_frames)``.
        workers (int): Worker processes. A worker that dies (e.g. a decoder
            crash) fails only its video. 0 runs the jobs in this process,
            where such a crash ends the run.
        overwrite (bool): Redo jobs whose output exists instead of skipping
            them.
        strict (bool): Stop at the first failure with
            :class:`VideoJobError` instead of logging and going on.
        failure_log (str, optional): JSON lines file listing the failures of
            this run; a stale one from an earlier run is removed at the
            start and a new one is only written when something fails.
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

    Returns:
        JobReport: Done, skipped and failed jobs.
    """
    report = JobReport()
    todo = []
    for job in jobs:
        if not overwrite and osp.exists(job.dst):
            report.skipped.append(job)
        else:
            todo.append(job)
    if failure_log and osp.exists(failure_log):
        os.remove(failure_log)
    if quiet:
        quiet_decoder()

    video_bar = tqdm(total=len(jobs), initial=len(report.skipped), desc=desc,
                     unit='video', disable=not progress, position=0)
    frame_bar = tqdm(desc='frames', unit='frame', disable=not progress,
                     position=1)
    if workers < 1:
        results = (_run_one(job, fn, frame_bar.update) for job in todo)
    else:
        start_method = start_method or getattr(fn, 'start_method', None)
        results = _run_in_processes(todo, fn, workers, frame_bar.update,
                                    start_method, quiet)
    finished = {}
    log = None
    try:
        for job, error, frames in results:
            video_bar.update()
            finished[job] = (error, frames)
            if error is None:
                continue
            if strict:
                raise VideoJobError(job.src, error)
            entry = dict(video=job.src, output=job.dst, error=error)
            if failure_log:
                if log is None:
                    os.makedirs(osp.dirname(osp.abspath(failure_log)),
                                exist_ok=True)
                    log = open(failure_log, 'a')
                    report.failure_log = failure_log
                # One flushed line per failure: the log survives a crash.
                log.write(json.dumps(entry) + '\n')
                log.flush()
            tqdm.write(f'skipped {error}', file=sys.stderr)
    finally:
        # Closing the generator now stops the workers before the error
        # leaves.
        results.close()
        if log is not None:
            log.close()
        frame_bar.close()
        video_bar.close()

    for job in todo:  # job order, whatever the completion order
        error, frames = finished[job]
        if error is None:
            report.done.append(job)
            report.frames += frames
        else:
            report.failed.append(dict(video=job.src, output=job.dst,
                                      error=error))
    return report


# ------------------------------------------------------------------- CLI --
def add_job_arguments(parser: argparse.ArgumentParser,
                      default_workers: int = 1,
                      outputs: str = 'outputs end in .mp4') -> None:
    """Add the shared input, output and run options to a tool's parser;
    ``outputs`` says what the tool writes, for the help of ``--out``."""
    io = parser.add_argument_group('inputs and outputs')
    source = io.add_mutually_exclusive_group(required=True)
    source.add_argument('--input-dir', metavar='DIR',
                        help='convert every video below this folder')
    source.add_argument('--list', metavar='FILE',
                        help='convert the videos named in this file, one a '
                        'line (first whitespace-separated field, see '
                        '--column)')
    io.add_argument('--root', metavar='DIR',
                    help='with --list: base of relative paths and of the '
                    'output sub-folders (default: the list file folder)')
    io.add_argument('--column', type=int, default=0, metavar='N',
                    help='with --list: 0-based field holding the path '
                    '(default 0; 1 for the rgb_*.txt clip lists)')
    io.add_argument('--out', required=True, metavar='DIR',
                    help='output root; sub-folders of the inputs are kept '
                    f'and {outputs}')
    io.add_argument('--ext', nargs='+', default=list(VIDEO_EXTENSIONS),
                    metavar='EXT', help='with --input-dir: video endings '
                    f'(default: {" ".join(VIDEO_EXTENSIONS)})')
    run = parser.add_argument_group('batch run')
    run.add_argument('--workers', type=int, default=default_workers,
                     help='worker processes, one video each; 0 runs in this '
                     'process, where a decoder crash ends the run (default '
                     f'{default_workers})')
    run.add_argument('--chunk-size', type=int, default=DEFAULT_CHUNK_SIZE,
                     metavar='N', help='frames decoded at a time (memory '
                     f'bound; default {DEFAULT_CHUNK_SIZE})')
    run.add_argument('--overwrite', action='store_true',
                     help='redo videos whose output exists (default: skip '
                     'them, so an interrupted run resumes)')
    run.add_argument('--strict', action='store_true',
                     help='stop at the first bad video instead of logging '
                     'and skipping it')
    run.add_argument('--failure-log', metavar='FILE',
                     help='JSON lines log of the videos that failed '
                     '(default: <out>/failures.jsonl)')
    run.add_argument('--no-progress', action='store_true',
                     help='hide the progress bars')
    run.add_argument('--decoder-log', action='store_true',
                     help="show FFmpeg's own messages (hidden by default; "
                     'failures are logged either way)')


def jobs_from_args(args: argparse.Namespace) -> List[VideoJob]:
    """The jobs selected by the options of :func:`add_job_arguments`."""
    if args.input_dir:
        videos = discover_videos(args.input_dir, args.ext, exclude=args.out)
        root = args.input_dir
    else:
        root = args.root or osp.dirname(osp.abspath(args.list))
        videos = read_video_list(args.list, root, args.column)
    return plan_video_jobs(videos, args.out, root)


def run_jobs_from_args(args: argparse.Namespace,
                       fn: VideoFunction,
                       desc: str = 'videos',
                       start_method: Optional[str] = None) -> JobReport:
    """Plan and run the jobs of a tool's parsed options; print a summary."""
    jobs = jobs_from_args(args)
    failure_log = args.failure_log or osp.join(args.out, 'failures.jsonl')
    report = run_video_jobs(
        jobs, fn, workers=args.workers, overwrite=args.overwrite,
        strict=args.strict, failure_log=failure_log,
        progress=not args.no_progress, desc=desc, start_method=start_method,
        quiet=not args.decoder_log)
    print(f'{len(report.done)} written ({report.frames} frames), '
          f'{len(report.skipped)} already done, {len(report.failed)} failed '
          f'of {len(jobs)} videos in {args.out}')
    if report.failed:
        print(f'failures are listed in {report.failure_log}')
    return report


def check_job_arguments(parser: argparse.ArgumentParser,
                        args: argparse.Namespace) -> None:
    """Reject option values :func:`add_job_arguments` cannot check."""
    if args.workers < 0:
        parser.error(f'--workers must be >= 0, got {args.workers}')
    if args.chunk_size < 1:
        parser.error(f'--chunk-size must be >= 1, got {args.chunk_size}')
    if args.column < 0:
        parser.error(f'--column must be >= 0, got {args.column}')
    if args.root and not args.list:
        parser.error('--root only applies to --list')
