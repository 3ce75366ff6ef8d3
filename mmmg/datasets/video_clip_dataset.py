"""RGB clips as segments of long videos, or as pre-cut clip files."""
import logging
import os.path as osp
from typing import Callable, List, NamedTuple, Optional, Sequence, Tuple, Union

from mmaction.datasets import BaseActionDataset
from mmaction.datasets.transforms import DecordInit, OpenCVInit, PyAVInit
from mmaction.registry import DATASETS
from mmaction.utils import ConfigType
from mmengine.fileio import list_from_file
from mmengine.logging import print_log

from ..classes import IMIGUE_CLASSES, get_classes
from ..utils.cli import DataFileError
from .transforms.segment_decode import DecordInitSegment

# Field counts of the two list formats (the label column is optional):
# ``<clip_id> <video> <start> <end> [<label>]`` and ``<clip file> [<label>]``.
LIST_FIELDS = {'segment': (4, 5), 'clip': (1, 2)}
# Stock transforms that would decode the whole long video of a segment.
_WHOLE_VIDEO_INITS = (DecordInit, OpenCVInit, PyAVInit)


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


def read_video_list(path: str, list_format: str = 'auto'
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
    for line_no, line in enumerate(list_from_file(path), 1):
        fields = line.split()
        if not fields or fields[0].startswith('#'):
            continue
        where = f'{path}: line {line_no}'
        if list_format == 'auto':
            list_format = next(
                (fmt for fmt, counts in LIST_FIELDS.items()
                 if len(fields) in counts), None)
            if list_format is None:
                raise DataFileError(
                    f'{where}: {len(fields)} fields; expected a segment line '
                    '"<clip_id> <video> <start> <end> [<label>]" or a clip '
                    'line "<clip file> [<label>]"')
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
        if list_format == 'segment':
            sample_id, video = fields[0], fields[1]
            start = _int_field(fields[2], 'start', where)
            end = _int_field(fields[3], 'end', where)
            if not 0 <= start <= end:
                raise DataFileError(f'{where}: bad segment {start}-{end} of '
                                    f'{sample_id!r} (need 0 <= start <= end)')
            entry = VideoListEntry(sample_id, video, label, start, end,
                                   line_no)
        else:
            video = fields[0]
            # ``0187_0.mp4`` -> ``0187_0``: the id of the same clip as a
            # segment, so cut clips and segments are interchangeable.
            sample_id = osp.splitext(video.replace('\\', '/'))[0]
            entry = VideoListEntry(sample_id, video, label, line_no=line_no)
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


@DATASETS.register_module()
class MGVideoClipDataset(BaseActionDataset):
    """RGB clips read straight from long videos, or from pre-cut clip files.

    The annotation file is either

    - a segment list (``rgb_{split}.txt`` of the iMiGUE converter)::

          0187_0 imigue_rgb_phase1/train_data/0187/0187.mp4 120 181 8

      whose frames ``start..end`` (0-based, inclusive) of the long video are
      decoded in place, with :class:`DecordInitSegment` as the first
      transform (stock ``DecordInit`` would sample the whole long video,
      so the pipeline is checked for it); or
    - a clip list (``cut_clips`` output, MA-52 lists)::

          0187_0.mp4 8

      read with ``DecordInitSegment`` or stock ``DecordInit``.

    The same clip has the same ``sample_id`` in both (``0187_0``), so either
    can replace the other. Every sample dict has ``filename`` (under
    ``data_prefix['video']``), ``label`` (-1: hidden), ``sample_id`` and,
    for segments, ``start`` and ``end``.

    Args:
        ann_file (str): The list.
        pipeline (list): Processing pipeline.
        data_prefix (dict): ``video``: folder the list's video paths are
            relative to. Defaults to ``dict(video='')``.
        list_format (str): ``'segment'``, ``'clip'`` or ``'auto'`` (from the
            field count of the first line). Defaults to ``'auto'``.
        classes (Sequence[str] | str): Class names or a name in
            ``CLASS_LISTS``; labels are checked against
            them. Defaults to iMiGUE's 32.
        skip_bad_videos (bool): In training, skip a sample whose video
            fails to load or decode, with a warning naming it, and train on
            another one; otherwise (and always in test mode) stop with an
            error naming it. Defaults to False.
        **kwargs: Passed to :class:`mmaction.datasets.BaseActionDataset`.
    """

    def __init__(self,
                 ann_file: str,
                 pipeline: List[Union[ConfigType, Callable]],
                 data_prefix: ConfigType = dict(video=''),
                 list_format: str = 'auto',
                 classes: Sequence[str] = IMIGUE_CLASSES,
                 skip_bad_videos: bool = False,
                 **kwargs) -> None:
        if list_format not in ('auto', *LIST_FIELDS):
            raise ValueError(f'list_format must be auto, segment or clip, '
                             f'got {list_format!r}')
        self.list_format = list_format
        self.skip_bad_videos = skip_bad_videos
        metainfo = dict(classes=get_classes(classes))
        metainfo.update(kwargs.pop('metainfo', None) or {})
        super().__init__(
            ann_file,
            pipeline=pipeline,
            data_prefix=data_prefix,
            metainfo=metainfo,
            modality='RGB',
            **kwargs)

    def num_list_labels(self) -> int:
        """Labels the list may hold (``0..n-1``); the class count here."""
        return len(self.metainfo['classes'])

    def entry_to_info(self, entry: VideoListEntry) -> dict:
        """The sample dict of a list entry."""
        info = dict(
            filename=osp.join(self.data_prefix['video'] or '', entry.video),
            label=entry.label,
            sample_id=entry.sample_id)
        if entry.start is not None:
            info.update(start=entry.start, end=entry.end)
        return info

    def load_data_list(self) -> List[dict]:
        self.list_format, entries = read_video_list(self.ann_file,
                                                    self.list_format)
        if self.list_format == 'segment':
            self._check_segment_pipeline()
        num_labels = self.num_list_labels()
        data_list = []
        for entry in entries:
            if entry.label >= num_labels:
                raise DataFileError(
                    f'{self.ann_file}: line {entry.line_no}: sample '
                    f'{entry.sample_id!r} has label {entry.label}, outside '
                    f'[0, {num_labels})')
            data_list.append(self.entry_to_info(entry))
        return data_list

    def prepare_data(self, idx: int):
        """The pipeline output of sample ``idx``; a video that cannot be
        read is named, and skipped (None) where ``skip_bad_videos`` asks."""
        try:
            return super().prepare_data(idx)
        except Exception as e:  # decoders fail in many ways
            info = self.get_data_info(idx)
            where = (f'{self.ann_file}: sample {info["sample_id"]!r} '
                     f'({info["filename"]}): {type(e).__name__}: {e}')
            if self.test_mode or not self.skip_bad_videos:
                raise DataFileError(
                    f'{where}; replace or drop the video, or (training '
                    'only) set skip_bad_videos=True on the dataset') from e
            print_log(f'{where}; skipped', logger='current',
                      level=logging.WARNING)
            return None

    def _check_segment_pipeline(self) -> None:
        for transform in self.pipeline.transforms:
            if isinstance(transform, _WHOLE_VIDEO_INITS) and not isinstance(
                    transform, DecordInitSegment):
                raise ValueError(
                    f'{self.ann_file} is a segment list, but the pipeline '
                    f'opens videos with {type(transform).__name__}, which '
                    'samples the whole long video; use DecordInitSegment')
