"""Draw a self-supervised clip from a long interview online, with the
facial-visibility rule of the offline sampler."""
import functools
from collections import OrderedDict
from typing import Dict, List, Optional, Tuple

import numpy as np
from mmaction.registry import TRANSFORMS
from mmcv.transforms import BaseTransform
from mmengine.logging import print_log

from mmmg.data_prep.ssl_clip_sampler import (DurationDistribution,
                                             default_max_tries,
                                             interval_visible, iter_accepted,
                                             video_rng)


@TRANSFORMS.register_module()
class FacialVisibilitySample(BaseTransform):
    """Draw the ``draw_index``-th accepted clip of a long video in an epoch.

    The clips of a video in an epoch are the accepted candidates of
    :func:`~mmmg.data_prep.ssl_clip_sampler.iter_accepted`, the offline
    tool's rule (duration from the labelled MG durations, uniform start,
    every face anchor visible in every frame, checked in O(1) on the shared
    index's prefix sums, no overlap with the video's earlier clips of the
    epoch), under the generator
    :func:`~mmmg.data_prep.ssl_clip_sampler.video_rng` ``(seed, vid,
    epoch)``. So a sample's clip depends on the seed, the epoch and the
    sample index only, not on workers or processes; and epoch 0 gives the
    offline tool's clips for the same seed, ``quota = draws_per_video`` and
    retry budget. Each process replays a video's draws up to the one asked
    for, keeping the last few videos' draws in memory.

    A video whose budget of candidates (``max_tries``) is spent before the
    ``draw_index``-th clip yields ``None`` (the dataset draws from another
    video) and a log line, never an endless retry loop.

    Required Keys:
        - vid
        - ssl_index (:class:`~mmmg.data_prep.ssl_index.SSLIndex`)
        - video_row (the video's row in the index)
        - ssl_epoch
        - draw_index
        - draws_per_video

    Added Keys:
        - start, end (the clip's frames, inclusive; for
          :class:`DecordInitSegment`)
        - total_frames (the clip's length)
        - ssl_interval (``(start, end)``, for the metainfo)
        - keypoint, keypoint_score, img_shape, original_shape,
          start_index (with ``with_pose``: ``[1, T, V, 2]`` and
          ``[1, T, V]`` slices of the video's keypoints)

    Args:
        seed (int): Sampling seed (the offline tool's ``--seed``).
            Defaults to 0.
        max_tries (int, optional): Candidates per video and epoch; defaults
            to 20 x ``draws_per_video`` (the offline tool's default).
        min_gap (int): Frames between two clips of a video in an epoch.
            Defaults to 0.
        avoid_overlap (bool): Keep a video's clips of an epoch apart.
            Defaults to True (the offline rule).
        with_pose (bool): Add the clip's keypoints (skeleton pipelines; the
            index needs a pose layout). Defaults to False.
        cache_size (int): Videos whose draws are kept per process.
            Defaults to 64.
    """

    def __init__(self,
                 seed: int = 0,
                 max_tries: Optional[int] = None,
                 min_gap: int = 0,
                 avoid_overlap: bool = True,
                 with_pose: bool = False,
                 cache_size: int = 64) -> None:
        if min_gap < 0 or (max_tries is not None and max_tries < 1):
            raise ValueError('min_gap must be >= 0 and max_tries >= 1, got '
                             f'{min_gap} and {max_tries}')
        self.seed = seed
        self.max_tries = max_tries
        self.min_gap = min_gap
        self.avoid_overlap = avoid_overlap
        self.with_pose = with_pose
        self.cache_size = cache_size
        self._streams: 'OrderedDict[tuple, tuple]' = OrderedDict()
        self._reported = set()

    def __getstate__(self) -> dict:
        # Generators do not pickle; a worker replays what it needs.
        state = self.__dict__.copy()
        state['_streams'] = OrderedDict()
        return state

    def _stream(self, results: Dict) -> Tuple[object, List]:
        index = results['ssl_index']
        key = (id(index), results['video_row'], results['ssl_epoch'])
        if key in self._streams:
            self._streams.move_to_end(key)
            return self._streams[key]
        prefix = index.prefix(results['video_row'])
        tries = self.max_tries or default_max_tries(results['draws_per_video'])
        stream = (iter_accepted(
            len(prefix) - 1, functools.partial(interval_visible, prefix),
            DurationDistribution(index.durations),
            video_rng(self.seed, results['vid'], results['ssl_epoch']), tries,
            self.min_gap, self.avoid_overlap), [])
        self._streams[key] = stream
        while len(self._streams) > self.cache_size:
            self._streams.popitem(last=False)
        return stream

    def draw(self, results: Dict) -> Optional[Tuple[int, int]]:
        """The clip of a sample, or None when the budget runs out first."""
        generator, drawn = self._stream(results)
        k = results['draw_index']
        while len(drawn) <= k:
            clip = next(generator, None)
            if clip is None:
                return None
            drawn.append(clip)
        return drawn[k]

    def transform(self, results: Dict) -> Optional[Dict]:
        clip = self.draw(results)
        if clip is None:
            key = (results['vid'], results['ssl_epoch'])
            if key not in self._reported:  # once per video and epoch
                self._reported.add(key)
                print_log(
                    f'video {key[0]}, epoch {key[1]}: no clip '
                    f'{results["draw_index"]} (the face is visible too '
                    'rarely for the retry budget); drawing from another '
                    'video',
                    logger='current')
            return None
        start, end = clip
        results.update(
            start=start,
            end=end,
            total_frames=end - start + 1,
            ssl_interval=(start, end))
        if self.with_pose:
            pose = np.asarray(results['ssl_index'].pose(
                results['video_row'])[start:end + 1])
            shape = (results['height'], results['width'])
            results.update(
                keypoint=pose[None, ..., :2].copy(),
                keypoint_score=pose[None, ..., 2].copy(),
                img_shape=shape,
                original_shape=shape,
                start_index=0)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(seed={self.seed}, '
                f'max_tries={self.max_tries}, min_gap={self.min_gap}, '
                f'avoid_overlap={self.avoid_overlap}, '
                f'with_pose={self.with_pose})')
