"""Facial-visibility clip sampler speed: a per-frame check of every candidate
against mmmg's prefix-sum check, on synthetic forty-minute interviews.

Each video is 60,000 frames (40 min at 25 fps) of OpenPose-137 confidences
whose face anchors drop out in bursts (cut-aways, turned heads); durations
follow a long-tailed MG-like distribution (mean ~2.5 s). Both samplers draw
the same candidates with the same generator through the same
``rejection_sample``, so they accept the same clips (checked); only the
visibility check differs. The naive check scans the
candidate's frames, as a straightforward implementation does. Times
exclude reading the skeletons.

Usage::

    python benchmarks/bench_ssl_sampler.py [--videos 5] [--quota 50] \
        [--bursts 150]
"""
import argparse
import time

import numpy as np

from mmmg.data_prep.ssl_clip_sampler import (DurationDistribution,
                                             anchor_indices, rejection_sample,
                                             sample_video_clips, video_rng,
                                             visible_prefix)

FRAMES = 60_000
FULL_CORPUS = 3000


def synthetic_scores(rng, bursts, frames=FRAMES):
    scores = rng.uniform(0.5, 1.0, size=(frames, 137)).astype(np.float32)
    # Invisible bursts of 1-10 s.
    for start in rng.integers(0, frames, bursts):
        scores[start:start + rng.integers(25, 250), rng.integers(0, 19)] = 0
    return scores


def naive_check(scores, anchors, threshold):
    """The visibility check of a straightforward sampler: scan the
    candidate's frames."""
    face = scores[:, anchors]

    def is_visible(start, end):
        return all((face[t] >= threshold).all() for t in range(start, end + 1))

    return is_visible


def main():
    parser = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--videos', type=int, default=5)
    parser.add_argument('--quota', type=int, default=50)
    parser.add_argument('--threshold', type=float, default=0.3)
    parser.add_argument(
        '--bursts',
        type=int,
        default=150,
        help='face drop-outs per video; more make more '
        'candidates fail and exhaust the retry budget')
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    durations = DurationDistribution(
        np.clip(rng.lognormal(np.log(50), 0.7, 5000), 8, 1500).astype(int))
    anchors = anchor_indices('openpose137')
    naive_s = ours_s = 0.
    clips = 0
    for v in range(args.videos):
        scores = synthetic_scores(np.random.default_rng(v), args.bursts)
        vid = f'{v:04d}'
        start = time.perf_counter()
        theirs = rejection_sample(
            len(scores), naive_check(scores, anchors, args.threshold),
            durations, video_rng(0, vid), args.quota)
        naive_s += time.perf_counter() - start
        start = time.perf_counter()
        prefix = visible_prefix(scores, anchors, args.threshold)
        ours = sample_video_clips(prefix, durations, video_rng(0, vid),
                                  args.quota)
        ours_s += time.perf_counter() - start
        assert ours == theirs, 'the two samplers disagree'
        clips += len(ours)
    n = args.videos
    print(f'{n} videos x {FRAMES} frames (40 min at 25 fps), {args.bursts} '
          f'face drop-outs each, quota {args.quota}, face threshold '
          f'{args.threshold}: {clips} clips, identical from both')
    print(f'{"sampler":<28}{"s/video":>10}{"3,000 videos":>15}')
    for name, seconds in (('naive per-frame check', naive_s),
                          ('mmmg prefix sums', ours_s)):
        print(f'{name:<28}{seconds / n:>10.4f}'
              f'{seconds / n * FULL_CORPUS / 60:>12.1f} min')
    print(f'speed-up: {naive_s / ours_s:.1f}x (sampling only; the prefix '
          'sum includes its O(T) pass over the video)')


if __name__ == '__main__':
    main()
