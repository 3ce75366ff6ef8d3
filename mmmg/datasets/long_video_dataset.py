"""Long interviews as a dataset of self-supervised clips drawn online."""
import logging
import os.path as osp
from typing import Callable, List, Optional, Sequence, Tuple, Union

from mmaction.registry import DATA_SAMPLERS, DATASETS
from mmengine.dataset import BaseDataset, DefaultSampler
from mmengine.dist import barrier, get_rank
from mmengine.logging import print_log

from ..data_prep.ssl_index import IndexOptions, SSLIndex, ensure_ssl_index
from ..utils.cli import DataFileError


@DATASETS.register_module()
class LongVideoDataset(BaseDataset):
    """Unlabelled long interviews, ``draws_per_video`` clips per video per
    epoch, drawn by :class:`FacialVisibilitySample` (the pipeline's first
    transform).

    The videos come from a MiGA / iMiGUE release root (label tables,
    OpenPose workbooks, mp4s; found as by the converter). On first use the
    shared index of :mod:`mmmg.data_prep.ssl_index` is built (rank 0 only,
    atomically; reused while the inputs and settings are unchanged).
    Videos without a pose file, and videos whose face is never visible,
    are left out with a log line.

    Sample ``i`` is draw ``i % draws_per_video`` of video
    ``i // draws_per_video``. The epoch travels in the index: with
    :class:`OnlineClipSampler` the loader asks for ``(epoch, i)`` (the
    sampler runs in the main process, so persistent workers see every
    epoch, and ``--resume`` continues at the runner's epoch); a plain
    ``i`` means epoch 0. When draw ``d`` of a video fails (retry budget
    spent), the next video gives its extra draw ``d + draws_per_video``
    (then ``d + 2 * draws_per_video`` of the one after, ...): a clip beyond
    its quota, so no clip repeats within an epoch. Only when none of
    ``max_refetch`` videos has a clip to spare (short videos) does a sample
    repeat draw ``d`` of another video, with a log line. The fallback does
    not depend on workers either.

    Each sample carries ``vid``, ``filename`` (the mp4), ``height``,
    ``width`` and ``sample_id`` (``<vid>_e<epoch>_d<draw>``).

    Args:
        data_root (str): Release root.
        index_file (str): Index path without extension (built there; one
            per release and settings).
        pipeline (list): Starting with ``FacialVisibilitySample``.
        draws_per_video (int): Clips per video per epoch. Defaults to 50
            (the offline tool's quota).
        threshold (float): Face-anchor confidence. Defaults to 0.3.
        duration_splits (Sequence[str]): Splits whose labelled MGs give
            the durations. Defaults to ``('train',)``.
        splits (Sequence[str], optional): Use only videos of these splits.
        pose_layout (str, optional): Keypoint layout stored in the index
            for skeleton pipelines. Defaults to None (RGB only).
        require_video (bool): Leave out videos without an mp4 (RGB
            pipelines). Defaults to True.
        cache_dir (str, optional): Cache of parsed workbooks; defaults to
            ``<index folder>/skeleton_cache``.
        workers (int): Processes building the index. Defaults to 1.
        max_refetch (int): Videos tried after a failed draw. Defaults to 10.
    """

    def __init__(self,
                 data_root: str,
                 index_file: str,
                 pipeline: List[Union[dict, Callable]],
                 draws_per_video: int = 50,
                 threshold: float = 0.3,
                 duration_splits: Sequence[str] = ('train', ),
                 splits: Optional[Sequence[str]] = None,
                 pose_layout: Optional[str] = None,
                 require_video: bool = True,
                 cache_dir: Optional[str] = None,
                 workers: int = 1,
                 max_refetch: int = 10,
                 **kwargs) -> None:
        if draws_per_video < 1:
            raise ValueError(
                f'draws_per_video must be >= 1, got {draws_per_video}')
        self.index_file = index_file
        self.draws_per_video = draws_per_video
        self.options = IndexOptions(
            float(threshold), tuple(duration_splits),
            None if splits is None else tuple(splits), pose_layout)
        self.require_video = require_video
        self.cache_dir = cache_dir or osp.join(
            osp.dirname(self.index_file), 'skeleton_cache')
        self.workers = workers
        self.index: Optional[SSLIndex] = None
        self._repeats = set()
        super().__init__(
            data_root=data_root,
            pipeline=pipeline,
            serialize_data=False,
            max_refetch=max_refetch,
            **kwargs)

    def _open_index(self) -> SSLIndex:
        if not osp.isdir(self.data_root):
            raise DataFileError(f'release root {self.data_root!r} is not a '
                                'folder (data_root of LongVideoDataset)')
        # Rank 0 builds; the others wait and open what it wrote.
        if get_rank() == 0:
            index, built = ensure_ssl_index(
                self.data_root,
                self.index_file,
                self.options,
                cache_dir=self.cache_dir,
                workers=self.workers)
            if built:
                print_log(
                    f'built the SSL sampling index {self.index_file} '
                    f'({len(index.videos)} videos)',
                    logger='current')
        barrier()
        return index if get_rank() == 0 else SSLIndex(self.index_file)

    def load_data_list(self) -> List[dict]:
        self.index = self._open_index()
        for skipped in self.index.meta['skipped']:
            print_log(
                f'SSL sampling leaves out video {skipped["video"]}: '
                f'{skipped["reason"]}',
                logger='current')
        data_list = []
        for row, video in enumerate(self.index.videos):
            vid = video['vid']
            if video['note']:
                print_log(video['note'], logger='current')
            if video['visible'] == 0:
                print_log(
                    f'SSL sampling leaves out video {vid}: the face is never '
                    f'visible (threshold {self.options.threshold})',
                    logger='current')
                continue
            if video['video'] is None and self.require_video:
                print_log(
                    f'SSL sampling leaves out video {vid}: no mp4 found',
                    logger='current')
                continue
            filename = None if video['video'] is None else osp.join(
                self.data_root, video['video'])
            data_list.append(
                dict(
                    vid=vid,
                    video_row=row,
                    filename=filename,
                    height=video['height'],
                    width=video['width']))
        if not data_list:
            raise DataFileError(
                f'{self.data_root}: no video to sample SSL clips from (see '
                f'the log lines above and {self.index.meta_path})')
        return data_list

    @property
    def mg_segments(self):
        """Labelled MG intervals per video (for MG-IoD)."""
        return self.index.mg_segments

    @property
    def num_videos(self) -> int:
        return len(self.data_list)

    def __len__(self) -> int:
        return self.num_videos * self.draws_per_video

    def get_data_info(self, idx: Union[int, Tuple[int, int]]) -> dict:
        epoch, idx = idx if isinstance(idx, tuple) else (0, idx)
        return self._draw_info(epoch, *divmod(int(idx), self.draws_per_video))

    def _draw_info(self, epoch: int, video: int, draw: int) -> dict:
        info = dict(self.data_list[video])
        info.update(
            ssl_index=self.index,
            ssl_epoch=int(epoch),
            draw_index=draw,
            draws_per_video=self.draws_per_video,
            sample_id=f'{info["vid"]}_e{epoch}_d{draw}')
        return info

    def __getitem__(self, idx: Union[int, Tuple[int, int]]) -> dict:
        epoch, idx = idx if isinstance(idx, tuple) else (0, idx)
        video, draw = divmod(int(idx), self.draws_per_video)
        others = [(video + a) % self.num_videos
                  for a in range(1, self.max_refetch + 1)]
        # The sample's own draw, then a clip beyond another video's quota,
        # and last another video's own draw, which repeats a clip.
        fresh = [(v, draw + a * self.draws_per_video)
                 for a, v in enumerate([video] + others)]
        for i, (v, d) in enumerate(fresh + [(v, draw) for v in others]):
            data = self.pipeline(self._draw_info(epoch, v, d))
            if data is None:
                continue
            if i >= len(fresh) and (epoch, video) not in self._repeats:
                self._repeats.add((epoch, video))  # once per video, epoch
                print_log(
                    f'epoch {epoch}: video {self.data_list[video]["vid"]} '
                    f'has no clip {draw} and no other video one to spare; '
                    f'repeating clip {d} of video {self.data_list[v]["vid"]}',
                    logger='current',
                    level=logging.WARNING)
            return data
        raise RuntimeError(
            f'no clip after trying {self.max_refetch + 1} videos in epoch '
            f'{epoch}; lower the threshold or draws_per_video (see the log)')


@DATA_SAMPLERS.register_module()
class OnlineClipSampler(DefaultSampler):
    """``DefaultSampler`` whose indices carry the epoch: ``(epoch, i)``.

    The runner sets the epoch (``DistSamplerSeedHook``, also after
    ``--resume``) in the main process; workers see it through the indices,
    so :class:`LongVideoDataset` draws each epoch's own clips with any
    number of persistent workers. Iteration-based loops (``InfiniteSampler``)
    pass plain indices: every pass then draws epoch 0's clips.
    """

    def __iter__(self):
        return ((self.epoch, i) for i in super().__iter__())
