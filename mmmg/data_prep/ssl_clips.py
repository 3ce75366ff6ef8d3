"""Sample self-supervised pre-training clips from a MiGA / iMiGUE release.

Durations come from the labelled MG segments of the ``duration_splits``
videos; every video with a skeleton is sampled by
:func:`mmmg.data_prep.ssl_clip_sampler.sample_video_clips`. Outputs, each
written atomically:

- a segment list ``<vid>_ssl<k> <video> <start> <end>`` (no label), read by
  ``MGVideoClipDataset`` as it is, and by ``data_prep/cut_clips.py``;
- optionally a pose annotation pickle of the clips (split ``ssl``, label
  -1, keypoints sliced from the long sequence, in any layout);
- ``<list stem>_summary.json``: counts, acceptance, durations and the
  MG-IoD precision against the label tables that have MG segments.

Parsed skeleton workbooks are cached (as by the converter), so a rerun
only samples again, which is cheap and gives the same clips for a seed.
"""
import json
import os
import os.path as osp
import pickle
from dataclasses import dataclass, field
from typing import List, Optional, Sequence, Tuple

import numpy as np

from mmmg.classes import MIGA_NON_MG_RAW_LABEL
from mmmg.keypoints import convert_pose
from mmmg.utils import atomic_open
from .imigue_release import (VideoFiles, discover_release,
                             load_openpose_skeleton, probe_video,
                             read_label_csv)
from .release_jobs import (ReleaseFormatError, clip_annotation, convert_each,
                           rgb_line, skip_entry, skip_errors)
from .ssl_clip_sampler import (DurationDistribution, Interval, anchor_indices,
                               mg_iod, sample_video_clips, video_rng,
                               visible_prefix)

SOURCE_LAYOUT = 'openpose137'
DEFAULT_SHAPE = (720, 1280)


@dataclass(frozen=True)
class SamplerOptions:
    """Per-video settings (see :func:`sample_release_clips`)."""
    seed: int = 0
    quota: int = 50
    threshold: float = 0.3
    max_tries: Optional[int] = None
    min_gap: int = 0
    layout: Optional[str] = None
    cache_dir: Optional[str] = None


@dataclass
class VideoClips:
    vid: str
    video_rel: Optional[str]
    num_frames: int
    visible_frames: int
    clips: List[Interval]
    annotations: List[dict] = field(default_factory=list)


def mg_segments(files: VideoFiles) -> List[Interval]:
    """The MG (not non-MG) segments of a video's label table."""
    rows = read_label_csv(files.label, files.vid)
    return [(start, end) for raw, start, end in rows
            if raw != MIGA_NON_MG_RAW_LABEL]


def sample_one(files: VideoFiles, durations: DurationDistribution,
               options: SamplerOptions) -> VideoClips:
    """Sample one long video; keypoint clips too if ``options.layout``."""
    if files.skeleton is None:
        raise ReleaseFormatError(files.vid, files.label, 'no skeleton')
    skeleton, _, _ = load_openpose_skeleton(files.skeleton, files.vid,
                                            options.cache_dir)
    prefix = visible_prefix(skeleton[..., 2], anchor_indices(SOURCE_LAYOUT),
                            options.threshold)
    clips = sample_video_clips(prefix, durations,
                               video_rng(options.seed,
                                         files.vid), options.quota,
                               options.max_tries, options.min_gap)
    result = VideoClips(files.vid, files.video_rel, len(skeleton),
                        int(prefix[-1]), clips)
    if options.layout and clips:
        shape = (
            probe_video(files.video, files.vid)[:2]
            if files.video else DEFAULT_SHAPE)
        kp, score = convert_pose(skeleton[..., :2], skeleton[..., 2],
                                 SOURCE_LAYOUT, options.layout)
        kp, score = kp.astype(np.float32), score.astype(np.float32)
        result.annotations = [
            clip_annotation(
                clip_id(files.vid, k),
                -1,
                start,
                end,
                shape,
                kp,
                score,
                video=files.vid,
                video_path=files.video_rel)
            for k, (start, end) in enumerate(clips)
        ]
    return result


def clip_id(vid: str, k: int) -> str:
    return f'{vid}_ssl{k}'


@dataclass(frozen=True)
class _SampleTask:
    """:func:`sample_one` with fixed durations and options: a job of the
    runner."""
    durations: DurationDistribution
    options: SamplerOptions

    def __call__(self, files: VideoFiles) -> VideoClips:
        return sample_one(files, self.durations, self.options)


def label_durations(videos: Sequence[VideoFiles],
                    duration_splits: Sequence[str],
                    strict: bool) -> Tuple[List[int], dict, List[dict]]:
    """MG durations of ``duration_splits``, every labelled video's MG
    segments, and the summary entries of unreadable label tables."""
    durations, ground_truth, skipped = [], {}, []
    for files in videos:
        if files.label is None:
            continue
        try:
            segments = mg_segments(files)
        except ReleaseFormatError as err:
            skipped += skip_errors([err], 'video', strict)
            continue
        ground_truth[files.vid] = segments
        if files.split in duration_splits:
            durations += [end - start + 1 for start, end in segments]
    return durations, ground_truth, skipped


def _write_outputs(results: Sequence[VideoClips], out_list: str,
                   out_pickle: Optional[str]) -> None:
    """The segment list and, if asked, the pose pickle, atomically."""
    lines, annotations = [], []
    for result in results:
        video = result.video_rel or f'{result.vid}.mp4'
        lines += [
            rgb_line(clip_id(result.vid, k), video, start, end)
            for k, (start, end) in enumerate(result.clips)
        ]
        annotations += result.annotations
    os.makedirs(osp.dirname(osp.abspath(out_list)), exist_ok=True)
    with atomic_open(out_list, 'w') as f:
        f.write(''.join(line + '\n' for line in lines))
    if out_pickle:
        os.makedirs(osp.dirname(osp.abspath(out_pickle)), exist_ok=True)
        with atomic_open(out_pickle, 'wb') as f:
            pickle.dump(
                dict(
                    split=dict(ssl=[a['frame_dir'] for a in annotations]),
                    annotations=annotations),
                f,
                protocol=pickle.HIGHEST_PROTOCOL)


def _summarize(root: str, options: SamplerOptions,
               results: Sequence[VideoClips], durations: List[int],
               ground_truth: dict) -> dict:
    clips = {r.vid: r.clips for r in results}
    frames = sum(r.num_frames for r in results)
    visible = sum(r.visible_frames for r in results)
    lengths = np.array([e - s + 1 for v in clips.values() for s, e in v])
    iod = mg_iod(clips, {k: v for k, v in ground_truth.items() if v})
    return dict(
        root=root,
        seed=options.seed,
        quota=options.quota,
        threshold=options.threshold,
        videos=len(clips),
        clips=int(lengths.size),
        videos_at_quota=sum(len(v) >= options.quota for v in clips.values()),
        visible_frame_share=visible / frames if frames else None,
        mean_duration=float(lengths.mean()) if lengths.size else None,
        label_durations=dict(
            count=len(durations),
            mean=float(np.mean(durations)),
            min=int(np.min(durations)),
            max=int(np.max(durations))),
        mg_iod=dict(
            precision=iod.precision,
            mean_iod=iod.mean_iod,
            hit_rate=iod.hit_rate,
            clips=iod.clips))


def sample_release_clips(root: str,
                         out_list: str,
                         options: SamplerOptions = SamplerOptions(),
                         out_pickle: Optional[str] = None,
                         splits: Optional[Sequence[str]] = None,
                         duration_splits: Sequence[str] = ('train', ),
                         workers: int = 1,
                         strict: bool = False,
                         progress: bool = True) -> dict:
    """Sample clips from every video of a release.

    Args:
        root (str): Release root (label tables, skeleton workbooks, mp4s).
        out_list (str): The segment list to write.
        options (SamplerOptions): Seed, quota, threshold, retry budget,
            gap; ``layout`` is set from ``out_pickle``'s layout by the CLI.
        out_pickle (str, optional): Pose annotation pickle of the clips
            (needs ``options.layout``).
        splits (Sequence[str], optional): Sample only videos of these
            splits; all by default.
        duration_splits (Sequence[str]): Splits whose labelled MG segments
            give the duration distribution.
        workers (int): Parallel processes.
        strict (bool): Raise on the first bad video instead of logging and
            skipping it.
        progress (bool): Show a progress bar.

    Returns:
        dict: The summary, also written next to ``out_list``.
    """
    if options.cache_dir:
        os.makedirs(options.cache_dir, exist_ok=True)
    videos, errors = discover_release(root)
    if errors and strict:
        raise errors[0]
    durations, ground_truth, skipped = label_durations(videos, duration_splits,
                                                       strict)
    if not durations:
        raise ValueError(f'{root}: no labelled MG segment in the splits '
                         f'{list(duration_splits)} to draw durations from')
    todo = [
        v for v in videos
        if v.skeleton is not None and (splits is None or v.split in splits)
    ]
    results, failed = convert_each(
        todo, _SampleTask(DurationDistribution(durations), options), 'video',
        'vid', strict, workers, progress)
    skipped += failed + [skip_entry(error, 'video') for error in errors]
    _write_outputs(results, out_list, out_pickle)
    summary = _summarize(root, options, results, durations, ground_truth)
    summary.update(skipped=skipped, list=out_list, pickle=out_pickle)
    stem = osp.splitext(out_list)[0]
    with atomic_open(f'{stem}_summary.json', 'w') as f:
        json.dump(summary, f, indent=2)
        f.write('\n')
    return summary


def format_summary(summary: dict) -> str:
    iod = summary['mg_iod']
    text = [
        f'{summary["clips"]} clips from {summary["videos"]} videos '
        f'({summary["videos_at_quota"]} reached the quota of '
        f'{summary["quota"]}); seed {summary["seed"]}, face threshold '
        f'{summary["threshold"]}',
    ]
    if summary['visible_frame_share'] is not None:
        text.append(f'frames with all five face anchors visible: '
                    f'{summary["visible_frame_share"]:.1%}')
    if summary['mean_duration'] is not None:
        text.append(f'mean clip duration {summary["mean_duration"]:.1f} '
                    f'frames (labelled MGs: '
                    f'{summary["label_durations"]["mean"]:.1f} over '
                    f'{summary["label_durations"]["count"]})')
    if iod['clips']:
        text.append(f'MG-IoD precision {iod["precision"]:.2%} (mean clip IoD '
                    f'{iod["mean_iod"]:.2%}, IoD >= 0.5 for '
                    f'{iod["hit_rate"]:.1%} of {iod["clips"]} clips with '
                    'ground truth)')
    if summary['skipped']:
        text.append(f'skipped {len(summary["skipped"])} videos: ' +
                    '; '.join(f'video {s["video"]}: {s["reason"]}'
                              for s in summary['skipped'][:5]))
    text.append(f'list: {summary["list"]}' + (
        f', skeleton clips: {summary["pickle"]}' if summary['pickle'] else ''))
    return '\n'.join(text)
