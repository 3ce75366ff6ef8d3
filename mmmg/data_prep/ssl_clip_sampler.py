"""The facial-visibility clip sampler of iMiGUE-3K for self-supervised
pre-training on unlabelled interviews.

Per long video with its pose sequence, rejection sampling: draw a duration
from the empirical distribution of labelled MG durations and a start
uniformly; accept the interval only if the five face anchors (nose, eyes,
ears) reach a confidence threshold in every frame of it and it overlaps no
clip already accepted in the video; stop at the quota or when the retry
budget is spent. Visibility is checked in O(1) per candidate from a prefix
sum of the per-frame "all anchors visible" flags.
"""
import bisect
import functools
import itertools
import zlib
from dataclasses import dataclass
from typing import (Callable, Dict, Iterable, Iterator, List, Optional,
                    Sequence, Tuple)

import numpy as np

from mmmg.keypoints import get_layout

FACE_ANCHORS = ('nose', 'left_eye', 'right_eye', 'left_ear', 'right_ear')

Interval = Tuple[int, int]


def anchor_indices(layout: str) -> List[int]:
    """Indices of :data:`FACE_ANCHORS` in a keypoint layout."""
    names = get_layout(layout).names
    missing = [a for a in FACE_ANCHORS if a not in names]
    if missing:
        raise ValueError(f'layout {layout!r} has no {missing}: the '
                         'facial-visibility sampler needs nose, eyes and ears')
    return [names.index(a) for a in FACE_ANCHORS]


def visible_prefix(scores: np.ndarray, anchors: Sequence[int],
                   threshold: float) -> np.ndarray:
    """Prefix sums of the frames where every anchor is visible.

    Args:
        scores (np.ndarray): ``[T, V]`` keypoint confidences (NaN counts as
            not visible).
        anchors (Sequence[int]): Anchor keypoints.
        threshold (float): Minimum confidence.

    Returns:
        np.ndarray: int64 ``[T + 1]``; frames ``s..e`` are all visible iff
        ``prefix[e + 1] - prefix[s] == e - s + 1``.
    """
    visible = (scores[:, list(anchors)] >= threshold).all(axis=1)
    prefix = np.zeros(len(visible) + 1, dtype=np.int64)
    np.cumsum(visible, out=prefix[1:])
    return prefix


def interval_visible(prefix: np.ndarray, start: int, end: int) -> bool:
    """Whether frames ``start..end`` (inclusive) are all visible, in O(1)."""
    return prefix[end + 1] - prefix[start] == end - start + 1


class DurationDistribution:
    """The empirical distribution of clip durations in frames.

    Args:
        durations (Sequence[int]): Durations of labelled MG segments.
    """

    def __init__(self, durations: Sequence[int]) -> None:
        durations = np.asarray(durations, dtype=np.int64)
        if durations.size == 0:
            raise ValueError('no labelled MG durations to sample from')
        if (durations < 1).any():
            raise ValueError('durations must be >= 1 frame')
        self.durations = durations

    @classmethod
    def from_segments(cls,
                      segments: Iterable[Interval]) -> 'DurationDistribution':
        """From inclusive ``(start, end)`` frame intervals."""
        return cls([end - start + 1 for start, end in segments])

    def sample(self, rng: np.random.Generator) -> int:
        return int(self.durations[rng.integers(len(self.durations))])


def video_rng(seed: int, vid: str, epoch: int = 0) -> np.random.Generator:
    """The generator of one video (and epoch of online sampling): the same
    for a seed whatever the order, sharding or worker count (crc32, unlike
    hash(), is not salted). Epoch 0 is the offline tool's generator, so
    online sampling starts with the offline list's clips."""
    entropy = [seed, zlib.crc32(vid.encode())] + ([epoch] if epoch else [])
    return np.random.default_rng(np.random.SeedSequence(entropy))


def iter_accepted(num_frames: int,
                  is_visible: Callable[[int, int], bool],
                  durations: DurationDistribution,
                  rng: np.random.Generator,
                  max_tries: int,
                  min_gap: int = 0,
                  avoid_overlap: bool = True) -> Iterator[Interval]:
    """The sampling rule: yield accepted clips of one video in draw order.

    Each candidate takes a duration from ``durations`` and a uniform start;
    it is accepted if all its frames are visible and (with
    ``avoid_overlap``) it keeps ``min_gap`` frames from every clip accepted
    before. Both the offline tool and the online transform consume this
    generator, so equal seeds give equal clips.

    Args:
        num_frames (int): Frames of the video.
        is_visible (Callable[[int, int], bool]): Whether frames
            ``start..end`` are all visible.
        durations (DurationDistribution): Clip durations.
        rng (np.random.Generator): The video's generator.
        max_tries (int): Candidates to draw at most; the generator ends
            when they are spent, so a video without a visible stretch
            costs ``max_tries`` draws, never an endless loop.
        min_gap (int): Frames required between two accepted clips.
        avoid_overlap (bool): Reject candidates near accepted clips.

    Yields:
        tuple[int, int]: Accepted ``(start, end)`` frames (inclusive).
    """
    starts: List[int] = []
    ends: List[int] = []
    for _ in range(max_tries):
        length = durations.sample(rng)
        if length > num_frames:
            continue
        start = int(rng.integers(num_frames - length + 1))
        end = start + length - 1
        if not is_visible(start, end):
            continue
        if avoid_overlap:
            # Neighbours in time: the clip before must end, the one after
            # start, at least min_gap frames away.
            i = bisect.bisect_left(starts, start)
            if i > 0 and ends[i - 1] + min_gap >= start:
                continue
            if i < len(starts) and starts[i] - min_gap <= end:
                continue
            starts.insert(i, start)
            ends.insert(i, end)
        yield start, end


def default_max_tries(quota: int) -> int:
    """The retry budget of a video: 20 candidates per clip wanted."""
    return 20 * quota


def rejection_sample(num_frames: int,
                     is_visible: Callable[[int, int], bool],
                     durations: DurationDistribution,
                     rng: np.random.Generator,
                     quota: int = 50,
                     max_tries: Optional[int] = None,
                     min_gap: int = 0) -> List[Interval]:
    """Rejection-sample non-overlapping visible clips of one video: the
    first ``quota`` clips of :func:`iter_accepted`.

    Args:
        num_frames (int): Frames of the video.
        is_visible (Callable[[int, int], bool]): Whether frames
            ``start..end`` are all visible.
        durations (DurationDistribution): Clip durations.
        rng (np.random.Generator): The video's generator.
        quota (int): Clips to accept at most.
        max_tries (int, optional): Candidates to draw at most; defaults to
            :func:`default_max_tries`.
        min_gap (int): Frames required between two accepted clips.

    Returns:
        list[tuple[int, int]]: Accepted ``(start, end)`` frames
        (inclusive), in time order.
    """
    max_tries = default_max_tries(quota) if max_tries is None else max_tries
    return sorted(
        itertools.islice(
            iter_accepted(num_frames, is_visible, durations, rng, max_tries,
                          min_gap), quota))


def sample_video_clips(prefix: np.ndarray,
                       durations: DurationDistribution,
                       rng: np.random.Generator,
                       quota: int = 50,
                       max_tries: Optional[int] = None,
                       min_gap: int = 0) -> List[Interval]:
    """:func:`rejection_sample` with the O(1) check of a
    :func:`visible_prefix`."""
    return rejection_sample(
        len(prefix) - 1, functools.partial(interval_visible, prefix),
        durations, rng, quota, max_tries, min_gap)


def _union(intervals: Iterable[Interval]) -> List[Interval]:
    merged: List[List[int]] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(s, e) for s, e in merged]


def _overlap(clip: Interval, union: List[Interval]) -> int:
    start, end = clip
    return sum(
        max(0,
            min(end, e) - max(start, s) + 1) for s, e in union
        if s <= end and e >= start)


@dataclass
class IoDReport:
    """MG occupancy of a clip set.

    Attributes:
        precision (float): MG-IoD precision: frames of the clips inside
            ground-truth MG intervals over all frames of the clips.
        mean_iod (float): Mean over clips of a clip's IoD.
        hit_rate (float): Share of clips whose IoD reaches the threshold.
        clips (int): Clips of videos with ground truth.
    """
    precision: float
    mean_iod: float
    hit_rate: float
    clips: int


def mg_iod(clips: Dict[str, Sequence[Interval]],
           ground_truth: Dict[str, Sequence[Interval]],
           threshold: float = 0.5) -> IoDReport:
    r"""Intersection over detection of sampled clips with MG intervals.

    With :math:`\mathcal{G}_v` the union of the ground-truth MG intervals of
    video v and :math:`\mathcal{S}` the sampled clips (frame sets), the
    MG-IoD precision of iMiGUE-3K is

    .. math::

        P = \frac{\sum_{c \in \mathcal{S}} |c \cap \mathcal{G}_{v(c)}|}
                 {\sum_{c \in \mathcal{S}} |c|}

    and a clip's own IoD is :math:`|c \cap \mathcal{G}_{v(c)}| / |c|`.
    Only videos present in ``ground_truth`` count.

    Args:
        clips (dict): Video id to inclusive ``(start, end)`` clips.
        ground_truth (dict): Video id to inclusive MG intervals.
        threshold (float): IoD a clip needs to count as a hit.

    Returns:
        IoDReport: The precision, the mean IoD and the hit rate.
    """
    inside = total = 0
    iods = []
    for vid, video_clips in clips.items():
        if vid not in ground_truth:
            continue
        union = _union(ground_truth[vid])
        for clip in video_clips:
            length = clip[1] - clip[0] + 1
            hit = _overlap(clip, union)
            inside += hit
            total += length
            iods.append(hit / length)
    if not iods:
        return IoDReport(float('nan'), float('nan'), float('nan'), 0)
    iods = np.asarray(iods)
    return IoDReport(inside / total, float(iods.mean()),
                     float((iods >= threshold).mean()), len(iods))
