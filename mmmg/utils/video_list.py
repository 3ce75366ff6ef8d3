"""The one reader of segment and clip lists (dependency-free).

Segment lists (``rgb_{split}.txt`` of the converters, SSL clip lists) hold
``<clip_id> <video> <start> <end> [<label>]``; clip lists (``cut_clips``,
MA-52, plain video lists) hold ``<clip file> [<label>]``.
:func:`read_video_list` reads both for datasets, fusion and clip cutting;
:func:`list_videos` gives the distinct videos of either, for the batch video
tools.
"""
import os.path as osp
from typing import List, NamedTuple, Optional, Tuple

from .cli import DataFileError

# Field counts of the two list formats (the label column is optional):
# ``<clip_id> <video> <start> <end> [<label>]`` and ``<clip file> [<label>]``.
LIST_FIELDS = {'segment': (4, 5), 'clip': (1, 2)}
# 0-based field of the video path in each format.
VIDEO_FIELD = {'segment': 1, 'clip': 0}

# The iMiGUE converter accepts mp4s that hold up to this many frames fewer
# than the skeleton rows the segments were checked against (its
# ``frame_tolerance``), so a segment may end that far past the last frame.
DEFAULT_END_TOLERANCE = 5


def resolve_segment(start: int,
                    end: int,
                    num_frames: int,
                    end_tolerance: int = DEFAULT_END_TOLERANCE
                    ) -> Tuple[int, int]:
    """Fit a segment to a video of ``num_frames`` frames.

    Args:
        start (int): First frame (0-based).
        end (int): Last frame (inclusive).
        num_frames (int): Frames in the video.
        end_tolerance (int): How far ``end`` may lie past the last frame; such
            an end is clamped to the last frame.

    Returns:
        tuple[int, int]: ``(start, end)`` with ``end < num_frames``.

    Raises:
        ValueError: The segment is malformed, starts past the last frame or
            ends more than ``end_tolerance`` frames past it.
    """
    if not 0 <= start <= end:
        raise ValueError(f'bad segment {start}-{end} (need 0 <= start <= '
                         'end)')
    last = num_frames - 1
    if start > last or end > last + end_tolerance:
        raise ValueError(
            f'segment {start}-{end} does not fit the video: it has '
            f'{num_frames} frames (0-{last}; end tolerance {end_tolerance}); '
            'a truncated or wrong video?')
    return start, min(end, last)


class VideoListEntry(NamedTuple):
    """One line of a clip list.

    Attributes:
        sample_id: Clip id (segment lists) or the clip path without its
            extension (clip lists).
        video: Video path as written in the list.
        label: Class index; -1 when hidden or absent.
        start: First frame of the segment (None for a clip file).
        end: Last frame of the segment, inclusive (None for a clip file).
        line_no: 1-based line of the list, for messages.
    """
    sample_id: str
    video: str
    label: int
    start: Optional[int] = None
    end: Optional[int] = None
    line_no: int = 0


def _int_field(text: str, what: str, where: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise DataFileError(f'{where}: {what} {text!r} is not an integer')


def _format_of(fields: List[str], where: str) -> str:
    """The list format a first line's field count names."""
    for fmt, counts in LIST_FIELDS.items():
        if len(fields) in counts:
            return fmt
    raise DataFileError(
        f'{where}: {len(fields)} fields; expected a segment line '
        '"<clip_id> <video> <start> <end> [<label>]" or a clip '
        'line "<clip file> [<label>]"')


def _parse_line(fields: List[str], list_format: str, where: str,
                line_no: int) -> VideoListEntry:
    """One line of a list of ``list_format``."""
    if len(fields) not in LIST_FIELDS[list_format]:
        counts = ' or '.join(map(str, LIST_FIELDS[list_format]))
        raise DataFileError(
            f'{where}: {len(fields)} fields, but this is a {list_format} '
            f'list ({counts} fields a line)')
    has_label = len(fields) == LIST_FIELDS[list_format][1]
    label = _int_field(fields[-1], 'label', where) if has_label else -1
    if label < -1:
        raise DataFileError(f'{where}: label {label} is negative (only '
                            '-1, a hidden label, is allowed)')
    if list_format == 'clip':
        # ``0187_0.mp4`` -> ``0187_0``: the id of the same clip as a
        # segment, so cut clips and segments are interchangeable.
        sample_id = osp.splitext(fields[0].replace('\\', '/'))[0]
        return VideoListEntry(sample_id, fields[0], label, line_no=line_no)
    sample_id, video = fields[0], fields[1]
    start = _int_field(fields[2], 'start', where)
    end = _int_field(fields[3], 'end', where)
    if not 0 <= start <= end:
        raise DataFileError(f'{where}: bad segment {start}-{end} of '
                            f'{sample_id!r} (need 0 <= start <= end)')
    return VideoListEntry(sample_id, video, label, start, end, line_no)


def read_video_list(path: str,
                    list_format: str = 'auto'
                    ) -> Tuple[str, List[VideoListEntry]]:
    """Read a segment list or a clip list.

    Segment lines are ``<clip_id> <video> <start> <end> [<label>]`` (frames
    of the long video, 0-based, ``end`` inclusive), as the iMiGUE converter
    writes them in ``rgb_{split}.txt``; clip lines are ``<clip file>
    [<label>]``, as ``cut_clips`` and MA-52 write them. A missing label is
    -1. Blank lines and lines starting with ``#`` are skipped.

    Args:
        path (str): The list.
        list_format (str): ``'segment'``, ``'clip'`` or ``'auto'`` (decided
            by the field count of the first line).

    Returns:
        tuple: The format and the entries in file order.

    Raises:
        ValueError: Malformed lines (named by line number), a mix of formats,
            duplicate sample ids or an empty list.
    """
    if list_format not in ('auto', *LIST_FIELDS):
        raise ValueError(f'list_format must be auto, segment or clip, got '
                         f'{list_format!r}')
    if not osp.isfile(path):
        raise DataFileError(f'clip list {path!r} not found; check the path '
                            '(or --data-root)')
    entries, seen = [], {}
    with open(path) as f:
        lines = f.read().splitlines()
    for line_no, line in enumerate(lines, 1):
        fields = line.split()
        if not fields or fields[0].startswith('#'):
            continue
        where = f'{path}: line {line_no}'
        if list_format == 'auto':
            list_format = _format_of(fields, where)
        entry = _parse_line(fields, list_format, where, line_no)
        if entry.sample_id in seen:
            raise DataFileError(
                f'{where}: sample id {entry.sample_id!r} also on line '
                f'{seen[entry.sample_id]}')
        seen[entry.sample_id] = line_no
        entries.append(entry)
    if not entries:
        raise DataFileError(f'{path}: the list has no samples; drop this '
                            'loader (e.g. test_dataloader for a release '
                            'without a test split) or fill the list')
    return list_format, entries


def list_videos(list_file: str,
                root: Optional[str] = None,
                column: Optional[int] = None) -> List[str]:
    """The distinct videos of a segment or clip list, in list order.

    Args:
        list_file (str): The list (see :func:`read_video_list`).
        root (str, optional): Base of relative paths; defaults to the list
            file's folder.
        column (int, optional): The field the caller expects the video in;
            refused when the list's format keeps it elsewhere.

    Returns:
        list[str]: Video paths (relative ones joined to ``root``).
    """
    list_format, entries = read_video_list(list_file)
    if column is not None and column != VIDEO_FIELD[list_format]:
        raise DataFileError(
            f'{list_file}: a {list_format} list holds its videos in field '
            f'{VIDEO_FIELD[list_format]}, not {column}; drop --column')
    base = root if root is not None else osp.dirname(osp.abspath(list_file))
    videos = dict.fromkeys(osp.join(base, e.video) for e in entries)
    return list(videos)
