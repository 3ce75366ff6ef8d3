"""Facial-visibility clip sampler speed: a per-frame check of every candidate
against mmmg's prefix-sum check, on synthetic forty-minute interviews; then
online sampling (``FacialVisibilitySample`` on the shared index) against
decoding the clip with the stock MMAction2 pipeline, the shared index's
size for 3,000 x 60,000 frames, and one epoch of online sampling over
3,000 forty-minute interviews including reading the keypoint files.

Each video is 60,000 frames (40 min at 25 fps) of OpenPose-137 confidences
whose face anchors drop out in bursts (cut-aways, turned heads); durations
follow a long-tailed MG-like distribution (mean ~2.5 s). Both samplers draw
the same candidates with the same generator through the same
``rejection_sample``, so they accept the same clips (checked); only the
visibility check differs. The naive check scans the
candidate's frames, as a straightforward implementation does. Times
exclude reading the skeletons.

The online part builds a real index (prefix sums + upper_body59 keypoint
store) of the synthetic videos in a temporary folder, reading each video's
keypoints from a compressed ``.npz`` as the converter caches them (parsing
the OpenPose workbooks themselves is the converter's one-off cost, not
counted), and decodes from a synthetic mp4 (``--video-size``). The online
part reports CPU time (``time.process_time``), which a busy machine does
not inflate.

Usage::

    python benchmarks/bench_ssl_sampler.py [--videos 5] [--quota 50] \
        [--bursts 150] [--video-size 1280x720]
"""
import argparse
import json
import os
import os.path as osp
import tempfile
import time

import cv2
import numpy as np
from mmaction.datasets.transforms import DecordDecode, SampleFrames

from mmmg.data_prep.ssl_clip_sampler import (DurationDistribution,
                                             anchor_indices, rejection_sample,
                                             sample_video_clips, video_rng,
                                             visible_prefix)
from mmmg.data_prep.ssl_index import (IndexedVideo, IndexOptions, SSLIndex,
                                      index_files, pose_path, write_ssl_index)
from mmmg.datasets.transforms import DecordInitSegment, FacialVisibilitySample
from mmmg.keypoints import convert_pose

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


def write_video(path, size, frames, fps=25):
    """An mp4 of a panning smooth texture (blurred noise: coarse detail
    like a studio scene, not the decoder's worst case of pure noise)."""
    width, height = size
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'mp4v'), fps,
                             (width, height))
    rng = np.random.default_rng(0)
    base = cv2.GaussianBlur(
        rng.integers(0, 255, (height, width, 3), dtype=np.uint8), (0, 0), 6)
    for t in range(frames):
        writer.write(np.roll(base, 4 * t, axis=1))
    writer.release()


def build_index(folder, args, durations):
    """A real index of ``args.videos`` synthetic interviews; returns it and
    the build seconds per video (reading the cached keypoints included)."""
    index = osp.join(folder, 'index')
    pose_dir = index_files(index)[2]
    os.makedirs(pose_dir)
    rng = np.random.default_rng(0)
    anchors = anchor_indices('openpose137')
    videos, seconds = [], 0.
    for v in range(args.videos):
        vid = f'{v:04d}'
        scores = synthetic_scores(np.random.default_rng(v), args.bursts)
        xy = rng.uniform(0, 720, (FRAMES, 137, 2)).astype(np.float32)
        cache = osp.join(folder, f'{vid}_openpose.npz')
        np.savez_compressed(
            cache, keypoints=np.concatenate([xy, scores[..., None]], -1))
        start = time.process_time()
        with np.load(cache) as f:
            skeleton = f['keypoints']
        prefix = visible_prefix(skeleton[..., 2], anchors, args.threshold)
        kp, score = convert_pose(skeleton[..., :2], skeleton[..., 2],
                                 'openpose137', 'upper_body59')
        np.save(
            pose_path(pose_dir, vid),
            np.concatenate([kp, score[..., None]], -1).astype(np.float32))
        videos.append((IndexedVideo(vid, 'unlabelled',
                                    f'{vid}.mp4', FRAMES, FRAMES, FRAMES,
                                    int(prefix[-1]), 720, 1280), prefix))
        seconds += time.process_time() - start
    start = time.process_time()
    write_ssl_index(index, videos, durations.durations.tolist(), {},
                    IndexOptions(args.threshold, pose_layout='upper_body59'))
    seconds += time.process_time() - start
    return SSLIndex(index), seconds / args.videos


def epoch_draws(index, args, epoch, with_pose):
    """Every sample of one epoch through the transform, in shuffled order
    and with no draws kept between samples (the worst case: with thousands
    of shuffled videos a worker rarely meets a video it holds), so each
    sample replays its video's draws up to its own: ``(results,
    seconds)``."""
    transform = FacialVisibilitySample(
        seed=0, with_pose=with_pose, cache_size=0)
    order = [(row, k) for row in range(len(index.videos))
             for k in range(args.quota)]
    np.random.default_rng(epoch).shuffle(order)
    drawn = []
    start = time.process_time()
    for row, k in order:
        video = index.videos[row]
        results = transform(
            dict(
                vid=video['vid'],
                ssl_index=index,
                video_row=row,
                ssl_epoch=epoch,
                draw_index=k,
                draws_per_video=args.quota,
                height=720,
                width=1280))
        if results is not None:
            drawn.append(results)
    return drawn, time.process_time() - start


def decode_seconds(video, clips, video_frames):
    """Seconds per clip of the stock decoding path for the drawn clips
    (moved into the shorter synthetic mp4)."""
    init = DecordInitSegment()
    sample = SampleFrames(clip_len=16, frame_interval=4, num_clips=1)
    decode = DecordDecode()
    init(dict(filename=video, start=0, end=0))  # open the reader once
    start = time.process_time()
    for clip in clips:
        length = clip['end'] - clip['start'] + 1
        first = clip['start'] % (video_frames - length)
        decode(
            sample(
                init(
                    dict(filename=video, start=first,
                         end=first + length - 1))))
    return (time.process_time() - start) / len(clips)


def online(args, durations):
    width, height = map(int, args.video_size.split('x'))
    with tempfile.TemporaryDirectory() as folder:
        index, build_s = build_index(folder, args, durations)
        npy_bytes = index.meta['npy_bytes']
        per_frame = (npy_bytes - 128) / (args.videos * (FRAMES + 1))
        # Metadata: a fixed part (durations, settings) + an entry per video.
        per_video = len(json.dumps(index.videos)) / args.videos
        meta_bytes = (
            os.path.getsize(index.meta_path) + per_video *
            (FULL_CORPUS - args.videos))
        pose_bytes = os.path.getsize(pose_path(index.pose_dir, '0000'))
        rgb, rgb_s = epoch_draws(index, args, 1, with_pose=False)
        skel, skel_s = epoch_draws(index, args, 1, with_pose=True)
        video = osp.join(folder, 'clip_source.mp4')
        write_video(video, (width, height), args.video_frames)
        decode_s = decode_seconds(video, rgb[:args.decode_clips],
                                  args.video_frames)
    full_prefix = FULL_CORPUS * (FRAMES + 1) * per_frame / 2**20
    print(f'\nonline sampling: {args.videos} indexed videos x {FRAMES} '
          f'frames, {args.quota} draws per video and epoch, '
          f'{len(rgb)} clips drawn')
    print(f'shared index: {npy_bytes / 2**20:.1f} MiB for {args.videos} '
          f'videos ({per_frame:.0f} bytes/frame, '
          f'{index.meta["options"]["threshold"]} face threshold); for '
          f'{FULL_CORPUS:,} x {FRAMES:,} frames: {full_prefix:.0f} MiB '
          f'memory-mapped once, + {meta_bytes / 2**20:.1f} MiB JSON metadata '
          f'(read once per process); keypoint store (upper_body59, float32): '
          f'{pose_bytes * FULL_CORPUS / 2**30:.1f} GiB on disk')
    per_rgb = rgb_s / len(rgb)
    per_skel = skel_s / len(skel)
    print('CPU time of this process (stable on a busy machine; decord\'s '
          'decoding thread included)')
    print(f'{"per sample":<44}{"CPU ms":>10}')
    print(f'{"FacialVisibilitySample (RGB: interval only)":<44}'
          f'{per_rgb * 1e3:>10.3f}')
    print(f'{"FacialVisibilitySample + keypoint slice":<44}'
          f'{per_skel * 1e3:>10.3f}')
    print(f'{"stock decoding of the clip (16x4, " + args.video_size + ")":<44}'
          f'{decode_s * 1e3:>10.3f}')
    print(f'sampling / decoding: {per_rgb / decode_s:.4f} '
          f'({decode_s / per_rgb:.0f}x cheaper than decoding)')
    epoch_min = skel_s / args.videos * FULL_CORPUS / 60
    build_min = build_s * FULL_CORPUS / 60
    print(f'one epoch over {FULL_CORPUS:,} forty-minute videos '
          f'({FULL_CORPUS * args.quota:,} clips with their keypoints read '
          f'from the memory-mapped store): {epoch_min:.1f} min in one '
          f'process (goal <= 5 min); the one-off index build from cached '
          f'keypoints: {build_min:.1f} min ({build_s:.2f} s/video)')


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
    parser.add_argument(
        '--video-size',
        default='1280x720',
        help='WxH of the mp4 decoded for comparison (iMiGUE: 1280x720)')
    parser.add_argument(
        '--video-frames',
        type=int,
        default=500,
        help='frames of that mp4 (clips are moved into it)')
    parser.add_argument(
        '--decode-clips',
        type=int,
        default=40,
        help='clips decoded for the comparison')
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
    online(args, durations)


if __name__ == '__main__':
    main()
