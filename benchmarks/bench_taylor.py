"""Taylor video conversion speed: the Taylor computation against decoding.

A synthetic 1280x720 video (the iMiGUE frame size) with moving content is
written to a temporary folder with OpenCV (mp4v), then, on the same frames:

(a) decode: decord reading the video in chunks, as the converter does
    (``VideoStream``, one decoding thread);
(b) compute: the converter's Taylor computation on those frames held in
    memory, chunk by chunk (``TaylorStream``: grayscale conversion, the
    Taylor formula, the 8-bit mapping), without decoding and encoding.

The requirement is compute <= decode per frame (ratio <= 1). The runs are
interleaved (a b a b ...) as other processes share the cores; each figure is
the median of ``--repeats`` runs and the ratio is the median of the
per-repeat ratios (each from an adjacent pair of runs), with its range;
wall-clock and CPU time (all threads of the process) are shown. The
stream keeps its buffers from run to run as the converter does from video to
video (first-touch page faults of fresh buffers cost as much as the
arithmetic). For reference, decord with its automatic thread count and the
computation with ``--threads`` threads are timed too. ``--video`` times a
given video instead, e.g. real H.264 footage (iMiGUE is H.264 1280x720),
which decodes slower than mp4v.

Usage::

    python benchmarks/bench_taylor.py [--frames 150] [--num-terms 3]
        [--chunk-size 32] [--repeats 5] [--threads 2] [--video PATH]
"""
import argparse
import os.path as osp
import tempfile
import time

import cv2
import decord
import numpy as np

from mmmg.data_prep.taylor_videos import TaylorStream
from mmmg.data_prep.video_jobs import VideoStream

WIDTH, HEIGHT = 1280, 720


def write_test_video(path: str, num_frames: int, fps: float = 25.0) -> None:
    """A textured backdrop, a seated "person" swaying, two moving hands
    and sensor noise."""
    rng = np.random.default_rng(0)
    backdrop = cv2.GaussianBlur(
        rng.integers(40, 220, (HEIGHT, WIDTH, 3), np.uint8), (0, 0), 6)
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'mp4v'), fps,
                             (WIDTH, HEIGHT))
    if not writer.isOpened():
        raise RuntimeError(f'OpenCV cannot write {path}')
    for t in range(num_frames):
        frame = backdrop.copy()
        sway = int(12 * np.sin(t / 15))
        cv2.ellipse(frame, (640 + sway, 300), (120, 150), 0, 0, 360,
                    (90, 110, 160), -1)
        cv2.rectangle(frame, (470 + sway, 420), (810 + sway, 720),
                      (60, 60, 70), -1)
        for side, phase in ((-1, 0.0), (1, 1.3)):
            x = int(640 + side * (200 + 60 * np.sin(t / 8 + phase)))
            y = int(520 - 120 * np.abs(np.sin(t / 11 + phase)))
            cv2.circle(frame, (x, y), 45, (150, 170, 210), -1)
        noise = rng.integers(-3, 4, frame.shape, np.int16)
        writer.write(np.clip(frame + noise, 0, 255).astype(np.uint8))
    writer.release()


def decode(path: str, chunk_size: int, threads: int = 1):
    """All frames in chunks; decord with ``threads`` (0: automatic)."""
    if threads == 1:
        with VideoStream(path) as video:
            return list(video.chunks(chunk_size))
    reader = decord.VideoReader(path, num_threads=threads)
    return [
        reader.get_batch(list(range(s, min(s + chunk_size,
                                           len(reader))))).asnumpy()
        for s in range(0, len(reader), chunk_size)
    ]


def compute(chunks, stream: TaylorStream) -> int:
    stream.reset()  # as the converter does between videos: buffers stay
    written = 0
    for chunk in chunks:
        written += len(stream.push(chunk))
    return written + len(stream.finish())


def timed(fn):
    """Wall-clock and CPU seconds (all threads of this process) of fn()."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--frames', type=int, default=150)
    parser.add_argument('--num-terms', type=int, default=3)
    parser.add_argument('--chunk-size', type=int, default=32)
    parser.add_argument('--repeats', type=int, default=5)
    parser.add_argument(
        '--threads',
        type=int,
        default=2,
        help='threads of the extra multi-threaded '
        'computation timing (default 2)')
    parser.add_argument(
        '--video',
        metavar='PATH',
        help='time this video instead of the synthetic one '
        '(e.g. real H.264 footage)')
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        path = args.video
        if path is None:
            path = osp.join(tmp, 'synthetic_1280x720.mp4')
            write_test_video(path, args.frames)
        chunks = decode(path, args.chunk_size)
        num = sum(len(c) for c in chunks)
        stream = TaylorStream(args.num_terms, keep_length=True)
        stream_mt = TaylorStream(
            args.num_terms, keep_length=True, num_threads=args.threads)
        runs = {
            'decode': lambda: decode(path, args.chunk_size),
            'decode_auto': lambda: decode(path, args.chunk_size, 0),
            'compute': lambda: compute(chunks, stream),
            'compute_mt': lambda: compute(chunks, stream_mt),
        }
        timings = {name: [] for name in runs}
        for _ in range(args.repeats):  # interleaved against load changes
            for name, fn in runs.items():
                timings[name].append(timed(fn))
        written = compute(chunks, stream)

    # Median wall and CPU time per frame, in ms.
    ms = {
        name:
        tuple(
            float(np.median([t[i] for t in times])) / num * 1000
            for i in (0, 1))
        for name, times in timings.items()
    }

    def ratios(a: str, b: str, i: int) -> np.ndarray:
        # One ratio per repeat: a and b ran next to each other.
        return np.array(
            [ta[i] / tb[i] for ta, tb in zip(timings[a], timings[b])])

    height, width = chunks[0].shape[1:3]
    source = args.video or 'synthetic, mp4v'
    print(f'{num} frames of {width}x{height} ({source}), K={args.num_terms} '
          f'(window {args.num_terms + 3}), chunks of {args.chunk_size}, '
          f'{written} Taylor frames; median of {args.repeats} interleaved '
          'runs')
    print(f'{"":34s} {"wall ms/frame":>14s} {"fps":>7s} '
          f'{"CPU ms/frame":>13s}')
    labels = {
        'decode': '(a) decode, decord 1 thread',
        'decode_auto': '    decode, decord auto threads',
        'compute': '(b) Taylor compute, 1 thread',
        'compute_mt': f'    Taylor compute, {args.threads} threads',
    }
    for name, label in labels.items():
        wall, cpu = ms[name]
        print(f'{label:34s} {wall:14.2f} {1000 / wall:7.1f} {cpu:13.2f}')
    wall = ratios('compute', 'decode', 0)
    cpu = ratios('compute', 'decode', 1)
    ratio, ratio_cpu = float(np.median(wall)), float(np.median(cpu))
    ratio_mt = float(np.median(ratios('compute_mt', 'decode_auto', 0)))
    print(f'ratio compute / decode, 1 thread each: {ratio:.2f} wall '
          f'(range {wall.min():.2f}-{wall.max():.2f}), {ratio_cpu:.2f} CPU '
          f'time (range {cpu.min():.2f}-{cpu.max():.2f}) -> '
          f'{"compute is not slower" if ratio <= 1 else "compute is SLOWER"}')
    print(f'ratio compute ({args.threads} threads) / decode (auto threads): '
          f'{ratio_mt:.2f} wall')
    return ms


if __name__ == '__main__':
    main()
