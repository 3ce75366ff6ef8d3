"""What the release converters (iMiGUE / MiGA, SMG, SSL clip sampling)
share: the error of one bad video or sample, the per-video run with
skip-or-stop on :func:`mmmg.utils.job_runner.run_jobs`, the clip records and
the annotation outputs."""
import json
import logging
import os
import os.path as osp
import pickle
import re
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
from mmengine.logging import print_log

from mmmg.utils.io import atomic_open
from mmmg.utils.job_runner import JobError, run_jobs

SPLITS = ('train', 'val', 'test')


class ReleaseFormatError(ValueError):
    """A video of the release whose files are missing or malformed.

    Args:
        vid (str): Video id.
        path (str): The offending file (or the one expected).
        problem (str): What is wrong.
    """

    def __init__(self, vid: str, path: str, problem: str) -> None:
        # Keep all three in ``args`` so the error pickles across processes.
        super().__init__(vid, path, problem)
        self.vid, self.path, self.problem = vid, path, problem

    def __str__(self) -> str:
        return f'video {self.vid}: {self.path}: {self.problem}'


def check_video_path(error: type, vid: str, video: Optional[str],
                     video_rel: Optional[str]) -> None:
    """Refuse a video path the RGB lists cannot hold."""
    if video_rel is not None and re.search(r'\s', video_rel):
        raise error(
            vid, video, 'the video path has white space, which the '
            'RGB lists cannot hold')


def skip_entry(error: ReleaseFormatError, key: str) -> dict:
    """The summary entry of a skipped video or sample."""
    return {key: error.vid, 'file': error.path, 'reason': error.problem}


def skip_errors(errors: Sequence[ReleaseFormatError], key: str,
                strict: bool) -> List[dict]:
    """Summary entries of errors found before converting (file discovery);
    with ``strict`` the first one is raised."""
    skipped = []
    for error in errors:
        if strict:
            raise error
        print_log(f'skipping {error}', logger='current', level=logging.WARNING)
        skipped.append(skip_entry(error, key))
    return skipped


@dataclass(frozen=True)
class _ItemNames:
    """Names of release items in messages (``'video 0001'``, as
    :class:`ReleaseFormatError` starts) and in failure entries."""
    key: str
    attr: str

    def name(self, item) -> str:
        return f'{self.key} {getattr(item, self.attr)}'

    def fields(self, item) -> dict:
        return {self.key: getattr(item, self.attr)}


def convert_each(items: Sequence,
                 fn: Callable,
                 key: str,
                 id_attr: str,
                 strict: bool = False,
                 workers: int = 1,
                 progress: bool = True) -> Tuple[list, List[dict]]:
    """Run ``fn`` on every item with the job runner: results and skips.

    Args:
        items (Sequence): The videos or samples (each with ``id_attr``).
        fn (callable): ``fn(item)`` returning the item's result; it raises
            :class:`ReleaseFormatError` for a bad item.
        key (str): Name of the id in the summary entries
            (``'video'``, ``'sample'``).
        id_attr (str): Attribute of an item holding its id.
        strict (bool): Raise the first bad item's error instead of skipping
            it.
        workers (int): Parallel processes; 1 runs in this process.
        progress (bool): Show a progress bar.

    Returns:
        tuple: The results of the converted items, in item order, and the
        summary entries ``{key, 'file', 'reason'}`` of the skipped ones.
    """
    names = _ItemNames(key, id_attr)
    try:
        report = run_jobs(
            items,
            fn,
            workers=workers if workers > 1 else 0,
            strict=strict,
            name=names.name,
            fields=names.fields,
            progress=progress,
            desc=f'{key}s',
            unit=key)
    except JobError as e:
        if isinstance(e.__cause__, ReleaseFormatError):
            raise e.__cause__ from None
        raise
    skipped = [
        skip_entry(error, key) if isinstance(error, ReleaseFormatError) else {
            key: entry[key],
            'file': None,
            'reason': entry['error']
        } for entry, error in zip(report.failed, report.errors)
    ]
    return report.results, skipped


def empty_splits(input_splits: Sequence[Optional[str]],
                 results: Sequence) -> List[str]:
    """Splits that had input but got no converted result (each result has
    a ``split``): such a run must not end with status 0."""
    converted = {r.split for r in results}
    return sorted({s for s in input_splits if s} - converted)


def clip_annotation(clip_id: str, label: int, start: int, end: int,
                    shape: Tuple[int, int], keypoint: np.ndarray,
                    keypoint_score: np.ndarray, **extra) -> dict:
    """The pose annotation of frames ``start..end`` of a long sequence.

    Args:
        keypoint (np.ndarray): ``(T, K, 2)`` of the whole video.
        keypoint_score (np.ndarray): ``(T, K)`` of the whole video.
        **extra: Fields after the keypoints (``video``, ``video_path``...).
    """
    return dict(
        frame_dir=clip_id,
        label=label,
        total_frames=end - start + 1,
        img_shape=shape,
        original_shape=shape,
        keypoint=np.ascontiguousarray(keypoint[None, start:end + 1]),
        keypoint_score=np.ascontiguousarray(keypoint_score[None,
                                                           start:end + 1]),
        **extra,
        start=start,
        end=end)


def add_clips(result, vid: str, clips: Sequence[Tuple[int, int,
                                                      int]], shape: Tuple[int,
                                                                          int],
              keypoint: np.ndarray, keypoint_score: np.ndarray,
              video_rel: Optional[str], **extra) -> None:
    """Append the annotations ``<vid>_<row>`` of ``(label, start, end)``
    clips to ``result.annotations``, and their RGB list lines when the
    video is known."""
    for row, (label, start, end) in enumerate(clips):
        clip_id = f'{vid}_{row}'
        result.annotations.append(
            clip_annotation(clip_id, label, start, end, shape, keypoint,
                            keypoint_score, **extra))
        if video_rel is not None:
            result.rgb_lines.append(
                rgb_line(clip_id, video_rel, start, end, label))


@dataclass(frozen=True)
class BoundTask:
    """``fn(item, options)`` as a picklable one-argument job."""
    fn: Callable
    options: Any

    def __call__(self, item):
        return self.fn(item, self.options)


def rgb_line(clip_id: str,
             video_rel: str,
             start: int,
             end: int,
             label: Optional[int] = None) -> str:
    """A segment list line ``<clip_id> <video> <start> <end> [<label>]``."""
    line = f'{clip_id} {video_rel} {start} {end}'
    return line if label is None else f'{line} {label}'


def write_annotations(out_dir: str, ann_name: str, results: Sequence) -> str:
    """Write the pose pickle ``ann_name`` and ``rgb_{split}.txt`` of
    converted videos (each with ``split``, ``annotations`` and
    ``rgb_lines``) atomically; returns the pickle's path."""
    split = {name: [] for name in SPLITS}
    annotations, rgb_lines = [], {name: [] for name in SPLITS}
    for result in results:
        split[result.split] += [a['frame_dir'] for a in result.annotations]
        annotations += result.annotations
        rgb_lines[result.split] += result.rgb_lines

    os.makedirs(out_dir, exist_ok=True)
    ann_file = osp.join(out_dir, ann_name)
    with atomic_open(ann_file) as f:
        pickle.dump(
            dict(split=split, annotations=annotations),
            f,
            protocol=pickle.HIGHEST_PROTOCOL)
    for name, lines in rgb_lines.items():
        with atomic_open(osp.join(out_dir, f'rgb_{name}.txt'), 'w') as f:
            f.writelines(line + '\n' for line in lines)
    return ann_file


def publish_release(out_dir: str, ann_name: str, results: Sequence,
                    summarize: Callable[[str], dict],
                    input_splits: Sequence[Optional[str]],
                    describe: Callable[[dict], str]) -> dict:
    """Write the outputs of a conversion and its ``summary.json``.

    Args:
        out_dir (str): Output folder.
        ann_name (str): File name of the pose pickle.
        results (Sequence): Converted videos or samples.
        summarize (callable): ``summarize(ann_file)`` gives the summary.
        input_splits (Sequence): The split of every input, to find splits
            left empty (``summary['empty_splits']``).
        describe (callable): Human-readable lines of the summary, logged.

    Returns:
        dict: The summary.
    """
    ann_file = write_annotations(out_dir, ann_name, results)
    summary = summarize(ann_file)
    summary['empty_splits'] = empty_splits(input_splits, results)
    with atomic_open(osp.join(out_dir, 'summary.json'), 'w') as f:
        json.dump(summary, f, indent=2)
    print_log(describe(summary), logger='current')
    return summary


def split_counts(results: Sequence) -> Tuple[Dict[str, list], dict, dict]:
    """Results by split, clips per split and the label histograms."""
    by_split = {
        name: [r for r in results if r.split == name]
        for name in SPLITS
    }
    clips = {
        name: sum(len(r.annotations) for r in rs)
        for name, rs in by_split.items()
    }
    return by_split, clips, label_histograms(by_split)


def label_histograms(by_split: Dict[str, Sequence]) -> Dict[str, dict]:
    """Clips per label (as strings, sorted) of each split's results."""
    histogram = {}
    for name, split_results in by_split.items():
        counts = {}
        for result in split_results:
            for ann in result.annotations:
                counts[ann['label']] = counts.get(ann['label'], 0) + 1
        histogram[name] = {str(k): counts[k] for k in sorted(counts)}
    return histogram
