"""RGB clips as segments of long videos, or as pre-cut clip files."""
import logging
import os.path as osp
from typing import Callable, List, Sequence, Union

from mmaction.datasets import BaseActionDataset
from mmaction.datasets.transforms import DecordInit, OpenCVInit, PyAVInit
from mmaction.registry import DATASETS
from mmaction.utils import ConfigType
from mmengine.logging import print_log

from ..classes import IMIGUE_CLASSES, get_classes
from ..utils.cli import DataFileError
# The list reader lives in mmmg.utils (dependency-free); imported here for
# the dataset and the importers of its names.
from ..utils.video_list import VideoListEntry  # noqa: F401
from ..utils.video_list import LIST_FIELDS, read_video_list
from .transforms.segment_decode import DecordInitSegment

# Stock transforms that would decode the whole long video of a segment.
_WHOLE_VIDEO_INITS = (DecordInit, OpenCVInit, PyAVInit)


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
            print_log(
                f'{where}; skipped', logger='current', level=logging.WARNING)
            return None

    def _check_segment_pipeline(self) -> None:
        for transform in self.pipeline.transforms:
            if isinstance(transform, _WHOLE_VIDEO_INITS) and not isinstance(
                    transform, DecordInitSegment):
                raise ValueError(
                    f'{self.ann_file} is a segment list, but the pipeline '
                    f'opens videos with {type(transform).__name__}, which '
                    'samples the whole long video; use DecordInitSegment')
