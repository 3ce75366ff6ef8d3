"""Heatmap transform speed: MMAction2's GeneratePoseTarget against mmmg.

The iMiGUE training setting of the MiGA-2025 PoseConv3D recipe: 48 frames,
one person, the 36-point ``mg36`` layout and its limbs, 56x56 maps,
sigma 0.6, on keypoints already in the 56x56 frame. Stock and mmmg (in
each map dtype) are called in turn, joints and limbs separately; printed
are the median times, the speed-up's median, 10th percentile and minimum
over the rounds, and the largest difference of the maps after the cast
back to float32. ``bench_skeleton_input.py`` times the whole training
input and shares the synthetic poses and the timing loop defined here.

Usage::

    python benchmarks/bench_heatmaps.py [--repeats 30]

Poses are synthetic: a seated upper-body template with a random placement
per clip, per-frame jitter and some missed hand points.

Most of a map stack's cost is memory: 48x36x56x56 float32 is 21.7 MB.
numpy asks Linux for transparent huge pages for arrays of 4 MB and more;
where the kernel compacts memory on demand for them, keeping a batch of
fresh stacks alive stalls, so compare runs with NUMPY_MADVISE_HUGEPAGE=0.
"""
import argparse
import time
from typing import Callable, Dict, List, Optional, Sequence

import numpy as np
from mmaction.registry import TRANSFORMS
from mmaction.utils import register_all_modules

import mmmg.datasets  # noqa: F401
from mmmg.datasets.transforms.heatmaps import MAP_SCALE
from mmmg.keypoints import get_layout

LAYOUT = get_layout('mg36')
CLIP_LEN = 48
SIGMA = 0.6
DTYPES = tuple(MAP_SCALE)

# Seated subject facing the camera, unit box, x right, y down (the
# subject's right side is on the image's left).
TEMPLATE = {
    'nose': (.50, .22),
    'neck': (.50, .38),
    'right_shoulder': (.33, .40),
    'right_elbow': (.26, .62),
    'right_wrist': (.38, .78),
    'left_shoulder': (.67, .40),
    'left_elbow': (.74, .62),
    'left_wrist': (.62, .78),
    'right_eye': (.46, .18),
    'left_eye': (.54, .18),
    'right_ear': (.41, .20),
    'left_ear': (.59, .20),
    'face_02': (.42, .25),
    'face_04': (.44, .29),
    'face_08': (.50, .32),
    'face_12': (.56, .29),
    'face_14': (.58, .25),
    'face_19': (.46, .15),
    'face_24': (.54, .15),
    'face_27': (.50, .17),
    'face_48': (.47, .27),
    'face_51': (.50, .26),
    'face_54': (.53, .27),
    'face_57': (.50, .285),
    'left_hand_wrist': (.62, .78),
    'left_hand_thumb4': (.58, .80),
    'left_hand_index4': (.59, .86),
    'left_hand_middle4': (.61, .87),
    'left_hand_ring4': (.63, .86),
    'left_hand_pinky4': (.65, .84),
    'right_hand_wrist': (.38, .78),
    'right_hand_thumb4': (.42, .80),
    'right_hand_index4': (.41, .86),
    'right_hand_middle4': (.39, .87),
    'right_hand_ring4': (.37, .86),
    'right_hand_pinky4': (.35, .84),
}


def synthetic_pose(rng: np.random.Generator, num_frame: int, box: float,
                   origin: np.ndarray):
    """``[1, T, 36, 2]`` keypoints in a ``box``-pixel square at ``origin``,
    and ``[1, T, 36]`` scores; missed points are (0, 0) with score 0, as in
    OpenPose output."""
    base = np.array([TEMPLATE[n] for n in LAYOUT.names], dtype=np.float32)
    drift = np.cumsum(rng.normal(0, .004, (num_frame, 1, 2)), axis=0)
    jitter = rng.normal(0, .006, (num_frame, len(base), 2))
    kp = (base + drift + jitter) * box + origin
    score = rng.uniform(.3, 1., kp.shape[:2])
    hands = np.array(
        [n.startswith(('left_hand', 'right_hand')) for n in LAYOUT.names])
    missed = (rng.random(kp.shape[:2]) < .15) & hands
    kp[missed], score[missed] = 0, 0
    return kp[None].astype(np.float32), score[None].astype(np.float32)


# The process's CPU time: on a machine shared with other jobs a call's wall
# time grows with the load (a long call is pre-empted more often than a
# short one), its CPU time much less. ``--wall`` switches to wall time.
CLOCKS = dict(cpu=time.process_time, wall=time.perf_counter)
clock = CLOCKS['cpu']


def use_clock(name: str) -> str:
    """Time with ``CLOCKS[name]`` from now on; returns a label for it."""
    global clock
    clock = CLOCKS[name]
    return 'CPU time' if name == 'cpu' else 'wall time'


def timeit(fns: Sequence[Callable], repeats: int) -> List[np.ndarray]:
    """Times in seconds (by ``clock``) of ``repeats`` calls of each of
    ``fns``, after one warm-up call each. The calls go round by round, so
    that all see the same machine load, and each round starts one function
    later, so that none always runs right after the same other one (a call
    pays for the cache lines its predecessor left dirty); entry ``i`` of
    each is round ``i``."""
    times = [[] for _ in fns]
    for i in range(repeats + 1):
        for j in range(len(fns)):
            k = (i + j) % len(fns)
            start = clock()
            fns[k]()
            if i:
                times[k].append(clock() - start)
    return [np.array(t) for t in times]


def heatmap_args(limb: bool, stock: bool) -> Dict:
    if not limb:
        return dict(sigma=SIGMA, with_kp=True, with_limb=False)
    if stock:
        return dict(
            sigma=SIGMA, with_kp=False, with_limb=True, skeletons=LAYOUT.edges)
    return dict(sigma=SIGMA, with_kp=False, with_limb=True, layout='mg36')


def as_float(maps: np.ndarray, dtype: str) -> np.ndarray:
    """Maps of ``dtype`` cast back to float32 values, as the model's data
    preprocessor does."""
    return maps.astype(np.float32) / np.float32(MAP_SCALE[dtype])


def bench_transform(repeats: int) -> List[Dict]:
    """Stock and mmmg maps (each dtype) of one clip, timed in turn."""
    rng = np.random.default_rng(0)
    kp, score = synthetic_pose(rng, CLIP_LEN, 48., np.float32([4, 4]))
    results = dict(keypoint=kp, keypoint_score=score, img_shape=(56, 56))
    rows = []
    for limb in (False, True):
        stock = TRANSFORMS.build(
            dict(type='GeneratePoseTarget', **heatmap_args(limb, True)))
        ours = [
            TRANSFORMS.build(
                dict(
                    type='GeneratePoseHeatmaps',
                    dtype=dtype,
                    **heatmap_args(limb, False))) for dtype in DTYPES
        ]
        num_c = len(LAYOUT.edges) if limb else LAYOUT.num_keypoints
        # Both allocate the zeroed output; its cost bounds the speed-up.
        fns = [lambda: stock(dict(results))]
        fns += [lambda t=t: t(dict(results)) for t in ours]
        fns.append(lambda: np.zeros((CLIP_LEN, num_c, 56, 56), np.float32))
        stock_s, *ours_s, zeros_s = timeit(fns, repeats)
        reference = stock(dict(results))['imgs']
        for dtype, transform, seconds in zip(DTYPES, ours, ours_s):
            maps = as_float(transform(dict(results))['imgs'], dtype)
            # Speed-up of each round, for its spread under load.
            ratio = stock_s / seconds
            rows.append(
                dict(
                    maps='limbs' if limb else 'joints',
                    dtype=dtype,
                    stock=np.median(stock_s),
                    ours=np.median(seconds),
                    median=np.median(ratio),
                    p10=np.percentile(ratio, 10),
                    min=ratio.min(),
                    diff=np.abs(reference - maps).max(),
                    zeros=np.median(zeros_s)))
    return rows


def main(argv: Optional[Sequence[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--repeats',
        type=int,
        default=30,
        help='timed calls per transform (median reported)')
    parser.add_argument(
        '--wall', action='store_true', help='wall time instead of CPU time')
    args = parser.parse_args(argv)
    what = use_clock('wall' if args.wall else 'cpu')
    register_all_modules()
    np.random.seed(0)

    print(f'Heatmap transform alone: {CLIP_LEN} frames x 1 person x '
          f'{LAYOUT.num_keypoints} points ({len(LAYOUT.edges)} limbs), '
          f'56x56, sigma {SIGMA}; {args.repeats} interleaved rounds, '
          f'{what}')
    print(f'{"maps":<8}{"dtype":<9}{"stock ms":>9}{"mmmg ms":>9}'
          f'{"speed-up":>9}{"p10":>7}{"min":>7}{"max|diff|":>11}'
          f'{"zeros-bound":>13}')
    for row in bench_transform(args.repeats):
        print(f'{row["maps"]:<8}{row["dtype"]:<9}{row["stock"] * 1e3:>9.2f}'
              f'{row["ours"] * 1e3:>9.2f}{row["median"]:>8.1f}x'
              f'{row["p10"]:>6.1f}x{row["min"]:>6.1f}x{row["diff"]:>11.1e}'
              f'{row["stock"] / row["zeros"]:>12.1f}x')
    print('speed-up: median over the rounds of stock / mmmg time; p10, min:'
          ' its 10th\npercentile and minimum; max|diff|: largest difference'
          ' from the stock maps\nafter the cast back to float32 (uint8: / '
          '255); zeros-bound: stock time over\nallocating a zeroed float32 '
          'stack, the speed-up of a float32 transform that\ndid nothing '
          'else')


if __name__ == '__main__':
    main()
