"""Convert the MiGA / iMiGUE challenge release into MMAction2 annotations.

The release ships, per long video ``<vid>`` (digits, e.g. ``0187``):

- ``<vid>_label.csv``: no header, integer rows ``class,start,end``; frames
  are 0-based and ``end`` is inclusive. Raw class 99 is the non-MG class,
  the others are 1-based (:func:`mmmg.classes.miga_label_to_index`).
  Test tables may carry placeholder classes.
- ``<vid>_openpose.xlsx``: no header, no index column; row ``r`` is frame
  ``r`` and its 411 columns hold ``x, y, confidence`` of the 137 OpenPose
  points (body-25, face-70, left and right hand-21) in pixels. A missing
  point is ``0, 0, 0``.
- ``<vid>.mp4``: the RGB video.

The folder tree changed between challenge years, so files are discovered
under a root folder. A video's split comes from the nearest folder whose name
has a ``train``, ``val``/``valid``/``validate``/``validation`` or ``test``
token (``imigue_skeleton_validate``, ``train_data``, ...); split lists
override it.

Outputs, each written atomically (temporary file + rename):

- ``imigue_<layout>.pkl``: MMAction2 pose annotations, one per clip, with
  clip id ``<vid>_<0-based row index in the label table>``::

      {'split': {'train': [ids], 'val': [ids], 'test': [ids]},
       'annotations': [dict(
           frame_dir=clip_id, label=int, total_frames=T,
           img_shape=(H, W), original_shape=(H, W),
           keypoint=float32[1, T, V, 2], keypoint_score=float32[1, T, V],
           video=vid, video_path=relpath or None, start=start, end=end)]}

  The clip is skeleton rows ``start..end`` (and frames ``start..end`` of
  the long video at ``video_path``, relative to the video root); ``label``
  is ``-1`` for hidden test labels. ``(H, W)`` is read from the mp4
  header, or a default when the video is missing.
- ``rgb_{train,val,test}.txt``: one clip a line::

      <clip_id> <video path relative to the video root> <start> <end> <label>

  ``start`` and ``end`` are frames of the long video (0-based, inclusive), so
  a reader decodes the segment straight from the long video (e.g. with
  decord) and no clip files are cut. The mp4 frame count may differ from the
  skeleton rows by up to ``frame_tolerance`` frames, so a reader should clamp
  ``end`` to the decoded length. Clips whose video is missing are left out.
- ``summary.json``: videos and clips per split, class histograms, skipped
  videos with the reason, videos without mp4, and cache use.

Parsing the workbooks dominates the run time (an hour-long video has ~90,000
rows), so each parsed skeleton is cached as ``<vid>_openpose.npz``, keyed by
the workbook's size and modification time; reruns and interrupted runs only
parse what changed.
"""
import os
import os.path as osp
import posixpath
import re
import warnings
import zipfile
from dataclasses import dataclass, field
from typing import Dict, Iterator, List, Optional, Tuple
from xml.etree import ElementTree

import cv2
import numpy as np
import openpyxl
from openpyxl.utils.exceptions import InvalidFileException

from mmmg.classes import miga_label_to_index
from mmmg.keypoints.gap_filling import fill_keypoint_gaps
from mmmg.keypoints.layouts import convert_keypoints, get_layout
from mmmg.utils.io import atomic_open
from .label_table import LabelTableError, read_label_rows
from .light_hand import read_light_hand_csv
from .release_jobs import (SPLITS, BoundTask, ReleaseFormatError, add_clips,
                           check_video_path, convert_each, publish_release,
                           skip_errors, split_counts)

OPENPOSE_POINTS = 137
OPENPOSE_COLUMNS = OPENPOSE_POINTS * 3

# Folder-name tokens that decide a split.
_SPLIT_TOKENS = {
    'train': 'train',
    'training': 'train',
    'val': 'val',
    'valid': 'val',
    'validate': 'val',
    'validation': 'val',
    'test': 'test',
    'testing': 'test',
}
_RELEASE_FILES = {
    'label': re.compile(r'^(\d+)_label\.csv$', re.IGNORECASE),
    'skeleton': re.compile(r'^(\d+)_openpose\.xlsx$', re.IGNORECASE),
    'hands': re.compile(r'^(\d+)_light_hand\.csv$', re.IGNORECASE),
}
_VIDEO_FILE = re.compile(r'^(\d+)\.mp4$', re.IGNORECASE)
# Split-list entries: ``0187_0.mp4 8`` (a clip) or ``0187`` (a video).
_LIST_ENTRY = re.compile(r'^(\d+)(?:_\d+)?$')


@dataclass
class VideoFiles:
    """The files of one long video found in the release.

    Attributes:
        vid: Video id.
        split: ``'train'``, ``'val'``, ``'test'`` or None if unknown.
        label: Path of ``<vid>_label.csv``, None if absent.
        skeleton: Path of ``<vid>_openpose.xlsx``, None if absent.
        hands: Path of ``<vid>_light_hand.csv``, None if absent.
        video: Path of ``<vid>.mp4``, None if absent.
        video_rel: ``video`` relative to the video root.
    """
    vid: str
    split: Optional[str] = None
    label: Optional[str] = None
    skeleton: Optional[str] = None
    hands: Optional[str] = None
    video: Optional[str] = None
    video_rel: Optional[str] = None


@dataclass(frozen=True)
class ConvertOptions:
    """Per-video conversion settings (see :func:`convert_release`)."""
    layout: str = 'openpose137'
    default_shape: Tuple[int, int] = (720, 1280)
    hidden_test_labels: bool = False
    require_video: bool = False
    frame_tolerance: int = 5
    cache_dir: Optional[str] = None
    fill_gaps: int = 0
    light_hand: bool = True


@dataclass
class VideoResult:
    """Clips of one converted video."""
    vid: str
    split: str
    annotations: List[dict] = field(default_factory=list)
    rgb_lines: List[str] = field(default_factory=list)
    parsed: bool = False
    invalid_points: int = 0
    filled_points: int = 0
    light_hand_points: int = 0


def infer_split(rel_dir: str) -> Optional[str]:
    """Split named by the deepest folder of ``rel_dir`` that names one.

    Args:
        rel_dir (str): Folder path relative to the release root.

    Returns:
        str | None: ``'train'``, ``'val'``, ``'test'`` or None.
    """
    for part in reversed(re.split(r'[\\/]+', rel_dir)):
        for token in re.split(r'[^a-z]+', part.lower()):
            if token in _SPLIT_TOKENS:
                return _SPLIT_TOKENS[token]
    return None


def read_split_list(path: str) -> List[str]:
    """Video ids of a split list.

    Lines are ``0187_0.mp4 8`` (a clip and a label, which is ignored: the
    whole video joins the split) or a bare video id ``0187``.
    """
    vids = []
    with open(path, encoding='utf-8-sig') as f:
        for line_no, line in enumerate(f, 1):
            fields = line.split()
            if not fields:
                continue
            stem = osp.splitext(osp.basename(fields[0]))[0]
            match = _LIST_ENTRY.match(stem)
            if match is None:
                raise ValueError(f'{path}: line {line_no}: cannot read a '
                                 f'video id from {fields[0]!r}')
            if match.group(1) not in vids:
                vids.append(match.group(1))
    return vids


def _scan(
    folder: str, patterns: Dict[str, re.Pattern]
) -> Dict[str, Dict[str, List[Tuple[str, Optional[str]]]]]:
    """``{kind: {vid: [(path, split of its folder)]}}`` under ``folder``."""
    found = {kind: {} for kind in patterns}
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=True):
        dirnames.sort()
        split = infer_split(osp.relpath(dirpath, folder))
        for name in sorted(filenames):
            for kind, pattern in patterns.items():
                match = pattern.match(name)
                if match:
                    found[kind].setdefault(match.group(1), []).append(
                        (osp.join(dirpath, name), split))
    return found


def discover_release(
    root: str,
    video_root: Optional[str] = None,
    split_overrides: Optional[Dict[str, str]] = None
) -> Tuple[List[VideoFiles], List[ReleaseFormatError]]:
    """Find the files of every long video under ``root``.

    Args:
        root (str): Release root holding label tables and skeletons.
        video_root (str, optional): Folder searched for ``<vid>.mp4``;
            defaults to ``root``.
        split_overrides (dict, optional): Video id to split, taking
            precedence over folder names.

    Returns:
        tuple: Videos sorted by id (possibly incomplete: the conversion
        reports missing files), and errors for videos whose files are
        ambiguous (found more than once).
    """
    video_root = video_root or root
    patterns = dict(_RELEASE_FILES)
    same_root = osp.realpath(video_root) == osp.realpath(root)
    if same_root:
        patterns['video'] = _VIDEO_FILE
    found = _scan(root, patterns)
    if not same_root:
        found.update(_scan(video_root, {'video': _VIDEO_FILE}))
    split_overrides = split_overrides or {}

    videos, errors = [], []
    for vid in sorted(set().union(*found.values())):
        files = VideoFiles(vid)
        try:
            folder_splits = set()
            for kind in ('label', 'skeleton', 'hands'):
                hits = found[kind].get(vid, [])
                if len(hits) > 1:
                    raise ReleaseFormatError(
                        vid, hits[1][0], f'{kind} file found {len(hits)} '
                        f'times: {", ".join(p for p, _ in hits)}')
                if hits:
                    setattr(files, kind, hits[0][0])
                    folder_splits.add(hits[0][1])
            folder_splits.discard(None)
            if len(folder_splits) > 1 and vid not in split_overrides:
                raise ReleaseFormatError(
                    vid, files.label, 'label table and skeleton sit in '
                    f'folders of different splits {sorted(folder_splits)}')
            files.split = split_overrides.get(
                vid,
                folder_splits.pop() if folder_splits else None)
            files.video = _pick_video(vid, found['video'].get(vid, []),
                                      files.split)
            if files.video is not None:
                files.video_rel = osp.relpath(files.video,
                                              video_root).replace(os.sep, '/')
        except ReleaseFormatError as e:
            errors.append(e)
            continue
        videos.append(files)
    return videos, errors


def _pick_video(vid: str, hits: List[Tuple[str, Optional[str]]],
                split: Optional[str]) -> Optional[str]:
    """One mp4 per video; copies are told apart by their folder's split."""
    if len(hits) > 1:
        hits = [hit for hit in hits if hit[1] == split]
        if len(hits) != 1:
            raise ReleaseFormatError(
                vid, f'{vid}.mp4', 'several videos found and their folders '
                f'do not single one out for split {split!r}')
    return hits[0][0] if hits else None


def read_label_csv(path: str,
                   vid: str,
                   hidden_class: bool = False
                   ) -> List[Tuple[Optional[int], int, int]]:
    """Read a label table (layout: :mod:`mmmg.data_prep.label_table`).

    Args:
        path (str): ``<vid>_label.csv``.
        vid (str): Video id, for error messages.
        hidden_class (bool): Accept any class field (hidden test labels);
            the class of such a row is None.

    Returns:
        list[tuple]: ``(raw_class, start, end)`` per row, in file order.
    """
    try:
        rows = read_label_rows(path, hidden_class)
    except LabelTableError as e:
        raise ReleaseFormatError(vid, path, e.problem) from e
    if not rows:
        raise ReleaseFormatError(vid, path, 'the label table has no rows')
    return rows


class _SlowPath(Exception):
    """The sheet is not plain dense numbers; read it with openpyxl."""


_ROW_OPEN = re.compile(rb'\s*<row r="(\d+)"')
_NUMBER_CELL = re.compile(rb'<c r="[A-Z]{1,3}\d+"(?: s="\d+")?(?: t="n")?'
                          rb'(?: s="\d+")?><v>([^<]+)</v></c>')
_NS_MAIN = '{http://schemas.openxmlformats.org/spreadsheetml/2006/main}'
_NS_REL = ('{http://schemas.openxmlformats.org/officeDocument/2006/'
           'relationships}')


def _column_index(row: bytes, pos: int) -> int:
    """0-based column of the cell reference at ``row[pos:]`` (``<c r="``)."""
    if pos < 0:
        raise _SlowPath
    index, pos = 0, pos + len(b'<c r="')
    while 65 <= row[pos] <= 90:  # A-Z
        index = index * 26 + row[pos] - 64
        pos += 1
    return index - 1


def _first_sheet_member(zf: zipfile.ZipFile) -> str:
    """Archive member of the workbook's first sheet."""
    try:
        book = ElementTree.fromstring(zf.read('xl/workbook.xml'))
        rid = book.find(f'{_NS_MAIN}sheets/{_NS_MAIN}sheet').get(
            f'{_NS_REL}id')
        rels = ElementTree.fromstring(zf.read('xl/_rels/workbook.xml.rels'))
        target = next(
            rel.get('Target') for rel in rels if rel.get('Id') == rid)
    except (KeyError, AttributeError, StopIteration, ElementTree.ParseError):
        raise _SlowPath
    member = (
        target.lstrip('/') if target.startswith('/') else posixpath.normpath(
            posixpath.join('xl', target)))
    if member not in zf.namelist():
        raise _SlowPath
    return member


def _iter_row_blocks(stream, chunk_size: int = 1 << 23) -> Iterator[bytes]:
    """Blocks of whole ``<row>`` elements of a sheet's ``<sheetData>``."""
    buf, started = b'', False
    while True:
        data = stream.read(chunk_size)
        buf += data
        if not started:
            start = buf.find(b'<sheetData>')
            if start < 0:
                if data:
                    continue
                raise _SlowPath  # empty (``<sheetData/>``) or unusual
            buf, started = buf[start + len(b'<sheetData>'):], True
        end = buf.find(b'</sheetData>')
        if end >= 0:
            yield buf[:end]
            return
        if not data:
            raise _SlowPath
        cut = buf.rfind(b'</row>') + len(b'</row>')
        if cut >= len(b'</row>'):
            yield buf[:cut]
            buf = buf[cut:]


def _parse_dense_block(block: bytes, first_row: int,
                       width: Optional[int]) -> np.ndarray:
    """Rows of a block in which every cell from column A on is a number."""
    rows = block.split(b'</row>')
    if rows.pop().strip() or b'<c>' in block:
        raise _SlowPath
    for i, row in enumerate(rows):
        match = _ROW_OPEN.match(row)
        if match is None or int(match.group(1)) != first_row + i:
            raise _SlowPath
        num_cells = row.count(b'<c ')
        width = num_cells if width is None else width
        # Cells are stored in column order, so count + first + last cell
        # prove the row has no gaps.
        if num_cells != width:
            raise _SlowPath
        if width and (_column_index(row, row.find(b'<c r="')) != 0 or
                      _column_index(row, row.rfind(b'<c r="')) != width - 1):
            raise _SlowPath
    values = _NUMBER_CELL.findall(block)
    if len(values) != len(rows) * (width or 0):
        raise _SlowPath
    with warnings.catch_warnings():
        # A token fromstring cannot read ends the array early (and warns);
        # the size check below catches it.
        warnings.simplefilter('ignore', DeprecationWarning)
        table = np.fromstring(b' '.join(values), dtype=np.float64, sep=' ')
    if table.size != len(values):
        raise _SlowPath
    return table.reshape(len(rows), width or 0)


def _read_sheet_fast(path: str) -> np.ndarray:
    """Dense numeric sheet straight from the XML (~7x faster than openpyxl).

    Raises:
        _SlowPath: The sheet has strings, gaps, formulas or an unusual
            layout, which only openpyxl reads faithfully.
    """
    blocks, width = [], None
    with zipfile.ZipFile(path) as zf:
        with zf.open(_first_sheet_member(zf)) as stream:
            for block in _iter_row_blocks(stream):
                rows = _parse_dense_block(block,
                                          1 + sum(len(b) for b in blocks),
                                          width)
                if len(rows):
                    blocks.append(rows)
                    width = rows.shape[1]
    if not blocks:
        raise _SlowPath
    return np.concatenate(blocks)


_NOT_A_NUMBER = float('nan')
# Bumped when the cached arrays change meaning (2: invalid cells repaired).
_CACHE_VERSION = 2


def _is_blank(value) -> bool:
    """An empty cell, or text that stands for no value."""
    return value is None or (isinstance(value, str) and
                             (value.strip().lower() in ('', 'nan')
                              or value.startswith('#')))


def _read_sheet_openpyxl(path: str, vid: str) -> np.ndarray:
    """Any sheet: a leading all-text row is taken as a header; an empty
    cell, a NaN or an Excel error value (``#N/A``) reads as NaN."""
    number_types = (int, float)
    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        rows = []
        for row_no, row in enumerate(
                book.worksheets[0].iter_rows(values_only=True), 1):
            if all(v is None for v in row):
                rows.append(None)
                continue
            values = [_NOT_A_NUMBER if _is_blank(v) else v for v in row]
            if all(type(v) in number_types for v in values):
                rows.append(values)
                continue
            if row_no == 1 and all(
                    isinstance(v, str) for v in row if v is not None):
                continue  # header row
            col, bad = next((i, v) for i, v in enumerate(values)
                            if type(v) not in number_types)
            raise ReleaseFormatError(
                vid, path, f'row {row_no}, column {col + 1}: '
                f'non-numeric cell {bad!r}')
    finally:
        book.close()
    # read_only sheets may report blank trailing rows; inner blank rows
    # are frames without any point.
    while rows and rows[-1] is None:
        rows.pop()
    table = np.zeros((len(rows), max((len(r) for r in rows if r), default=0)))
    for i, values in enumerate(rows):
        if values:
            table[i, :len(values)] = values
            table[i, len(values):] = _NOT_A_NUMBER  # cells cut off the row
    return table


def read_openpose_xlsx(path: str, vid: str) -> Tuple[np.ndarray, int]:
    """Read a per-frame OpenPose workbook.

    Plain numeric sheets are parsed straight from the sheet XML; anything
    else (text, empty cells, formulas) goes through openpyxl. A header row
    and a frame-index column (``0..T-1`` or ``1..T``) are detected and
    dropped. A point with any empty, NaN, infinite or error-valued cell is
    missing: ``(0, 0, 0)``, never a coordinate 0 with its confidence kept
    (which would put it at the frame edge, confidently).

    Args:
        path (str): ``<vid>_openpose.xlsx``.
        vid (str): Video id, for error messages.

    Returns:
        tuple: float32 ``[T, 137, 3]`` of ``x, y, confidence`` and the number
        of points made missing for an invalid value.
    """
    try:
        try:
            table = _read_sheet_fast(path)
        except _SlowPath:
            table = _read_sheet_openpyxl(path, vid)
    except ReleaseFormatError:
        raise
    except (OSError, zipfile.BadZipFile, KeyError, ValueError,
            InvalidFileException) as e:
        raise ReleaseFormatError(vid, path,
                                 f'cannot read the workbook ({e!r})') from e
    num_rows = len(table)
    if table.shape[1] == OPENPOSE_COLUMNS + 1 and num_rows and any(
            np.array_equal(table[:, 0],
                           np.arange(num_rows) + base) for base in (0, 1)):
        table = table[:, 1:]
    if num_rows == 0:
        raise ReleaseFormatError(vid, path, 'the sheet has no rows')
    if table.shape[1] != OPENPOSE_COLUMNS:
        raise ReleaseFormatError(
            vid, path, f'expected {OPENPOSE_COLUMNS} columns '
            f'({OPENPOSE_POINTS} points x (x, y, confidence)), found '
            f'{table.shape[1]}')
    keypoints = table.reshape(num_rows, OPENPOSE_POINTS, 3)
    invalid = ~np.isfinite(keypoints).all(-1)
    keypoints[invalid] = 0
    return keypoints.astype(np.float32), int(invalid.sum())


def probe_video(path: str, vid: str) -> Tuple[int, int, int]:
    """``(height, width, frame count)`` from the video header (no decode).

    The frame count is 0 when the container does not state it.
    """
    cap = cv2.VideoCapture(path)
    try:
        if not cap.isOpened():
            raise ReleaseFormatError(vid, path, 'cannot open the video')
        width = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH))
        height = int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
        frames = max(int(round(cap.get(cv2.CAP_PROP_FRAME_COUNT))), 0)
    finally:
        cap.release()
    if width <= 0 or height <= 0:
        raise ReleaseFormatError(vid, path, 'the video header has no size')
    return height, width, frames


def load_openpose_skeleton(path: str,
                           vid: str,
                           cache_dir: Optional[str] = None
                           ) -> Tuple[np.ndarray, bool, int]:
    """Read a workbook through the ``.npz`` cache.

    Args:
        path (str): ``<vid>_openpose.xlsx``.
        vid (str): Video id.
        cache_dir (str, optional): Cache folder; None disables the cache.

    Returns:
        tuple: float32 ``[T, 137, 3]``, whether the workbook was parsed
        (False: loaded from the cache) and the number of points made missing
        for an invalid value (see :func:`read_openpose_xlsx`).
    """
    stat = os.stat(path)
    stamp = np.array([_CACHE_VERSION, stat.st_size, stat.st_mtime_ns],
                     dtype=np.int64)
    cache = osp.join(cache_dir, f'{vid}_openpose.npz') if cache_dir else None
    if cache and osp.exists(cache):
        try:
            with np.load(cache) as f:
                if np.array_equal(f['stamp'], stamp):
                    return f['keypoints'], False, int(f['invalid'])
        except (OSError, ValueError, KeyError, zipfile.BadZipFile):
            pass  # an unreadable cache entry is rebuilt
    keypoints, invalid = read_openpose_xlsx(path, vid)
    if cache:
        with atomic_open(cache) as f:
            np.savez_compressed(
                f, keypoints=keypoints, stamp=stamp, invalid=invalid)
    return keypoints, True, invalid


def _check_files(files: VideoFiles, options: ConvertOptions) -> None:
    """Refuse a video whose files are missing or cannot be listed."""
    vid = files.vid
    if files.label is None and files.skeleton is None:
        raise ReleaseFormatError(vid, files.video, 'a video without label '
                                 'table and skeleton')
    if files.label is None:
        raise ReleaseFormatError(vid, files.skeleton or files.hands,
                                 f'no label table {vid}_label.csv found')
    if files.skeleton is None and (files.hands is None
                                   or not options.light_hand):
        raise ReleaseFormatError(
            vid, files.label, f'no skeleton {vid}_openpose.xlsx (or '
            f'{vid}_light_hand.csv) found')
    if files.split is None:
        raise ReleaseFormatError(
            vid, files.label, 'cannot tell the split: no folder named '
            'train/val/test above it and no split list names it')
    if files.video is None and options.require_video:
        raise ReleaseFormatError(vid, f'{vid}.mp4', 'video not found')
    check_video_path(ReleaseFormatError, vid, files.video, files.video_rel)


def _segment_labels(files: VideoFiles,
                    options: ConvertOptions) -> Tuple[list, List[int]]:
    """The label table's segments and their class indices (-1 for hidden
    test labels)."""
    hidden = options.hidden_test_labels and files.split == 'test'
    segments = read_label_csv(files.label, files.vid, hidden_class=hidden)
    if hidden:
        return segments, [-1] * len(segments)
    labels = []
    for row, (raw, _, _) in enumerate(segments):
        try:
            labels.append(miga_label_to_index(raw))
        except ValueError as e:
            hint = (' (pass --hidden-test-labels if the test labels are '
                    'placeholders)' if files.split == 'test' else '')
            raise ReleaseFormatError(files.vid, files.label,
                                     f'row {row}: {e}{hint}') from e
    return segments, labels


def _check_lengths(files: VideoFiles, segments: list, num_frames: int,
                   video_frames: int, tolerance: int) -> None:
    """Skeleton, video and segments must describe the same frames."""
    source = files.skeleton or files.hands
    if video_frames and abs(num_frames - video_frames) > tolerance:
        raise ReleaseFormatError(
            files.vid, source, f'{num_frames} skeleton rows but the '
            f'video {files.video} has {video_frames} frames (tolerance '
            f'{tolerance})')
    for row, (_, start, end) in enumerate(segments):
        if end >= num_frames:
            raise ReleaseFormatError(
                files.vid, files.label, f'row {row}: segment {start}-{end} '
                f'ends beyond the skeleton ({num_frames} rows in '
                f'{osp.basename(source)})')


def _read_skeleton(files: VideoFiles, options: ConvertOptions
                   ) -> Tuple[np.ndarray, bool, int, int]:
    """The workbook's skeleton, with the light-hand CSV's points wherever
    the workbook misses them (or the CSV alone without a workbook).

    Returns:
        tuple: ``[T, 137, 3]``, whether a workbook was parsed, the points
        made missing for invalid values, and the points taken from the CSV.
    """
    skeleton, parsed, invalid = None, False, 0
    if files.skeleton is not None:
        skeleton, parsed, invalid = load_openpose_skeleton(
            files.skeleton, files.vid, options.cache_dir)
    if files.hands is None or not options.light_hand:
        return skeleton, parsed, invalid, 0
    hands, bad = read_light_hand_csv(files.hands, files.vid)
    if skeleton is None:
        return hands, parsed, bad, int((hands[..., 2] > 0).sum())
    if abs(len(hands) - len(skeleton)) > options.frame_tolerance:
        raise ReleaseFormatError(
            files.vid, files.hands, f'{len(hands)} rows but the workbook '
            f'{osp.basename(files.skeleton)} has {len(skeleton)} (tolerance '
            f'{options.frame_tolerance})')
    num = min(len(hands), len(skeleton))
    take = (skeleton[:num, :, 2] <= 0) & (hands[:num, :, 2] > 0)
    skeleton = skeleton.copy()
    skeleton[:num][take] = hands[:num][take]
    return skeleton, parsed, invalid + bad, int(take.sum())


def convert_video(files: VideoFiles, options: ConvertOptions) -> VideoResult:
    """Cut one long video into clip annotations and RGB list lines.

    Raises:
        ReleaseFormatError: Missing files, malformed tables, labels out of
            range, segments outside the skeleton, or skeleton and video
            lengths that disagree by more than ``options.frame_tolerance``.
    """
    _check_files(files, options)
    segments, labels = _segment_labels(files, options)
    shape, video_frames = tuple(options.default_shape), 0
    if files.video is not None:
        height, width, video_frames = probe_video(files.video, files.vid)
        shape = (height, width)
    skeleton, parsed, invalid, from_hands = _read_skeleton(files, options)
    _check_lengths(files, segments, len(skeleton), video_frames,
                   options.frame_tolerance)
    # Whole videos, before cutting: a gap at a clip's edge is filled from
    # the frames around the clip.
    kp, score, filled = fill_keypoint_gaps(skeleton[None, ..., :2],
                                           skeleton[None, ...,
                                                    2], options.fill_gaps)
    skeleton = np.concatenate([kp[0], score[0, ..., None]], axis=-1)

    skeleton = convert_keypoints(skeleton, 'openpose137', options.layout)
    result = VideoResult(
        files.vid,
        files.split,
        parsed=parsed,
        invalid_points=invalid,
        filled_points=filled,
        light_hand_points=from_hands)
    clips = [(label, start, end)
             for (_, start, end), label in zip(segments, labels)]
    add_clips(
        result,
        files.vid,
        clips,
        shape,
        skeleton[..., :2],
        skeleton[..., 2],
        files.video_rel,
        video=files.vid,
        video_path=files.video_rel)
    return result


def _read_split_overrides(split_files: Dict[str, str]) -> Dict[str, str]:
    overrides = {}
    for split, path in split_files.items():
        if split not in SPLITS:
            raise ValueError(f'unknown split {split!r} for split list '
                             f'{path}; expected one of {SPLITS}')
        for vid in read_split_list(path):
            if overrides.get(vid, split) != split:
                raise ValueError(f'video {vid} is listed in both the '
                                 f'{overrides[vid]} and {split} lists')
            overrides[vid] = split
    return overrides


def convert_release(root: str,
                    out_dir: str,
                    layout: str = 'openpose137',
                    split_files: Optional[Dict[str, str]] = None,
                    video_root: Optional[str] = None,
                    default_shape: Tuple[int, int] = (720, 1280),
                    hidden_test_labels: bool = False,
                    require_video: bool = False,
                    frame_tolerance: int = 5,
                    strict: bool = False,
                    workers: Optional[int] = None,
                    cache_dir: Optional[str] = None,
                    fill_gaps: int = 0,
                    light_hand: bool = True,
                    progress: bool = True) -> dict:
    """Convert a MiGA / iMiGUE release (see the module docstring).

    Args:
        root (str): Release root; label tables and skeletons are found
            anywhere below it.
        out_dir (str): Output folder.
        layout (str): Keypoint layout of the pickle: ``'openpose137'``,
            ``'mg36'`` or ``'mg22'``.
        split_files (dict, optional): Split name to a split list whose
            videos go to that split whatever their folder.
        video_root (str, optional): Folder searched for the mp4 files and
            base of their paths in the RGB lists. Defaults to ``root``.
        default_shape (tuple): ``(H, W)`` for videos without an mp4.
        hidden_test_labels (bool): Give every test clip label -1 instead of
            mapping (and range-checking) its class.
        require_video (bool): Treat a missing mp4 as an error.
        frame_tolerance (int): Largest accepted difference between skeleton
            rows and the mp4 frame count. Container headers and OpenPose may
            disagree by a frame or two at the end; a larger gap means the
            files do not belong together.
        strict (bool): Raise on the first bad video instead of skipping it.
        workers (int, optional): Parallel processes; defaults to
            ``min(4, cpu count)``; 1 converts in this process.
        cache_dir (str, optional): Skeleton cache; defaults to
            ``<out_dir>/cache``.
        fill_gaps (int): Interpolate points missing for at most this many
            frames (:mod:`mmmg.keypoints.gap_filling`; filled points get
            half the smaller bounding confidence). 0 (default) fills none.
        light_hand (bool): Read ``<vid>_light_hand.csv`` where present
            (:mod:`mmmg.data_prep.light_hand`): its points fill those the
            workbook misses, or stand in for a missing workbook. Defaults
            to True.
        progress (bool): Show a progress bar.

    Returns:
        dict: The summary also written to ``summary.json``.

    Raises:
        ReleaseFormatError: With ``strict``, the first bad video.
        FileNotFoundError: No label table or skeleton under ``root``.
    """
    get_layout(layout)  # fail on a bad name before any parsing
    workers = workers or min(4, os.cpu_count() or 1)
    cache_dir = cache_dir or osp.join(out_dir, 'cache')
    os.makedirs(cache_dir, exist_ok=True)
    options = ConvertOptions(
        layout=layout,
        default_shape=tuple(default_shape),
        hidden_test_labels=hidden_test_labels,
        require_video=require_video,
        frame_tolerance=frame_tolerance,
        cache_dir=cache_dir,
        fill_gaps=fill_gaps,
        light_hand=light_hand)

    videos, errors = discover_release(root, video_root,
                                      _read_split_overrides(split_files or {}))
    if not any(f.label or f.skeleton for f in videos) and not errors:
        raise FileNotFoundError(f'no <vid>_label.csv or <vid>_openpose.xlsx '
                                f'found under {root}')

    skipped = skip_errors(errors, 'video', strict)
    results, failed = convert_each(videos, BoundTask(convert_video, options),
                                   'video', 'vid', strict, workers, progress)
    skipped += failed
    results.sort(key=lambda r: r.vid)
    skipped.sort(key=lambda s: s['video'])

    return publish_release(
        out_dir, f'imigue_{layout}.pkl', results, lambda ann_file: _summarize(
            root, ann_file, layout, results, skipped, videos),
        [v.split for v in videos], format_summary)


def _summarize(root: str, ann_file: str, layout: str,
               results: List[VideoResult], skipped: List[dict],
               videos: List[VideoFiles]) -> dict:
    by_split, clips, histogram = split_counts(results)
    converted = {r.vid for r in results}
    return dict(
        root=root,
        ann_file=ann_file,
        layout=layout,
        videos={
            name: len(rs)
            for name, rs in by_split.items()
        },
        clips=clips,
        class_histogram=histogram,
        skipped=skipped,
        without_video=[
            f.vid for f in videos if f.vid in converted and f.video is None
        ],
        skeletons_parsed=sum(r.parsed for r in results),
        skeletons_cached=sum(not r.parsed for r in results),
        invalid_points={
            r.vid: r.invalid_points
            for r in results if r.invalid_points
        },
        filled_points=sum(r.filled_points for r in results),
        light_hand_points=sum(r.light_hand_points for r in results))


def format_summary(summary: dict) -> str:
    """A few human-readable lines of a conversion summary."""
    lines = [f'{summary["ann_file"]} ({summary["layout"]})']
    for name in SPLITS:
        hist = summary['class_histogram'][name]
        lines.append(f'  {name:5s}: {summary["videos"][name]:4d} videos, '
                     f'{summary["clips"][name]:6d} clips, '
                     f'{len(hist)} labels')
    lines.append(f'  skeletons parsed {summary["skeletons_parsed"]}, from '
                 f'cache {summary["skeletons_cached"]}; without video '
                 f'{len(summary["without_video"])}; skipped '
                 f'{len(summary["skipped"])}')
    lines += [
        f'    skipped {s["video"]}: {s["reason"]}' for s in summary['skipped']
    ]
    invalid = summary.get('invalid_points') or {}
    if invalid:
        lines.append(
            f'  {sum(invalid.values())} points with an empty or non-finite '
            f'cell made missing, in {len(invalid)} videos: ' +
            ', '.join(f'{vid} ({n})' for vid, n in sorted(invalid.items())))
    if summary.get('empty_splits'):
        lines.append(f'  every video of {", ".join(summary["empty_splits"])}'
                     ' was skipped: the split is empty')
    return '\n'.join(lines)
