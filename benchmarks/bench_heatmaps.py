"""Heatmap rendering speed: MMAction2's GeneratePoseTarget against mmmg.

The iMiGUE training setting of the MiGA-2025 PoseConv3D recipe: 48 frames,
one person, the 36-point ``mg36`` layout and its limbs, 56x56 maps,
sigma 0.6. Poses are synthetic: a seated upper-body template with a random
placement per clip, per-frame jitter and some missed hand points.

1. The heatmap transform alone, on keypoints already in a 56x56 frame:
   stock and mmmg called in turn, joints and limbs separately, with the
   speed-up and the largest difference of their maps.
2. The whole training pipeline up to a model-ready batch (collate + data
   preprocessor), in samples/s: stock, mmmg, and keypoints through the
   pipeline with the maps drawn by ``HeatmapDataPreprocessor`` on CPU.

Usage::

    python benchmarks/bench_heatmaps.py [--repeats 30] [--samples 64]

(``--samples 0`` skips the pipeline.)

Most of a training sample's cost is memory: a 48x36x56x56 float32 map stack
is 21 MB. numpy asks Linux for transparent huge pages for arrays of 4 MB and
more; where the kernel compacts memory on demand for them, keeping a batch
of fresh stacks alive stalls, so compare runs with NUMPY_MADVISE_HUGEPAGE=0.
"""
import argparse
import time
from typing import Callable, Dict, List, Optional, Sequence

import numpy as np
import torch
from mmaction.registry import MODELS, TRANSFORMS
from mmaction.utils import register_all_modules
from mmengine.dataset import Compose, pseudo_collate

import mmmg.datasets  # noqa: F401
import mmmg.models  # noqa: F401
from mmmg.keypoints import get_layout
from mmmg.keypoints.layouts import flip_lists

LAYOUT = get_layout('mg36')
CLIP_LEN = 48
SIGMA = 0.6
BATCH = 16

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


def timeit(fns: Sequence[Callable], repeats: int) -> List[np.ndarray]:
    """Wall times in seconds of ``repeats`` calls of each of ``fns``, after
    one warm-up call each. The calls go round by round, so that all see
    the same machine load, and each round starts one function later, so
    that none always runs right after the same other one (a call pays for
    the cache lines its predecessor left dirty); entry ``i`` of each is
    round ``i``."""
    times = [[] for _ in fns]
    for i in range(repeats + 1):
        for j in range(len(fns)):
            k = (i + j) % len(fns)
            start = time.perf_counter()
            fns[k]()
            if i:
                times[k].append(time.perf_counter() - start)
    return [np.array(t) for t in times]


def heatmap_args(limb: bool, stock: bool) -> Dict:
    if not limb:
        return dict(sigma=SIGMA, with_kp=True, with_limb=False)
    if stock:
        return dict(
            sigma=SIGMA, with_kp=False, with_limb=True, skeletons=LAYOUT.edges)
    return dict(sigma=SIGMA, with_kp=False, with_limb=True, layout='mg36')


def bench_transform(repeats: int) -> List[Dict]:
    rng = np.random.default_rng(0)
    kp, score = synthetic_pose(rng, CLIP_LEN, 48., np.float32([4, 4]))
    results = dict(keypoint=kp, keypoint_score=score, img_shape=(56, 56))
    rows = []
    for limb in (False, True):
        stock = TRANSFORMS.build(
            dict(type='GeneratePoseTarget', **heatmap_args(limb, True)))
        ours = TRANSFORMS.build(
            dict(type='GeneratePoseHeatmaps', **heatmap_args(limb, False)))
        num_c = len(LAYOUT.edges) if limb else LAYOUT.num_keypoints
        # Both allocate the zeroed output; its cost bounds the speed-up.
        stock_s, ours_s, zeros_s = timeit([
            lambda: stock(dict(results)), lambda: ours(dict(results)),
            lambda: np.zeros((CLIP_LEN, num_c, 56, 56), np.float32)
        ], repeats)
        diff = np.abs(
            stock(dict(results))['imgs'] - ours(dict(results))['imgs']).max()
        rows.append(
            dict(
                maps='limbs' if limb else 'joints',
                stock=np.median(stock_s),
                ours=np.median(ours_s),
                # Speed-up of each round, for its spread under load.
                low=np.percentile(stock_s / ours_s, 10),
                diff=diff,
                zeros=np.median(zeros_s)))
    return rows


def train_pipeline(heatmaps: Optional[Dict]) -> List[Dict]:
    """The recipe's training pipeline; without ``heatmaps`` it packs the
    keypoints for ``HeatmapDataPreprocessor``."""
    left, right = flip_lists(LAYOUT.name)
    steps = [
        dict(type='UniformSampleFrames', clip_len=CLIP_LEN),
        dict(type='PoseDecode'),
        dict(type='MGPoseCompact', hw_ratio=1., allow_imgpad=True),
        dict(type='Resize', scale=(-1, 64)),
        dict(type='RandomResizedCrop', area_range=(0.56, 1.0)),
        dict(type='Resize', scale=(56, 56), keep_ratio=False),
        dict(type='Flip', flip_ratio=0.5, left_kp=left, right_kp=right),
    ]
    if heatmaps is None:
        return steps + [
            dict(
                type='PackActionInputs',
                collect_keys=('keypoint', 'keypoint_score'),
                meta_keys=('img_shape', 'num_clips', 'clip_len'))
        ]
    return steps + [
        heatmaps,
        dict(type='FormatShape', input_format='NCTHW_Heatmap'),
        dict(type='PackActionInputs')
    ]


def bench_pipeline(num_samples: int) -> List[tuple]:
    rng = np.random.default_rng(1)
    annos = []
    for i in range(num_samples):
        total = int(rng.integers(50, 300))
        origin = np.float32([rng.uniform(300, 500), rng.uniform(100, 250)])
        kp, score = synthetic_pose(rng, total, rng.uniform(400, 550), origin)
        annos.append(
            dict(
                frame_dir=f'clip{i}',
                label=0,
                total_frames=total,
                img_shape=(720, 1280),
                original_shape=(720, 1280),
                keypoint=kp,
                keypoint_score=score,
                start_index=0,
                modality='Pose'))

    stacker = MODELS.build(
        dict(type='ActionDataPreprocessor', format_shape='NCTHW'))
    rows = []
    for limb in (False, True):
        stock = dict(type='GeneratePoseTarget', **heatmap_args(limb, True))
        ours = dict(type='GeneratePoseHeatmaps', **heatmap_args(limb, False))
        renderer = MODELS.build(
            dict(type='HeatmapDataPreprocessor', **heatmap_args(limb, False)))
        paths = [(Compose(train_pipeline(stock)), stacker),
                 (Compose(train_pipeline(ours)), stacker),
                 (Compose(train_pipeline(None)), renderer)]
        seconds = [0.] * len(paths)
        for i in range(0, num_samples, BATCH):
            # Batch by batch in turn, so that all paths see the same load.
            for j, (pipeline, preprocessor) in enumerate(paths):
                start = time.perf_counter()
                batch = [pipeline(dict(a)) for a in annos[i:i + BATCH]]
                preprocessor(pseudo_collate(batch), training=True)
                seconds[j] += time.perf_counter() - start
        rows.append(('limbs' if limb else 'joints', *(num_samples / s
                                                      for s in seconds)))
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--repeats',
        type=int,
        default=30,
        help='timed calls per transform (median reported)')
    parser.add_argument(
        '--samples',
        type=int,
        default=64,
        help='samples per pipeline run (0: skip it)')
    args = parser.parse_args()
    register_all_modules()
    np.random.seed(0)

    print(f'Heatmap transform alone: {CLIP_LEN} frames x 1 person x '
          f'{LAYOUT.num_keypoints} points ({len(LAYOUT.edges)} limbs), '
          f'56x56, sigma {SIGMA}; median of {args.repeats} interleaved '
          'calls')
    print(f'{"maps":<8}{"stock ms":>10}{"mmmg ms":>10}{"speed-up":>10}'
          f'{"(p10)":>8}{"max|diff|":>11}{"np.zeros ms":>13}'
          f'{"zeros-bound":>13}')
    for row in bench_transform(args.repeats):
        print(f'{row["maps"]:<8}{row["stock"] * 1e3:>10.2f}'
              f'{row["ours"] * 1e3:>10.2f}'
              f'{row["stock"] / row["ours"]:>9.1f}x'
              f'{row["low"]:>7.1f}x{row["diff"]:>11.1e}'
              f'{row["zeros"] * 1e3:>13.2f}'
              f'{row["stock"] / row["zeros"]:>12.1f}x')
    print('speed-up: stock ms / mmmg ms; (p10): 10th percentile of the '
          'per-round\nspeed-ups; max|diff|: largest difference of the two '
          'maps; np.zeros:\nallocating the zeroed float32 output, which '
          'both pay; zeros-bound:\nstock ms / np.zeros ms, the speed-up of '
          'a transform that did nothing else')
    if args.samples <= 0:
        return
    print(f'\nTraining pipeline + collate + data preprocessor, batch {BATCH}, '
          f'{args.samples} samples, samples/s (torch threads: '
          f'{torch.get_num_threads()})')
    print(f'{"maps":<8}{"stock":>10}{"mmmg":>10}{"speed-up":>11}'
          f'{"preproc.":>11}{"speed-up":>11}')
    for name, stock, ours, pre in bench_pipeline(args.samples):
        print(f'{name:<8}{stock:>10.1f}{ours:>10.1f}{ours / stock:>10.1f}x'
              f'{pre:>11.1f}{pre / stock:>10.1f}x')


if __name__ == '__main__':
    main()
