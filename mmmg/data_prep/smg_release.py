"""Convert the SMG release (Kinect v2 skeletons) into MMAction2 annotations.

SMG (Chen et al., IJCV 2023) holds 40 long recordings, one per participant:
sample ``SampleNNNN`` is subject ``NNNN`` (the SMG authors' own data scripts
iterate subjects 1-40 as ``Sample%04d``). The original protocol tests on
subjects 36-40 and trains on the rest (:data:`TEST_SUBJECTS`).

Per sample, discovered anywhere under a root folder:

- ``SampleNNNN_skeleton.csv``: no header; a row per frame holding 25 joints
  (Kinect v2 JointType order, layout ``kinect25``) x 11 values. The per-joint
  fields are assumed to be :data:`SKELETON_FIELDS`: camera-space x, y, z,
  the joint orientation quaternion, then two 2D pairs, which by Kinect v2
  practice are depth-space (512x424) and colour-space (1920x1080) pixels.
  The SMG reference reader (a ChaLearn-2014 kit with 9 values per joint)
  calls fields 7-8 "pixel" coordinates and ignores 9-10; which pair matches
  ``SampleNNNN_color.mp4`` has not been checked on the real release, so the
  columns are an option (``xy_columns``, default the colour pair ``(9,
  10)``), and the summary reports per sample how many points fall outside
  the video frame. A joint with non-finite or ``(0, 0)`` 2D coordinates is
  untracked: coordinates 0, score 0; every other joint has score 1 (the file
  has no tracking state).
- ``SampleNNNN_finelabels.csv``: no header, integer rows
  ``label,start,end``; labels 1-17 (:data:`mmmg.classes.SMG_CLASSES`
  after subtracting 1); ``start`` and ``end`` are frame numbers counted from
  ``frame_base`` (0 or 1: the SMG tools use both), ``end`` inclusive.
- ``SampleNNNN_color.mp4``: the RGB video, optional.

Outputs, each written atomically (temporary file + rename):

- ``smg_<layout>.pkl``: MMAction2 pose annotations, one per clip, with clip id
  ``SampleNNNN_<0-based row index in the label table>``::

      {'split': {'train': [ids], 'val': [ids], 'test': [ids]},
       'annotations': [dict(
           frame_dir=clip_id, label=int, total_frames=T,
           img_shape=(H, W), original_shape=(H, W),
           keypoint=float32[1, T, V, 2], keypoint_score=float32[1, T, V],
           video=sample, subject=int, start=start, end=end)]}

  ``start``/``end`` are 0-based skeleton rows (inclusive). ``(H, W)`` is read
  from the mp4 header, or a default (the Kinect v2 colour frame) when the
  video is missing. Layouts other than ``kinect25`` go through
  :func:`mmmg.keypoints.layouts.convert_pose`; Kinect has no face and only
  two finger points per hand, so e.g. ``mg36`` needs ``missing='zero'``.
- ``rgb_{train,val,test}.txt``: one clip a line, as the iMiGUE converter::

      <clip_id> <video path relative to the video root> <start> <end> <label>

- ``summary.json``: samples and clips per split, class histograms, skipped
  samples with the reason, samples without video, skeleton/video frame
  counts, and the share of tracked points outside the video frame.
"""
import logging
import os
import os.path as osp
import re
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from mmengine.logging import print_log

from mmmg.classes import smg_label_to_index
from mmmg.keypoints.layouts import (KINECT_V2_JOINTS, MISSING_POLICIES,
                                    MissingKeypointsError, convert_pose,
                                    get_layout, missing_keypoints)
from .imigue_release import probe_video, read_label_csv
from .release_jobs import (SPLITS, BoundTask, ReleaseFormatError, add_clips,
                           check_video_path, convert_each, publish_release,
                           skip_errors, split_counts)

SOURCE_LAYOUT = 'kinect25'
# Per-joint values of a skeleton row (assumed; see the module docstring).
# The quaternion's component order is unknown and unused here.
SKELETON_FIELDS = ('camera_x', 'camera_y', 'camera_z', 'quaternion_0',
                   'quaternion_1', 'quaternion_2', 'quaternion_3', 'depth_x',
                   'depth_y', 'color_x', 'color_y')
SKELETON_COLUMNS = len(KINECT_V2_JOINTS) * len(SKELETON_FIELDS)
DEFAULT_XY_COLUMNS = (SKELETON_FIELDS.index('color_x'),
                      SKELETON_FIELDS.index('color_y'))
# Kinect v2 colour frame (H, W), for samples without a video.
DEFAULT_SHAPE = (1080, 1920)
# Cross-subject protocol of the SMG paper: subjects 36-40 are the test set.
TEST_SUBJECTS = tuple(range(36, 41))
FRAME_BASES = (0, 1)
# A share of tracked points outside the frame above this hints at the wrong
# ``xy_columns`` (e.g. depth-space pixels read against colour frames).
OUT_OF_FRAME_WARNING = 0.5

_RELEASE_FILES = {
    'skeleton': re.compile(r'^(Sample(\d+))_skeleton\.csv$', re.IGNORECASE),
    'label': re.compile(r'^(Sample(\d+))_finelabels\.csv$', re.IGNORECASE),
    'video': re.compile(r'^(Sample(\d+))_color\.mp4$', re.IGNORECASE),
}


class SampleFormatError(ReleaseFormatError):
    """A sample of the SMG release whose files are missing or malformed.

    Args:
        sample (str): Sample id (``SampleNNNN``), kept as ``vid``.
        path (str): The offending file (or the one expected).
        problem (str): What is wrong.
    """

    def __str__(self) -> str:
        return f'sample {self.vid}: {self.path}: {self.problem}'


@dataclass
class SampleFiles:
    """The files of one SMG recording.

    Attributes:
        sample: Sample id, e.g. ``Sample0001``.
        subject: Subject id (the sample number).
        skeleton: Path of ``<sample>_skeleton.csv``, None if absent.
        label: Path of ``<sample>_finelabels.csv``, None if absent.
        video: Path of ``<sample>_color.mp4``, None if absent.
        video_rel: ``video`` relative to the video root.
    """
    sample: str
    subject: int
    skeleton: Optional[str] = None
    label: Optional[str] = None
    video: Optional[str] = None
    video_rel: Optional[str] = None


@dataclass(frozen=True)
class SMGOptions:
    """Per-sample conversion settings (see :func:`convert_smg_release`)."""
    layout: str = SOURCE_LAYOUT
    missing: str = 'raise'
    xy_columns: Tuple[int, int] = DEFAULT_XY_COLUMNS
    frame_base: int = 0
    test_subjects: Tuple[int, ...] = TEST_SUBJECTS
    val_subjects: Tuple[int, ...] = ()
    default_shape: Tuple[int, int] = DEFAULT_SHAPE
    require_video: bool = False
    frame_tolerance: Optional[int] = None


@dataclass
class SampleResult:
    """Clips of one converted sample."""
    sample: str
    split: str
    annotations: List[dict] = field(default_factory=list)
    rgb_lines: List[str] = field(default_factory=list)
    skeleton_frames: int = 0
    video_frames: Optional[int] = None
    out_of_frame: float = 0.0


def subject_split(subject: int,
                  test_subjects: Sequence[int],
                  val_subjects: Sequence[int] = ()) -> str:
    """Split of a subject: ``'test'``, ``'val'`` or ``'train'``."""
    if subject in test_subjects:
        return 'test'
    return 'val' if subject in val_subjects else 'train'


def discover_smg(
    root: str,
    video_root: Optional[str] = None
) -> Tuple[List[SampleFiles], List[SampleFormatError]]:
    """Find the files of every sample under ``root``.

    Args:
        root (str): Release root holding skeletons and label tables.
        video_root (str, optional): Folder searched for the colour videos
            and base of their paths in the RGB lists; defaults to ``root``.

    Returns:
        tuple: Samples sorted by subject (possibly incomplete: the
        conversion reports missing files), and errors for samples with a
        file found more than once.
    """
    video_root = video_root or root
    folders = {'skeleton': root, 'label': root, 'video': video_root}
    found: Dict[str, Dict[str, List[str]]] = {k: {} for k in folders}
    subjects: Dict[str, int] = {}
    walked = {}
    for kind, folder in folders.items():
        if folder not in walked:
            walked[folder] = []
            for dirpath, dirnames, filenames in os.walk(
                    folder, followlinks=True):
                dirnames.sort()
                walked[folder] += [
                    osp.join(dirpath, n) for n in sorted(filenames)
                ]
        for path in walked[folder]:
            match = _RELEASE_FILES[kind].match(osp.basename(path))
            if match:
                # One id per sample whatever the file name's case.
                sample = f'Sample{match.group(2)}'
                subjects[sample] = int(match.group(2))
                found[kind].setdefault(sample, []).append(path)

    samples, errors = [], []
    for sample in sorted(subjects, key=lambda s: (subjects[s], s)):
        files = SampleFiles(sample, subjects[sample])
        duplicate = next(
            (k for k in folders if len(found[k].get(sample, [])) > 1), None)
        if duplicate:
            paths = found[duplicate][sample]
            errors.append(
                SampleFormatError(
                    sample, paths[1], f'{duplicate} file found {len(paths)} '
                    f'times: {", ".join(paths)}'))
            continue
        for kind in folders:
            setattr(files, kind, found[kind].get(sample, [None])[0])
        if files.video is not None:
            files.video_rel = osp.relpath(files.video,
                                          video_root).replace(os.sep, '/')
        samples.append(files)
    return samples, errors


def read_smg_skeleton(
    path: str,
    sample: str,
    xy_columns: Tuple[int, int] = DEFAULT_XY_COLUMNS
) -> Tuple[np.ndarray, np.ndarray]:
    """Read a Kinect v2 skeleton table.

    Args:
        path (str): ``<sample>_skeleton.csv``.
        sample (str): Sample id, for error messages.
        xy_columns (tuple[int, int]): Per-joint fields (0-10) holding the 2D
            x and y.

    Returns:
        tuple: float32 ``[T, 25, 2]`` coordinates (0 for untracked joints)
        and float32 ``[T, 25]`` scores (1 tracked, 0 untracked).
    """
    with open(path, encoding='utf-8-sig') as f:
        lines = f.read().splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        raise SampleFormatError(sample, path, 'the skeleton table has no rows')
    # Some CSV writers end every row with a comma.
    rows = [line.strip().rstrip(',') for line in lines]
    for line_no, row in enumerate(rows, 1):
        count = row.count(',') + 1 if row else 0
        if count != SKELETON_COLUMNS:
            raise SampleFormatError(
                sample, path, f'line {line_no}: expected '
                f'{SKELETON_COLUMNS} values ({len(KINECT_V2_JOINTS)} joints '
                f'x {len(SKELETON_FIELDS)}), found '
                f'{count if count else "an empty line"}')
    try:
        table = np.loadtxt(rows, delimiter=',', dtype=np.float64, ndmin=2)
    except ValueError as e:
        raise SampleFormatError(sample, path, _first_non_number(rows)) from e
    joints = table.reshape(
        len(rows), len(KINECT_V2_JOINTS), len(SKELETON_FIELDS))
    xy = joints[..., list(xy_columns)]
    tracked = np.isfinite(xy).all(-1) & (xy != 0).any(-1)
    xy[~tracked] = 0
    return xy.astype(np.float32), tracked.astype(np.float32)


def _first_non_number(rows: Sequence[str]) -> str:
    """Where the first value that is not a number sits (error path only)."""
    for line_no, row in enumerate(rows, 1):
        for column, text in enumerate(row.split(','), 1):
            try:
                float(text)
            except ValueError:
                return (f'line {line_no}, value {column}: {text.strip()!r} '
                        'is not a number')
    return 'unreadable numbers'


def read_smg_labels(path: str,
                    sample: str,
                    frame_base: int = 0) -> List[Tuple[int, int, int]]:
    """Read a finelabels table.

    Args:
        path (str): ``<sample>_finelabels.csv``.
        sample (str): Sample id, for error messages.
        frame_base (int): Number of the first frame in the table (0 or 1).

    Returns:
        list[tuple]: ``(label index, start row, end row)`` per table row,
        0-based, ``end`` inclusive.
    """
    try:
        rows = read_label_csv(path, sample)
    except ReleaseFormatError as e:
        raise SampleFormatError(e.vid, e.path, e.problem) from e
    clips = []
    for row, (raw, start, end) in enumerate(rows):
        try:
            label = smg_label_to_index(raw)
        except ValueError as e:
            raise SampleFormatError(sample, path, f'row {row}: {e}') from e
        if start < frame_base:
            raise SampleFormatError(
                sample, path, f'row {row}: start frame {start} is before the '
                f'first frame (frame base {frame_base})')
        clips.append((label, start - frame_base, end - frame_base))
    return clips


def _check_files(files: SampleFiles, options: SMGOptions) -> None:
    """Refuse a sample whose files are missing or cannot be listed."""
    sample = files.sample
    if files.skeleton is None:
        raise SampleFormatError(sample, files.label or files.video,
                                f'no skeleton {sample}_skeleton.csv found')
    if files.label is None:
        raise SampleFormatError(
            sample, files.skeleton, f'no label table {sample}_finelabels.csv '
            'found')
    if files.video is None and options.require_video:
        raise SampleFormatError(sample, f'{sample}_color.mp4',
                                'video not found')
    check_video_path(SampleFormatError, sample, files.video, files.video_rel)


def _check_segments(files: SampleFiles, clips: list, num_frames: int,
                    frame_base: int) -> None:
    for row, (_, start, end) in enumerate(clips):
        if end >= num_frames:
            hint = (' (is the frame base 1?)'
                    if end == num_frames and frame_base == 0 else '')
            raise SampleFormatError(
                files.sample, files.label, f'row {row}: segment {start}-'
                f'{end} (0-based) ends beyond the skeleton ({num_frames} '
                f'rows in {osp.basename(files.skeleton)}){hint}')


def _probe(files: SampleFiles, options: SMGOptions,
           result: SampleResult) -> Tuple[int, int]:
    """The frame ``(H, W)``; records the video's frame count."""
    if files.video is None:
        return tuple(options.default_shape)
    try:
        height, width, result.video_frames = probe_video(
            files.video, files.sample)
    except ReleaseFormatError as e:
        raise SampleFormatError(e.vid, e.path, e.problem) from e
    if (options.frame_tolerance is not None and result.video_frames
            and abs(result.skeleton_frames - result.video_frames)
            > options.frame_tolerance):
        raise SampleFormatError(
            files.sample, files.skeleton, f'{result.skeleton_frames} '
            f'skeleton rows but the video {files.video} has '
            f'{result.video_frames} frames (tolerance '
            f'{options.frame_tolerance})')
    return height, width


def convert_sample(files: SampleFiles, options: SMGOptions) -> SampleResult:
    """Cut one recording into clip annotations and RGB list lines.

    Raises:
        SampleFormatError: Missing files, malformed tables, labels out of
            range, segments outside the skeleton, or (with
            ``options.frame_tolerance``) skeleton and video lengths that
            disagree.
    """
    _check_files(files, options)
    clips = read_smg_labels(files.label, files.sample, options.frame_base)
    xy, score = read_smg_skeleton(files.skeleton, files.sample,
                                  options.xy_columns)
    result = SampleResult(
        files.sample,
        subject_split(files.subject, options.test_subjects,
                      options.val_subjects),
        skeleton_frames=len(xy))
    _check_segments(files, clips, len(xy), options.frame_base)
    shape = _probe(files, options, result)
    tracked = score > 0
    outside = tracked & ((xy[..., 0] < 0) | (xy[..., 0] >= shape[1])
                         | (xy[..., 1] < 0) | (xy[..., 1] >= shape[0]))
    result.out_of_frame = float(outside.sum() / max(tracked.sum(), 1))

    keypoint, keypoint_score = convert_pose(xy, score, SOURCE_LAYOUT,
                                            options.layout, options.missing)
    add_clips(
        result,
        files.sample,
        clips,
        shape,
        keypoint,
        keypoint_score,
        files.video_rel,
        video=files.sample,
        subject=files.subject)
    return result


def _check_options(options: SMGOptions) -> None:
    """Fail on bad settings before any file is read."""
    get_layout(options.layout)
    if options.missing not in MISSING_POLICIES:
        raise ValueError(f'missing={options.missing!r}; expected one of '
                         f'{MISSING_POLICIES}')
    absent = missing_keypoints(SOURCE_LAYOUT, options.layout)
    if absent and options.missing == 'raise':
        raise MissingKeypointsError(SOURCE_LAYOUT, options.layout, absent)
    columns = tuple(options.xy_columns)
    if (len(columns) != 2 or len(set(columns)) != 2
            or not all(0 <= c < len(SKELETON_FIELDS) for c in columns)):
        raise ValueError(f'xy_columns={columns}: need two different '
                         f'per-joint fields in 0-{len(SKELETON_FIELDS) - 1}')
    if options.frame_base not in FRAME_BASES:
        raise ValueError(f'frame_base={options.frame_base}; expected one of '
                         f'{FRAME_BASES}')
    both = set(options.test_subjects) & set(options.val_subjects)
    if both:
        raise ValueError(f'subjects {sorted(both)} are in both the test and '
                         'the validation set')


def convert_smg_release(root: str,
                        out_dir: str,
                        layout: str = SOURCE_LAYOUT,
                        missing: str = 'raise',
                        xy_columns: Tuple[int, int] = DEFAULT_XY_COLUMNS,
                        frame_base: int = 0,
                        test_subjects: Sequence[int] = TEST_SUBJECTS,
                        val_subjects: Sequence[int] = (),
                        video_root: Optional[str] = None,
                        default_shape: Tuple[int, int] = DEFAULT_SHAPE,
                        require_video: bool = False,
                        frame_tolerance: Optional[int] = None,
                        strict: bool = False,
                        workers: int = 1,
                        progress: bool = True) -> dict:
    """Convert an SMG release (see the module docstring).

    Args:
        root (str): Release root; skeletons and label tables are found
            anywhere below it.
        out_dir (str): Output folder.
        layout (str): Keypoint layout of the pickle: ``'kinect25'`` or any
            layout :func:`mmmg.keypoints.layouts.conversion_targets` lists
            for it.
        missing (str): ``'raise'`` refuses layouts with points Kinect lacks;
            ``'zero'`` fills them with 0 coordinates and 0 scores.
        xy_columns (tuple[int, int]): Per-joint fields holding the 2D x, y
            (default: the colour-space pair, fields 9 and 10).
        frame_base (int): Number of the first frame in the label tables.
        test_subjects (Sequence[int]): Subjects of the test split (default:
            36-40, the original protocol).
        val_subjects (Sequence[int]): Subjects of the validation split
            (default none); the other subjects train.
        video_root (str, optional): Folder searched for the colour videos
            and base of their paths in the RGB lists; defaults to ``root``.
        default_shape (tuple): ``(H, W)`` of samples without a video.
        require_video (bool): Treat a missing video as an error.
        frame_tolerance (int, optional): Largest accepted difference between
            skeleton rows and video frames; None (default) only records both
            in the summary, since how SMG's streams are synchronised is not
            documented.
        strict (bool): Raise on the first bad sample instead of skipping it.
        workers (int): Parallel processes; 1 converts in this process.
        progress (bool): Show a progress bar.

    Returns:
        dict: The summary also written to ``summary.json``.

    Raises:
        SampleFormatError: With ``strict``, the first bad sample (a
            :class:`~mmmg.data_prep.imigue_release.ReleaseFormatError`).
        MissingKeypointsError: ``layout`` needs points Kinect lacks and
            ``missing='raise'``.
        FileNotFoundError: No skeleton or label table under ``root``.
    """
    options = SMGOptions(
        layout=layout,
        missing=missing,
        xy_columns=tuple(xy_columns),
        frame_base=frame_base,
        test_subjects=tuple(test_subjects),
        val_subjects=tuple(val_subjects),
        default_shape=tuple(default_shape),
        require_video=require_video,
        frame_tolerance=frame_tolerance)
    _check_options(options)
    samples, errors = discover_smg(root, video_root)
    if not any(s.skeleton or s.label for s in samples) and not errors:
        raise FileNotFoundError(f'no SampleNNNN_skeleton.csv or '
                                f'SampleNNNN_finelabels.csv found under '
                                f'{root}')

    skipped = skip_errors(errors, 'sample', strict)
    results, failed = convert_each(samples, BoundTask(convert_sample,
                                                      options), 'sample',
                                   'sample', strict, workers, progress)
    skipped += failed
    for result in results:
        if result.out_of_frame > OUT_OF_FRAME_WARNING:
            print_log(
                f'{result.sample}: {result.out_of_frame:.0%} of the tracked '
                f'points lie outside the frame; are xy_columns='
                f'{options.xy_columns} the right 2D pair?',
                logger='current',
                level=logging.WARNING)

    return publish_release(
        out_dir, f'smg_{layout}.pkl', results, lambda ann_file: _summarize(
            root, ann_file, options, results, skipped, samples), [
                subject_split(s.subject, options.test_subjects,
                              options.val_subjects) for s in samples
            ], format_summary)


def _summarize(root: str, ann_file: str, options: SMGOptions,
               results: List[SampleResult], skipped: List[dict],
               samples: List[SampleFiles]) -> dict:
    by_split, clips, histogram = split_counts(results)
    converted = {r.sample for r in results}
    return dict(
        root=root,
        ann_file=ann_file,
        layout=options.layout,
        missing=options.missing,
        xy_columns=list(options.xy_columns),
        frame_base=options.frame_base,
        test_subjects=list(options.test_subjects),
        val_subjects=list(options.val_subjects),
        samples={
            name: [r.sample for r in rs]
            for name, rs in by_split.items()
        },
        clips=clips,
        class_histogram=histogram,
        skipped=skipped,
        without_video=[
            s.sample for s in samples
            if s.sample in converted and s.video is None
        ],
        frames={
            r.sample: dict(skeleton=r.skeleton_frames, video=r.video_frames)
            for r in results
        },
        out_of_frame={r.sample: round(r.out_of_frame, 4)
                      for r in results})


def format_summary(summary: dict) -> str:
    """A few human-readable lines of a conversion summary."""
    lines = [f'{summary["ann_file"]} ({summary["layout"]})']
    for name in SPLITS:
        hist = summary['class_histogram'][name]
        lines.append(f'  {name:5s}: {len(summary["samples"][name]):3d} '
                     f'samples, {summary["clips"][name]:5d} clips, '
                     f'{len(hist)} labels')
    lines.append(f'  without video {len(summary["without_video"])}; '
                 f'skipped {len(summary["skipped"])}')
    lines += [
        f'    skipped {s["sample"]}: {s["reason"]}' for s in summary['skipped']
    ]
    if summary.get('empty_splits'):
        lines.append(f'  every sample of {", ".join(summary["empty_splits"])}'
                     ' was skipped: the split is empty')
    return '\n'.join(lines)
