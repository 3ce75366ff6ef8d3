"""The shared index of online self-supervised clip sampling.

Online sampling (:class:`mmmg.datasets.LongVideoDataset` with
:class:`mmmg.datasets.transforms.FacialVisibilitySample`) checks candidate
clips against the prefix sums of each long video's "all face anchors
visible" flags (:func:`~mmmg.data_prep.ssl_clip_sampler.visible_prefix`).
Thousands of interviews of tens of thousands of frames would cost every
data-loading worker gigabytes as int64 arrays, so they are built once into
one compact file that every process memory-maps (the page cache holds it
once):

- ``<index>.npy``: the prefix sums of all videos concatenated, uint16 when
  no video reaches 65,536 frames (counts fit), else uint32; video ``i``
  owns ``num_frames + 1`` entries from its ``offset``.
- ``<index>.json``: per video its files, offset and frame counts; the
  labelled MG durations the sampler draws from; each labelled video's MG
  intervals (for MG-IoD); the videos left out and why; and a fingerprint of
  the inputs and settings. The index is rebuilt only when the fingerprint
  changes.
- ``<index>_pose/<vid>.npy`` (with a pose layout): float32 ``[T, V, 3]``
  keypoints (x, y, score) of each video for skeleton pipelines,
  memory-mapped the same way.

Every file is written atomically, the JSON last, so an interrupted build
leaves no index that looks finished.
"""
import hashlib
import json
import os
import os.path as osp
from collections import OrderedDict
from dataclasses import asdict, dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from mmmg.keypoints import convert_pose
from mmmg.utils import atomic_open
from mmmg.utils.io import atomic_path
from .imigue_release import (VideoFiles, discover_release,
                             load_openpose_skeleton, probe_video)
from .release_jobs import ReleaseFormatError, convert_each, skip_entry
from .ssl_clip_sampler import Interval, anchor_indices, visible_prefix
from .ssl_clips import label_durations

INDEX_VERSION = 1
SOURCE_LAYOUT = 'openpose137'
DEFAULT_SHAPE = (720, 1280)
# Frames a video may hold fewer than its pose rows (or the other way round)
# without a note: the converter's and DecordInitSegment's tolerance.
FRAME_TOLERANCE = 5
# Keypoint files kept memory-mapped per process.
POSE_MAPS = 32


def prefix_dtype(max_frames: int) -> np.dtype:
    """The smallest unsigned type that holds the counts of a video."""
    return np.dtype(np.uint16 if max_frames < 2**16 else np.uint32)


def index_files(index: str) -> Tuple[str, str, str]:
    """``(prefix .npy, meta .json, pose folder)`` of an index path."""
    stem = index[:-5] if index.endswith('.json') else index
    return f'{stem}.npy', f'{stem}.json', f'{stem}_pose'


def pose_path(pose_dir: str, vid: str) -> str:
    """Where the index keeps a video's keypoints."""
    return osp.join(pose_dir, f'{vid}.npy')


@dataclass(frozen=True)
class IndexOptions:
    """What an index depends on besides the files (its fingerprint).

    Attributes:
        threshold (float): Face-anchor confidence a visible frame needs.
        duration_splits (tuple[str]): Splits whose MG durations are drawn.
        splits (tuple[str], optional): Index only videos of these splits.
        pose_layout (str, optional): Also store each video's keypoints in
            this layout (skeleton pipelines).
    """
    threshold: float = 0.3
    duration_splits: Tuple[str, ...] = ('train', )
    splits: Optional[Tuple[str, ...]] = None
    pose_layout: Optional[str] = None


@dataclass
class IndexedVideo:
    """One video of the index.

    ``num_frames`` is what clips are drawn from: the pose rows, or the
    video's frames where the video is shorter by more than
    :data:`FRAME_TOLERANCE`.
    """
    vid: str
    split: Optional[str]
    video: Optional[str]
    num_frames: int
    pose_frames: int
    video_frames: int
    visible: int
    height: int
    width: int
    offset: int = 0
    note: Optional[str] = None


def _rel(path: Optional[str], root: str) -> Optional[str]:
    return None if path is None else osp.relpath(path, root)


def fingerprint(root: str, videos: Sequence[VideoFiles],
                options: IndexOptions) -> str:
    """Hash of the settings and of every input file's size and time."""
    items = [INDEX_VERSION, asdict(options)]
    for files in videos:
        for path in (files.label, files.skeleton, files.video):
            if path is not None:
                stat = os.stat(path)
                items.append(
                    [_rel(path, root), stat.st_size, stat.st_mtime_ns])
    return hashlib.sha1(json.dumps(items).encode()).hexdigest()


def _sampling_frames(vid: str, pose_frames: int,
                     video_frames: int) -> Tuple[int, Optional[str]]:
    """Frames clips may come from, and a note where pose and video
    disagree beyond the tolerance."""
    if not video_frames or abs(pose_frames - video_frames) <= FRAME_TOLERANCE:
        return pose_frames, None
    num_frames = min(pose_frames, video_frames)
    if pose_frames < video_frames:
        return num_frames, (
            f'video {vid}: the pose file has {pose_frames} frames but the '
            f'video {video_frames}; clips are drawn from the first '
            f'{num_frames} frames only (a truncated pose file?)')
    return num_frames, (
        f'video {vid}: the video has {video_frames} frames but the pose file '
        f'{pose_frames}; clips are drawn from the first {num_frames} frames '
        'only (a truncated video?)')


@dataclass(frozen=True)
class _IndexTask:
    """Index one video: a job of the runner."""
    root: str
    options: IndexOptions
    pose_dir: Optional[str]
    cache_dir: Optional[str]

    def __call__(self, files: VideoFiles) -> Tuple[IndexedVideo, np.ndarray]:
        vid = files.vid
        if files.skeleton is None:
            raise ReleaseFormatError(
                vid, files.label or files.video or vid,
                f'no pose file ({vid}_openpose.xlsx) beside its label table '
                'or video; the video is left out of SSL sampling')
        skeleton, _, _ = load_openpose_skeleton(files.skeleton, vid,
                                                self.cache_dir)
        height, width = DEFAULT_SHAPE
        video_frames = 0
        if files.video is not None:
            height, width, video_frames = probe_video(files.video, vid)
        num_frames, note = _sampling_frames(vid, len(skeleton), video_frames)
        prefix = visible_prefix(skeleton[:num_frames, :, 2],
                                anchor_indices(SOURCE_LAYOUT),
                                self.options.threshold)
        if self.pose_dir is not None:
            kp, score = convert_pose(skeleton[..., :2], skeleton[..., 2],
                                     SOURCE_LAYOUT, self.options.pose_layout)
            pose = np.concatenate([kp, score[..., None]], -1)[:num_frames]
            with atomic_open(pose_path(self.pose_dir, vid)) as f:
                np.save(f, pose.astype(np.float32))
        record = IndexedVideo(
            vid,
            files.split,
            _rel(files.video, self.root),
            num_frames,
            len(skeleton),
            video_frames,
            int(prefix[-1]),
            height,
            width,
            note=note)
        return record, prefix


def build_ssl_index(root: str,
                    index: str,
                    options: IndexOptions = IndexOptions(),
                    cache_dir: Optional[str] = None,
                    workers: int = 1,
                    strict: bool = False,
                    progress: bool = False,
                    videos: Optional[Tuple[list, list]] = None) -> dict:
    """Index every video of a release with a pose file.

    Args:
        root (str): Release root (label tables, OpenPose workbooks, mp4s).
        index (str): Index path without extension (see :func:`index_files`).
        options (IndexOptions): Threshold, duration splits, pose layout.
        cache_dir (str, optional): Cache of parsed workbooks.
        workers (int): Parallel processes.
        strict (bool): Raise on the first bad video instead of leaving it
            out with a note.
        progress (bool): Show a progress bar.
        videos (tuple, optional): ``discover_release(root)``, if already
            done.

    Returns:
        dict: The index metadata (also written as the JSON file).

    Raises:
        ValueError: No labelled MG segment to draw durations from.
    """
    npy, _, pose_dir = index_files(index)
    found, errors = videos or discover_release(root)
    if errors and strict:
        raise errors[0]
    durations, ground_truth, skipped = label_durations(found,
                                                       options.duration_splits,
                                                       strict)
    if not durations:
        raise ValueError(
            f'{root}: no labelled MG segment in the splits '
            f'{list(options.duration_splits)} to draw clip durations from')
    todo = [
        v for v in found if options.splits is None or v.split in options.splits
    ]
    os.makedirs(osp.dirname(osp.abspath(npy)), exist_ok=True)
    for folder in (cache_dir, options.pose_layout and pose_dir):
        if folder:
            os.makedirs(folder, exist_ok=True)
    task = _IndexTask(root, options, pose_dir if options.pose_layout else None,
                      cache_dir)
    results, failed = convert_each(todo, task, 'video', 'vid', strict, workers,
                                   progress)
    skipped += failed + [skip_entry(error, 'video') for error in errors]
    return write_ssl_index(
        index,
        sorted(results, key=lambda r: r[0].vid),
        durations,
        ground_truth,
        options,
        stamp=fingerprint(root, found, options),
        skipped=skipped)


def write_ssl_index(index: str,
                    videos: Sequence[Tuple[IndexedVideo, np.ndarray]],
                    durations: Sequence[int],
                    mg_segments: Dict[str, Sequence[Interval]],
                    options: IndexOptions,
                    stamp: str = '',
                    skipped: Sequence[dict] = ()) -> dict:
    """Write an index from ``(record, prefix)`` pairs (offsets are set
    here): the prefix file, then the metadata, each atomically.

    Returns:
        dict: The metadata.
    """
    npy, meta_path, _ = index_files(index)
    offset = 0
    for record, prefix in videos:
        record.offset = offset
        offset += len(prefix)
    dtype = prefix_dtype(max([r.num_frames for r, _ in videos] + [0]))
    with atomic_path(npy) as tmp:
        out = np.lib.format.open_memmap(
            tmp, mode='w+', dtype=dtype, shape=(offset, ))
        for record, prefix in videos:
            out[record.offset:record.offset + len(prefix)] = prefix
        out.flush()
        del out
    meta = dict(
        version=INDEX_VERSION,
        fingerprint=stamp,
        options=asdict(options),
        npy_bytes=os.path.getsize(npy),
        durations=[int(d) for d in durations],
        videos=[asdict(record) for record, _ in videos],
        mg_segments={
            k: [list(s) for s in v]
            for k, v in mg_segments.items()
        },
        skipped=list(skipped))
    with atomic_open(meta_path, 'w') as f:
        json.dump(meta, f)
    return meta


class SSLIndex:
    """Read access to a built index; the prefix sums (and poses) are
    memory-mapped on first use in each process, never pickled.

    Args:
        index (str): Index path (see :func:`index_files`).
    """

    def __init__(self, index: str) -> None:
        self.npy, self.meta_path, self.pose_dir = index_files(index)
        with open(self.meta_path) as f:
            self.meta = json.load(f)
        self.videos: List[dict] = self.meta['videos']
        self.durations = np.asarray(self.meta['durations'], dtype=np.int64)
        self.mg_segments: Dict[str, List[Interval]] = {
            k: [tuple(s) for s in v]
            for k, v in self.meta['mg_segments'].items()
        }
        self._prefix = None
        self._poses: 'OrderedDict[str, np.ndarray]' = OrderedDict()

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state.update(_prefix=None, _poses=OrderedDict())
        return state

    def prefix(self, row: int) -> np.ndarray:
        """The prefix sums of video ``row`` (a read-only view)."""
        if self._prefix is None:
            self._prefix = np.load(self.npy, mmap_mode='r')
        video = self.videos[row]
        return self._prefix[video['offset']:video['offset'] +
                            video['num_frames'] + 1]

    def pose(self, row: int) -> np.ndarray:
        """Memory-mapped float32 ``[T, V, 3]`` keypoints of video ``row``.

        Raises:
            FileNotFoundError: The index was built without a pose layout.
        """
        vid = self.videos[row]['vid']
        if vid in self._poses:
            self._poses.move_to_end(vid)
            return self._poses[vid]
        path = pose_path(self.pose_dir, vid)
        if not osp.isfile(path):
            raise FileNotFoundError(
                f'{path}: no keypoints of video {vid} in the index; build '
                'it with a pose_layout (the dataset\'s pose_layout) for '
                'skeleton pipelines')
        # A few maps stay open per process (each holds a file handle).
        self._poses[vid] = np.load(path, mmap_mode='r')
        while len(self._poses) > POSE_MAPS:
            self._poses.popitem(last=False)
        return self._poses[vid]


def ensure_ssl_index(root: str,
                     index: str,
                     options: IndexOptions = IndexOptions(),
                     **kwargs) -> Tuple[SSLIndex, bool]:
    """Open the index if it was built from the same inputs and settings,
    else build it (see :func:`build_ssl_index` for ``kwargs``).

    Returns:
        tuple[SSLIndex, bool]: The index and whether it was built now.
    """
    npy, meta_path, _ = index_files(index)
    videos = discover_release(root)
    stamp = fingerprint(root, videos[0], options)
    if osp.isfile(meta_path) and osp.isfile(npy):
        try:
            with open(meta_path) as f:
                meta = json.load(f)
            if (meta.get('fingerprint') == stamp
                    and meta.get('npy_bytes') == os.path.getsize(npy)):
                return SSLIndex(index), False
        except (OSError, ValueError):
            pass  # unreadable: rebuilt below
    build_ssl_index(root, index, options, videos=videos, **kwargs)
    return SSLIndex(index), True
