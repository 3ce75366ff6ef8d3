"""RGB clips of long interviews: per-sample decode time, segment against clip.

A long synthetic 1280x720 video (the iMiGUE frame size, 25 fps, moving
content, OpenCV mp4v: a key frame every 12 frames, where H.264 footage has
longer groups that make every seek dearer) is written once
into ``--cache`` and reused by later runs, with cut clip files of the
benchmark's segments next to it. Random segments of iMiGUE-like length
(uniform 1-4 s, mean 2.5 s) are then loaded, as shuffled training does,
through ``SampleFrames(clip_len=8, frame_interval=2)`` and stock
``DecordDecode``:

(a) stock: MMAction2's ``DecordInit`` (reads the whole file into memory,
    a fresh reader per sample) on the long video, the segment set by hand;
(b) ours, reader missed: ``DecordInitSegment(cache_size=0)`` (opened by
    path, a fresh reader per sample: what shuffled training over more
    videos than the cache holds gets);
(b') ours, reader reused: ``DecordInitSegment`` with the video's reader
    kept (what a cache as large as the number of videos gets);
(b'') as (b'), decoding at 340x192 (decord's ``width``/``height``,
    ``decode_size``): the size a 224-pixel crop pipeline resizes to;
(c) a cut clip file of the same frames, stock ``DecordInit``.

The runs are interleaved sample by sample (a b b' b'' c, a b ...) against
load changes; the table shows the median ms per sample and each path's
ratio to (c) as the median of per-sample ratios. The memory an open reader
holds (RSS growth per reader kept) is printed too, to size ``cache_size``.

Usage::

    python benchmarks/bench_segment_decode.py [--minutes 3] [--samples 30]
        [--cache /tmp]
"""
import argparse
import os
import os.path as osp
import time

import cv2
import numpy as np
from mmaction.datasets.transforms import DecordDecode, DecordInit, SampleFrames

from mmmg.datasets.transforms import DecordInitSegment

WIDTH, HEIGHT, FPS = 1280, 720, 25
SMALL = (340, 192)


def write_video(path: str, frames) -> None:
    """Write frames with mp4v; atomic, so an interrupted run leaves no half
    video in the cache."""
    tmp = path + '.part.mp4'
    writer = cv2.VideoWriter(tmp, cv2.VideoWriter_fourcc(*'mp4v'), FPS,
                             (WIDTH, HEIGHT))
    if not writer.isOpened():
        raise RuntimeError(f'OpenCV cannot write {tmp}')
    for frame in frames:
        writer.write(frame)
    writer.release()
    os.replace(tmp, path)


def synthetic_frames(first: int, last: int):
    """Frames ``first..last`` of a textured backdrop with a swaying body
    and moving hands (deterministic per frame index)."""
    rng = np.random.default_rng(0)
    backdrop = cv2.GaussianBlur(
        rng.integers(40, 220, (HEIGHT, WIDTH, 3), np.uint8), (0, 0), 6)
    for t in range(first, last + 1):
        frame = backdrop.copy()
        sway = int(12 * np.sin(t / 15))
        cv2.ellipse(frame, (640 + sway, 300), (120, 150), 0, 0, 360,
                    (90, 110, 160), -1)
        for side, phase in ((-1, 0.0), (1, 1.3)):
            x = int(640 + side * (200 + 60 * np.sin(t / 8 + phase)))
            y = int(520 - 120 * np.abs(np.sin(t / 11 + phase)))
            cv2.circle(frame, (x, y), 45, (150, 170, 210), -1)
        cv2.putText(frame, str(t), (40, 80), cv2.FONT_HERSHEY_SIMPLEX, 2,
                    (255, 255, 255), 3)
        yield frame


def prepare(cache: str, minutes: float, samples: int):
    """The long video and the clips of ``samples`` random segments."""
    num = int(minutes * 60 * FPS)
    folder = osp.join(cache, f'mmmg_bench_segment_{num}f')
    os.makedirs(folder, exist_ok=True)
    long_path = osp.join(folder, 'long.mp4')
    if not osp.exists(long_path):
        print(f'writing {long_path} ({num} frames, {minutes} min) once ...')
        write_video(long_path, synthetic_frames(0, num - 1))
    rng = np.random.default_rng(1)
    segments = []
    for i in range(samples):
        length = int(rng.integers(FPS, min(4 * FPS, num - 1) + 1))
        start = int(rng.integers(0, num - length + 1))
        clip = osp.join(folder, f'clip_{start}_{length}.mp4')
        if not osp.exists(clip):
            # Cut as data_prep/cut_clips.py would: the segment's frames,
            # re-encoded, the clip starting at a key frame.
            write_video(clip, synthetic_frames(start, start + length - 1))
        segments.append((start, start + length - 1, clip))
    return long_path, segments, num


def rss_mb() -> float:
    with open('/proc/self/statm') as f:
        return int(f.read().split()[1]) * os.sysconf('SC_PAGE_SIZE') / 2**20


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--minutes', type=float, default=3.0)
    parser.add_argument('--samples', type=int, default=30)
    parser.add_argument('--cache', default='/tmp')
    args = parser.parse_args(argv)

    long_path, segments, num = prepare(args.cache, args.minutes, args.samples)
    sampler = SampleFrames(clip_len=8, frame_interval=2, num_clips=1)
    decode = DecordDecode()
    stock_init = DecordInit()
    miss = DecordInitSegment(cache_size=0)
    reuse = DecordInitSegment(cache_size=4)
    small = DecordInitSegment(cache_size=4, decode_size=SMALL)

    def stock(start, end, clip):
        results = stock_init(dict(filename=long_path))
        results.update(total_frames=end - start + 1, start_index=start)
        return decode(sampler(results))

    def ours(init):
        return lambda start, end, clip: decode(
            sampler(init(dict(filename=long_path, start=start, end=end))))

    def cut(start, end, clip):
        return decode(sampler(stock_init(dict(filename=clip, start_index=0))))

    paths = {
        '(a) stock DecordInit, long video': stock,
        '(b) ours, reader missed': ours(miss),
        "(b') ours, reader reused": ours(reuse),
        f"(b'') ours, reused, decoded {SMALL[0]}x{SMALL[1]}": ours(small),
        '(c) cut clip file, stock': cut,
    }
    ours(reuse)(*segments[0])  # warm: open the reused readers once
    ours(small)(*segments[0])
    times = {name: [] for name in paths}
    np.random.seed(0)
    for seg in segments:
        for name, fn in paths.items():
            t = time.perf_counter()
            fn(*seg)
            times[name].append(time.perf_counter() - t)

    # Memory an open reader holds: keep several readers of the video.
    per_reader = {}
    for size in (None, SMALL):
        before, keep = rss_mb(), []
        for _ in range(6):
            results = DecordInitSegment(
                cache_size=1, decode_size=size)(
                    dict(filename=long_path))
            results['video_reader'].get_batch([num // 2])  # decoder buffers
            keep.append(results)
        per_reader[size] = (rss_mb() - before) / len(keep)
        keys = len(keep[0]['video_reader'].get_key_indices())
        del keep

    lengths = [end - start + 1 for start, end, _ in segments]
    print(f'long video: {num} frames ({num / FPS / 60:.1f} min) of '
          f'{WIDTH}x{HEIGHT} mp4v, {keys} key frames; '
          f'{len(segments)} random segments of {min(lengths)}-{max(lengths)}'
          f' frames (mean {np.mean(lengths) / FPS:.1f} s); '
          'SampleFrames(clip_len=8, frame_interval=2) + DecordDecode')
    clip = np.array(times['(c) cut clip file, stock'])
    print(f'{"":46s} {"ms/sample":>10s} {"x clip (c)":>11s}')
    for name, values in times.items():
        ratio = np.median(np.array(values) / clip)
        print(f'{name:46s} {np.median(values) * 1000:10.1f} {ratio:11.2f}')
    print(f'an open reader of this video holds ~{per_reader[None]:.0f} MB, '
          f'~{per_reader[SMALL]:.0f} MB decoding at {SMALL[0]}x{SMALL[1]} '
          '(RSS growth per reader kept)')


if __name__ == '__main__':
    main()
