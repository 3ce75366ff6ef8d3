"""Cut clip files out of long videos, for pipelines that want one file a clip.

Input: a segment list (``rgb_{split}.txt`` of the iMiGUE converter), lines
``<clip_id> <video> <start> <end> [<label>]`` with frames of the long video
(0-based, ``end`` inclusive). Output, in ``out_dir``:

- ``<clip_id>.mp4``: frames ``start..end`` of the long video, same size and
  frame rate, re-encoded (``mp4v`` by default, what OpenCV writes without
  extra codecs). Each appears only once complete (written to a partial
  file, then renamed), and a rerun skips only the clips that decord reads
  to their last frame, so a zero-byte or truncated clip of a killed run is
  cut again.
- a clip list (default ``<list stem>_clips.txt``), lines ``<clip_id>.mp4
  <label>`` in the input order, of the clips that exist; it reads with
  :class:`mmmg.datasets.MGVideoClipDataset` (``data_prefix=dict(video=
  out_dir)``), with the same sample ids as the segment list.
- ``cut_summary.json``: counts and the failures, one entry per video with
  its failed clips and the reason.

The long videos are jobs of :func:`mmmg.utils.job_runner.run_jobs`
(progress, strict stop, a worker crash fails only its video).

Frames are decoded with decord, as :class:`DecordInitSegment` decodes the
segments, so a clip holds the frames a segment sample would read. Each long
video is decoded once, front to back: its clips are sorted by start, and
every frame that some clip needs is decoded once and written to all clips
that hold it (segments may overlap).
"""
import json
import os
import os.path as osp
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np
from mmengine.logging import print_log

from mmmg.datasets.transforms.segment_decode import (VideoSegmentError,
                                                     open_video_reader)
from mmmg.utils.io import atomic_open, atomic_path
from mmmg.utils.job_runner import JobError, JobReport, run_jobs
from mmmg.utils.video_list import (DEFAULT_END_TOLERANCE, VideoListEntry,
                                   read_video_list, resolve_segment)
from .video_jobs import video_is_complete

SUMMARY_FILE = 'cut_summary.json'
CLIP_EXT = '.mp4'
# Frames decoded per decord call: bounds memory (16 frames of 1280x720 RGB
# are 44 MB) while keeping the batched decode efficient.
CHUNK_FRAMES = 16


@dataclass(frozen=True)
class CutOptions:
    """Per-video settings (see :func:`cut_clips`)."""
    out_dir: str
    fourcc: str = 'mp4v'
    end_tolerance: int = DEFAULT_END_TOLERANCE


@dataclass
class VideoCutResult:
    """What became of the clips of one long video."""
    video: str
    written: List[str] = field(default_factory=list)
    failed: List[str] = field(default_factory=list)
    errors: List[str] = field(default_factory=list)


class CutError(RuntimeError):
    """A clip that could not be cut (raised in strict mode)."""


def clip_path(out_dir: str, clip_id: str) -> str:
    """Where the clip file of ``clip_id`` goes."""
    return osp.join(out_dir, clip_id + CLIP_EXT)


class _ClipWriter:
    """Writes one clip through a partial file renamed when complete."""

    def __init__(self, entry: VideoListEntry, end: int, options: CutOptions,
                 fps: float) -> None:
        self.entry, self.end, self.options, self.fps = entry, end, options, fps
        self.path = clip_path(options.out_dir, entry.sample_id)
        os.makedirs(osp.dirname(self.path) or '.', exist_ok=True)
        self._publish = atomic_path(self.path)
        self.tmp = self._publish.__enter__()
        self.writer = None

    def write(self, frames_rgb: np.ndarray) -> None:
        if self.writer is None:
            # Opened at the first frames, whose size it takes.
            height, width = frames_rgb.shape[1:3]
            self.writer = cv2.VideoWriter(
                self.tmp, cv2.VideoWriter_fourcc(*self.options.fourcc),
                self.fps, (width, height))
            if not self.writer.isOpened():
                raise CutError(f'cannot write {self.tmp} with codec '
                               f'{self.options.fourcc!r} at {width}x{height}')
        for frame in frames_rgb:
            self.writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))

    def finish(self) -> None:
        self.writer.release()
        self._publish.__exit__(None, None, None)

    def discard(self) -> None:
        if self.writer is not None:
            self.writer.release()
        self._publish.__exit__(CutError, CutError('discarded'), None)


def _resolve(entries: Sequence[VideoListEntry], num_frames: int,
             end_tolerance: int, fail: Callable) -> List[tuple]:
    """``(start, end, entry)`` of the segments that fit the video, by start;
    ``fail(entries, reason)`` gets the others."""
    pending = []
    for entry in sorted(entries, key=lambda e: (e.start, e.end)):
        try:
            start, end = resolve_segment(entry.start, entry.end, num_frames,
                                         end_tolerance)
        except ValueError as e:
            fail([entry], str(e))
            continue
        pending.append((start, end, entry))
    return pending


def cut_video(video_path: str, entries: Sequence[VideoListEntry],
              options: CutOptions) -> VideoCutResult:
    """Cut the clips of one long video, decoding it once front to back.

    Args:
        video_path (str): The long video.
        entries (Sequence[VideoListEntry]): Its segments (any order).
        options (CutOptions): Where and how to write.

    Returns:
        VideoCutResult: Written and failed clip ids, with the reasons.
    """
    result = VideoCutResult(video_path)

    def fail(entries_, reason):
        result.failed += [e.sample_id for e in entries_]
        result.errors.append(
            f'{", ".join(e.sample_id for e in entries_)}: {reason}')

    try:
        reader = open_video_reader(video_path)
    except VideoSegmentError as e:
        fail(entries, e.problem)
        return result
    num_frames, fps = len(reader), reader.get_avg_fps()

    pending = _resolve(entries, num_frames, options.end_tolerance, fail)

    active: List[_ClipWriter] = []
    frame, i = 0, 0
    try:
        while i < len(pending) or active:
            if not active:
                frame = max(frame, pending[i][0])  # skip frames no clip has
            while i < len(pending) and pending[i][0] <= frame:
                active.append(
                    _ClipWriter(pending[i][2], pending[i][1], options, fps))
                i += 1
            # A chunk ends where a clip ends or the next one starts, so each
            # chunk goes to the same set of clips.
            stop = min([frame + CHUNK_FRAMES - 1] + [w.end for w in active] +
                       ([pending[i][0] - 1] if i < len(pending) else []))
            frames = reader.get_batch(list(range(frame, stop + 1))).asnumpy()
            for writer in active:
                writer.write(frames)
            frame = stop + 1
            for writer in [w for w in active if w.end < frame]:
                writer.finish()
                active.remove(writer)
                result.written.append(writer.entry.sample_id)
    except Exception as e:  # noqa: BLE001 - reported as the clips' failure
        # Clips finished before the error stay written and counted.
        fail([w.entry for w in active] + [p[2] for p in pending[i:]],
             f'decoding or writing failed at frame {frame}: '
             f'{type(e).__name__}: {e}')
    finally:
        # Never leave a partial clip behind (errors, Ctrl-C).
        for writer in active:
            writer.discard()
    return result


@dataclass(frozen=True)
class _VideoClips:
    """One long video and the clips to cut from it: a job of the runner."""
    video: str
    entries: Tuple[VideoListEntry, ...]

    def __str__(self) -> str:
        return self.video


@dataclass(frozen=True)
class _CutTask:
    options: CutOptions

    def __call__(self, job: _VideoClips, on_units) -> int:
        """Cut one video's clips; any failed clip fails the job, naming the
        clips and the reasons (the clips written stay)."""
        result = cut_video(job.video, job.entries, self.options)
        on_units(len(result.written))
        if result.failed:
            raise CutError(f'{job.video}: ' + '; '.join(result.errors))
        return len(result.written)


def _video_fields(job: _VideoClips) -> dict:
    return dict(video=job.video)


def _plan(entries: Sequence[VideoListEntry], video_root: str,
          out_dir: str) -> Tuple[List[_VideoClips], int]:
    """Jobs of the clips without a complete file, and how many have one.

    Resume trusts only clips that read to their last frame: a zero-byte or
    truncated clip of a killed run is removed and cut again.
    """
    groups: Dict[str, List[VideoListEntry]] = {}
    done = 0
    for entry in entries:
        path = clip_path(out_dir, entry.sample_id)
        if video_is_complete(path):
            done += 1
            continue
        if osp.exists(path):
            os.remove(path)
        groups.setdefault(osp.join(video_root, entry.video), []).append(entry)
    return [_VideoClips(v, tuple(e)) for v, e in groups.items()], done


def _failures(report: JobReport, jobs: Sequence[_VideoClips],
              out_dir: str) -> List[dict]:
    """Summary entries of the failed videos: their missing clips and why."""
    by_video = {job.video: job for job in jobs}
    failures = []
    for entry in report.failed:
        entries = by_video[entry['video']].entries
        clips = [
            e.sample_id for e in entries
            if not osp.exists(clip_path(out_dir, e.sample_id))
        ]
        failures.append(
            dict(
                video=entry['video'],
                clips=sorted(clips),
                errors=[entry['error']]))
    return sorted(failures, key=lambda f: f['video'])


def cut_clips(list_file: str,
              video_root: str,
              out_dir: str,
              clip_list: Optional[str] = None,
              workers: int = 1,
              strict: bool = False,
              fourcc: str = 'mp4v',
              end_tolerance: int = DEFAULT_END_TOLERANCE,
              progress: bool = True) -> dict:
    """Cut the clips of a segment list (see the module docstring).

    Args:
        list_file (str): Segment list.
        video_root (str): Folder the list's video paths are relative to.
        out_dir (str): Folder of the clip files.
        clip_list (str, optional): Output clip list; defaults to
            ``<out_dir>/<list stem>_clips.txt``.
        workers (int): Parallel processes, one long video each; 1 cuts in
            this process.
        strict (bool): Raise on the first video with a failed clip instead of
            logging it and going on.
        fourcc (str): Codec of the clip files.
        end_tolerance (int): How far a segment may end past the last frame
            of its video (clamped), as in :class:`DecordInitSegment`.
        progress (bool): Show a progress bar.

    Returns:
        dict: The summary also written to ``<out_dir>/cut_summary.json``.

    Raises:
        CutError: With ``strict``, the first failure.
        ValueError: A malformed list, or a clip list instead of segments.
    """
    _, entries = read_video_list(list_file, 'segment')
    os.makedirs(out_dir, exist_ok=True)
    options = CutOptions(
        out_dir=out_dir, fourcc=fourcc, end_tolerance=end_tolerance)
    jobs, already_cut = _plan(entries, video_root, out_dir)
    try:
        report = run_jobs(
            jobs,
            _CutTask(options),
            workers=workers if workers > 1 else 0,
            strict=strict,
            fields=_video_fields,
            progress=progress,
            desc='videos',
            unit='video',
            units='clip')
    except JobError as e:
        raise CutError(str(e)) from None
    failures = _failures(report, jobs, out_dir)

    if clip_list is None:
        stem = osp.splitext(osp.basename(list_file))[0]
        clip_list = osp.join(out_dir, f'{stem}_clips.txt')
    listed = [
        e for e in entries if osp.exists(clip_path(out_dir, e.sample_id))
    ]
    with atomic_open(clip_list, 'w') as f:
        f.writelines(f'{e.sample_id}{CLIP_EXT} {e.label}\n' for e in listed)

    summary = dict(
        list_file=list_file,
        out_dir=out_dir,
        clip_list=clip_list,
        clips=len(entries),
        already_cut=already_cut,
        written=len(listed) - already_cut,
        failed=sum(len(f['clips']) for f in failures),
        listed=len(listed),
        failures=failures)
    with atomic_open(osp.join(out_dir, SUMMARY_FILE), 'w') as f:
        json.dump(summary, f, indent=2)
    print_log(
        f'cut_clips: {summary["written"]} clips written, '
        f'{summary["already_cut"]} already there, {summary["failed"]} '
        f'failed; list {clip_list}',
        logger='current')
    return summary
