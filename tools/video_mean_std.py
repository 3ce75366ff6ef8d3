"""Per-channel mean and std of the RGB frames of videos, in one pass.

Inputs are videos, clip lists (``<clip file> [<label>]``) or segment lists
(``<clip_id> <video> <start> <end> [<label>]``, frames 0-based, end
inclusive, as ``rgb_{split}.txt`` of the iMiGUE converter): a segment list
counts only its clips' frames (a frame in two clips counts twice, as in the
clips themselves). ``--frame-step N`` reads every N-th frame of each clip or
video. Frames are decoded with decord in RGB order and counted into an
exact 256-bin histogram per channel, so the statistics are exact integer
sums (no float cancellation) whatever the number of frames, and videos can
be read in parallel (``--workers``). A video that cannot be read is skipped
and logged (``--strict`` stops instead). The JSON output holds ``mean`` and
``std`` (population std, 0-255 scale, RGB order) for a config's data
preprocessor, and the counts and failures.

Examples:
    python tools/video_mean_std.py data/imigue/annotations/rgb_train.txt \\
        --video-root data/imigue/release --frame-step 5 --workers 4 \\
        --out work_dirs/imigue_rgb_stats.json
    python tools/video_mean_std.py a.mp4 b.mp4 --out stats.json
"""
import argparse
import json
import os.path as osp
import sys
from typing import List, Optional, Sequence, Tuple

import numpy as np

from mmmg.utils.cli import (ToolError, add_debug_arg, check_output_file,
                            cli_main)
from mmmg.utils.io import atomic_open
from mmmg.utils.job_runner import EXIT_INCOMPLETE, JobError, run_jobs
from mmmg.utils.video_list import read_video_list, resolve_segment

VIDEO_EXTENSIONS = ('.mp4', '.avi', '.mkv', '.mov', '.webm', '.m4v')
CHANNELS = ('R', 'G', 'B')
# Frames decoded at once: bounds memory for long HD videos.
CHUNK = 16

# One video and the frame spans to read (None: the whole video); a plain
# tuple, so that it pickles to worker processes from a script.
VideoJob = Tuple[str, Optional[Tuple[Tuple[int, int], ...]]]


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        'inputs',
        nargs='+',
        metavar='VIDEO_OR_LIST',
        help='videos (by their ending: '
        f'{" ".join(VIDEO_EXTENSIONS)}) or clip / segment lists')
    parser.add_argument(
        '--out', required=True, help='JSON file of the statistics')
    parser.add_argument(
        '--video-root',
        metavar='DIR',
        help='base of the relative video paths of the lists (default: each '
        "list's folder)")
    parser.add_argument(
        '--frame-step',
        type=int,
        default=1,
        metavar='N',
        help='read every N-th frame of each clip or video (default 1: all)')
    parser.add_argument(
        '--workers',
        type=int,
        default=0,
        help='worker processes (default 0: this process)')
    parser.add_argument(
        '--strict',
        action='store_true',
        help='stop at the first unreadable video instead of skipping it')
    parser.add_argument(
        '--no-progress',
        dest='progress',
        action='store_false',
        help='hide the progress bars')
    add_debug_arg(parser)
    return parser.parse_args(argv)


def plan_jobs(inputs: Sequence[str],
              video_root: Optional[str] = None) -> List[VideoJob]:
    """One job per distinct video, with the segments of all lists that
    name it; a video given whole (or by a clip list) is read whole."""
    spans, whole = {}, set()
    for path in inputs:
        if path.lower().endswith(VIDEO_EXTENSIONS):
            if not osp.isfile(path):
                raise ToolError(f'video {path!r} not found; check the path')
            whole.add(path)
            continue
        list_format, entries = read_video_list(path)
        root = video_root or osp.dirname(osp.abspath(path))
        for e in entries:
            video = osp.join(root, e.video)
            if list_format == 'clip':
                whole.add(video)
            else:
                spans.setdefault(video, []).append((e.start, e.end))
    videos = list(dict.fromkeys([*spans, *sorted(whole)]))
    return [(v, None if v in whole else tuple(spans[v])) for v in videos]


def frame_indices(job: VideoJob, num_frames: int, step: int) -> np.ndarray:
    """Indices of the frames to read, in reading order."""
    video, segments = job
    if segments is None:
        return np.arange(0, num_frames, step)
    parts = []
    for start, end in segments:
        try:
            start, end = resolve_segment(start, end, num_frames)
        except ValueError as e:
            raise ValueError(f'{video}: {e}') from None
        parts.append(np.arange(start, end + 1, step))
    return np.concatenate(parts)


def channel_histograms(video: str,
                       indices: np.ndarray,
                       on_frames=None) -> np.ndarray:
    """``[3, 256]`` counts of each RGB value over the given frames."""
    import decord
    hist = np.zeros((3, 256), dtype=np.int64)
    reader = decord.VideoReader(video, num_threads=1)
    for first in range(0, len(indices), CHUNK):
        batch = indices[first:first + CHUNK]
        frames = reader.get_batch(batch.tolist()).asnumpy()
        if frames.ndim != 4 or frames.shape[-1] != 3:
            raise ValueError(f'{video}: decoded frames of shape '
                             f'{frames.shape}, not [N, H, W, 3]')
        for c in range(3):
            hist[c] += np.bincount(frames[..., c].ravel(), minlength=256)
        if on_frames is not None:
            on_frames(len(batch))
    return hist


def video_histograms(job: VideoJob, step: int, on_frames=None):
    """The histograms of one job's frames and its frame count."""
    import decord
    video = job[0]
    try:
        num_frames = len(decord.VideoReader(video, num_threads=1))
    except Exception as e:  # decord raises its own DECORDError
        raise ValueError(f'{video}: cannot be read as a video '
                         f'({type(e).__name__}: {e})') from None
    if num_frames == 0:
        raise ValueError(f'{video}: the video has no frames')
    indices = frame_indices(job, num_frames, step)
    return channel_histograms(video, indices, on_frames), len(indices)


def stats_from_histograms(hist: np.ndarray) -> Tuple[List[float], List[float]]:
    """Mean and population std per channel, exactly: integer sums of x
    and x^2 (Python ints), one division at the end."""
    values = np.arange(256)
    mean, std = [], []
    for h in hist:
        n = int(h.sum())
        s = int((h * values).sum())
        q = int((h * values * values).sum())
        mean.append(s / n)
        # n^2 var = n q - s^2, exact in integers.
        std.append(((n * q - s * s)**0.5) / n)
    return mean, std


class _Measure:
    """The per-job function of the runner (picklable)."""

    def __init__(self, step: int) -> None:
        self.step = step

    def __call__(self, job: VideoJob, on_units):
        hist, frames = video_histograms(job, self.step, on_units)
        return hist, frames


def measure(jobs: Sequence[VideoJob],
            frame_step: int = 1,
            workers: int = 0,
            strict: bool = False,
            progress: bool = True) -> dict:
    """Statistics of the jobs' frames; failed videos are listed."""
    report = run_jobs(
        jobs,
        _Measure(frame_step),
        workers=workers,
        strict=strict,
        name=lambda job: job[0],
        progress=progress,
        desc='videos',
        unit='video',
        units='frame')
    hist = np.zeros((3, 256), dtype=np.int64)
    frames = 0
    for h, n in report.results:
        hist += h
        frames += n
    result = dict(
        channel_order=''.join(CHANNELS),
        frames=frames,
        pixels_per_channel=int(hist[0].sum()),
        videos=len(report.done),
        frame_step=frame_step,
        failed=[entry['error'] for entry in report.failed])
    if frames:
        result['mean'], result['std'] = stats_from_histograms(hist)
    return result, report


def main(argv=None):
    args = parse_args(argv)
    if args.frame_step < 1:
        raise ToolError(f'--frame-step must be >= 1, got {args.frame_step}')
    if args.workers < 0:
        raise ToolError(f'--workers must be >= 0, got {args.workers}')
    check_output_file(args.out, '--out')
    jobs = plan_jobs(args.inputs, args.video_root)
    try:
        result, report = measure(jobs, args.frame_step, args.workers,
                                 args.strict, args.progress)
    except JobError as e:
        raise ToolError(f'{e}; fix or drop the video, or leave out '
                        '--strict to skip it') from e
    print(f"{result['videos']} videos read ({result['frames']} frames), "
          f'{len(report.failed)} failed of {report.total}')
    if not result['frames']:
        print('no frame could be read; nothing written')
        sys.exit(EXIT_INCOMPLETE)
    result['inputs'] = list(args.inputs)
    with atomic_open(args.out, 'w') as f:
        json.dump(result, f, indent=1)
    print('mean ' + ', '.join(f'{m:.3f}' for m in result['mean']) + ' std ' +
          ', '.join(f'{s:.3f}'
                    for s in result['std']) + f' (RGB) -> {args.out}')


if __name__ == '__main__':
    cli_main(main)
