"""Pose files of :mod:`mmmg.pose_extraction.extractor` to other forms.

- :func:`pose_in_layout`: a pose file's keypoints in any layout of
  :mod:`mmmg.keypoints.layouts` (``mg36``, ``mg22``, ``openpose137``, ...).
  Points the source lacks are zero with score 0 by default.
- :func:`build_annotations`: an MMAction2 pose annotation pickle, the format
  of :mod:`mmmg.data_prep.imigue_release`::

      {'split': {name: [ids]},
       'annotations': [dict(
           frame_dir=id, label=int, total_frames=T, img_shape=(H, W),
           original_shape=(H, W), keypoint=float32[1, T, V, 2],
           keypoint_score=float32[1, T, V], video=path in the list or
           pose file, start=first frame, end=last frame (inclusive))]}

  from segment lists (``rgb_{split}.txt``, lines ``<clip_id> <video>
  <start> <end> [<label>]``: a clip is frames ``start..end`` of the long
  video's pose file), clip lists (``<clip file> [<label>]``: a clip is its
  own pose file) or, with no list, every pose file as one sample (label
  -1). A list's video paths are found in the pose folder with the video
  extension replaced, as the extractor names its outputs when run on the
  same root. Frames without the subject stay in, with zero keypoints and
  scores, so clip frame counts match the videos.
"""
import os
import os.path as osp
import pickle
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from mmmg.keypoints.layouts import convert_pose
from mmmg.utils.io import atomic_open
from mmmg.utils.video_list import (DEFAULT_END_TOLERANCE, read_video_list,
                                   resolve_segment)
from .extractor import OUTPUT_FORMATS

REQUIRED_KEYS = ('keypoint', 'keypoint_score', 'person_found', 'img_shape',
                 'layout')


def load_pose_file(path: str) -> dict:
    """Read a pose file (``.npz`` or ``.pkl``) written by the extractor.

    Raises:
        FileNotFoundError: No such file.
        ValueError: Not a pose file (the message names the file).
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'pose file {path} does not exist')
    ext = osp.splitext(path)[1]
    try:
        if ext == '.npz':
            with np.load(path, allow_pickle=False) as data:
                record = {k: data[k] for k in data.files}
            for key, value in record.items():
                if value.ndim == 0:  # scalars and strings come back 0-d
                    record[key] = value.item()
        elif ext == '.pkl':
            with open(path, 'rb') as f:
                record = pickle.load(f)
        else:
            raise ValueError(f'pose files end in one of {OUTPUT_FORMATS}')
    except Exception as e:
        raise ValueError(f'{path}: not a readable pose file '
                         f'({type(e).__name__}: {e})') from None
    missing = [
        k for k in REQUIRED_KEYS
        if not isinstance(record, dict) or k not in record
    ]
    if missing:
        raise ValueError(f'{path}: not a pose file, it lacks '
                         f'{", ".join(missing)}')
    return record


def pose_in_layout(record: dict,
                   layout: str,
                   missing: str = 'zero') -> Tuple[np.ndarray, np.ndarray]:
    """A pose record's keypoints ``[T, V, 2]`` and scores ``[T, V]`` in
    ``layout`` (see :func:`mmmg.keypoints.layouts.convert_pose`)."""
    keypoint, score = convert_pose(
        np.asarray(record['keypoint'], np.float32),
        np.asarray(record['keypoint_score'], np.float32),
        str(record['layout']), layout, missing)
    return keypoint.astype(np.float32), score.astype(np.float32)


def find_pose_files(pose_dir: str) -> List[str]:
    """Pose files below ``pose_dir`` relative to it, sorted; hidden
    (partial) files are ignored."""
    if not osp.isdir(pose_dir):
        raise NotADirectoryError(f'pose folder {pose_dir} does not exist')
    found = []
    for folder, dirs, files in os.walk(pose_dir):
        dirs[:] = sorted(d for d in dirs if not d.startswith('.'))
        found.extend(
            osp.relpath(osp.join(folder, name), pose_dir) for name in files
            if not name.startswith('.')
            and osp.splitext(name)[1] in OUTPUT_FORMATS)
    return sorted(found)


def pose_file_of(pose_dir: str, video: str) -> Optional[str]:
    """The pose file of a video path of a list, or None when there is
    none."""
    stem = osp.join(pose_dir, osp.splitext(video)[0])
    for ext in OUTPUT_FORMATS:
        if osp.isfile(stem + ext):
            return stem + ext
    return None


def make_annotation(record: dict,
                    frame_dir: str,
                    layout: str,
                    label: int = -1,
                    start: int = 0,
                    end: Optional[int] = None,
                    missing: str = 'zero',
                    video: Optional[str] = None) -> dict:
    """One annotation of frames ``start..end`` (inclusive; default: to the
    last frame) of a pose record, in ``layout``."""
    keypoint, score = pose_in_layout(record, layout, missing)
    end = len(keypoint) - 1 if end is None else end
    shape = tuple(int(v) for v in record['img_shape'])
    return dict(
        frame_dir=frame_dir,
        label=int(label),
        total_frames=end - start + 1,
        img_shape=shape,
        original_shape=shape,
        keypoint=keypoint[None, start:end + 1].copy(),
        keypoint_score=score[None, start:end + 1].copy(),
        video=video,
        start=start,
        end=end)


@dataclass
class PackReport:
    """What :func:`build_annotations` left out.

    Attributes:
        skipped (list[str]): ``'<list>: <sample>: <reason>'`` per sample.
    """
    skipped: List[str] = field(default_factory=list)


def build_annotations(pose_dir: str,
                      layout: str,
                      lists: Optional[Dict[str, str]] = None,
                      split_name: str = 'all',
                      missing: str = 'zero',
                      end_tolerance: int = DEFAULT_END_TOLERANCE,
                      strict: bool = False) -> Tuple[dict, PackReport]:
    """The annotation pickle's content (see the module docstring).

    Args:
        pose_dir (str): Output folder of the extractor.
        layout (str): Target keypoint layout.
        lists (dict[str, str], optional): Split name to segment or clip
            list; None packs every pose file, in split ``split_name``.
        split_name (str): Split of the samples without lists.
        missing (str): Policy for points the source layout lacks.
        end_tolerance (int): Frames a segment may end past its video's last
            pose frame (clamped), as the video readers allow.
        strict (bool): Raise on a sample that cannot be packed instead of
            leaving it out and reporting it.

    Returns:
        tuple[dict, PackReport]: The pickle's content and what was left out.

    Raises:
        ValueError: In strict mode, a sample without a pose file or whose
            segment does not fit; always, a sample id in two splits.
    """
    report = PackReport()
    cache: Dict[str, dict] = {}

    def record_of(path: str) -> dict:
        if path not in cache:
            cache.clear()  # lists are sorted by video: keep one in memory
            cache[path] = load_pose_file(path)
        return cache[path]

    split: Dict[str, List[str]] = {}
    annotations = []
    if lists is None:
        samples = [(split_name, None, osp.splitext(rel)[0], rel, -1, None,
                    None) for rel in find_pose_files(pose_dir)]
    else:
        samples = []
        for name, list_file in lists.items():
            _, entries = read_video_list(list_file)
            samples.extend((name, list_file, e.sample_id, e.video, e.label,
                            e.start, e.end) for e in entries)
    seen = {}
    for name, list_file, sample_id, video, label, start, end in samples:
        if sample_id in seen and seen[sample_id] != name:
            raise ValueError(f'sample {sample_id!r} is in splits '
                             f'{seen[sample_id]!r} and {name!r}')
        seen[sample_id] = name
        where = f'{list_file or pose_dir}: {sample_id}'
        path = osp.join(pose_dir, video) if list_file is None else \
            pose_file_of(pose_dir, video)
        try:
            if path is None:
                raise ValueError(f'no pose file for {video} in {pose_dir}')
            record = record_of(path)
            total = len(record['keypoint'])
            if start is None:
                start, end = 0, total - 1
            start, end = resolve_segment(start, end, total, end_tolerance)
            annotations.append(
                make_annotation(record, sample_id, layout, label, start, end,
                                missing, video))
        except ValueError as e:
            if strict:
                raise ValueError(f'{where}: {e}') from None
            report.skipped.append(f'{where}: {e}')
            continue
        split.setdefault(name, []).append(sample_id)
    return dict(split=split, annotations=annotations), report


def write_annotations(path: str, data: dict) -> None:
    """Write the annotation pickle atomically."""
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    with atomic_open(path, 'wb') as f:
        pickle.dump(data, f, protocol=pickle.HIGHEST_PROTOCOL)


def split_lists(specs: Sequence[str]) -> Dict[str, str]:
    """``['train=rgb_train.txt', ...]`` as ``{'train': 'rgb_train.txt'}``.

    Raises:
        ValueError: An item without ``=`` or a repeated split.
    """
    lists = {}
    for spec in specs:
        name, sep, path = spec.partition('=')
        if not sep or not name or not path:
            raise ValueError(f'{spec!r} is not SPLIT=LIST (e.g. '
                             'train=rgb_train.txt)')
        if name in lists:
            raise ValueError(f'split {name!r} is given twice')
        lists[name] = path
    return lists
