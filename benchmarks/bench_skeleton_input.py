"""Skeleton training input speed: MMAction2's PoseConv3D pipeline against
the full iMiGUE configs.

For the joint (J) and limb (L) configs
``configs/skeleton/posec3d/posec3d_slowonly_mg36_{joint,limb}_imigue.py``
this builds, side by side:

- stock: MMAction2's own PoseConv3D training pipeline (UniformSampleFrames,
  PoseDecode, PoseCompact, Resize, RandomResizedCrop, Resize, Flip,
  GeneratePoseTarget, FormatShape, PackActionInputs, as in its
  ``slowonly_r50_8xb16-u48-240e_ntu60-xsub-keypoint.py``) with the
  config's sizes. Under numpy 2 the stock ``PoseCompact`` crashes
  (``np.Inf``), so its numpy-2-safe copy ``MGPoseCompact`` stands in;
- mmmg: the config's ``train_pipeline`` as it runs in the main process
  (``num_workers=0``);
- mmmg shm: as it runs in a loader worker, where ``GeneratePoseHeatmaps``
  draws into shared memory, so that the hand-off copies nothing;
- uint8 shm: the same with ``GeneratePoseHeatmaps(dtype='uint8')``, whose
  maps the model's ``ActionDataPreprocessor(mean=[0], std=[255])`` casts
  back on the device (max error 2.0e-3).

Every sample goes through each pipeline in turn, transform by transform
(each timed), then each pipeline's batch through ``pseudo_collate`` (the
runner's collate) and the hand-off to the model: the loader worker moves
each input into shared memory (``share_memory_``) and the main process makes
it contiguous, as ``.to(device)`` does first. Printed are the mean time of
each transform per sample, samples/s of pipeline + collate, without and
with the hand-off, and the speed-up over stock (median and minimum over
the rounds). Times are the process's CPU time (``--wall``: wall time), as
in ``bench_heatmaps.py``.

Samples are synthetic ``mg36`` poses (``bench_heatmaps.synthetic_pose``)
of iMiGUE's clip lengths: log-normal, mean 2.55 s at 25 fps.

Usage::

    python benchmarks/bench_skeleton_input.py [--samples 32] [--rounds 3]
"""
import argparse
import copy
from typing import Dict, List, Optional, Sequence

import bench_heatmaps
import numpy as np
import torch
from bench_heatmaps import LAYOUT, heatmap_args, synthetic_pose
from mmaction.registry import TRANSFORMS
from mmaction.utils import register_all_modules
from mmengine.dataset import pseudo_collate

import mmmg.datasets  # noqa: F401
from mmmg.utils.config import read_config

CONFIG = 'configs/skeleton/posec3d/posec3d_slowonly_mg36_{}_imigue.py'
BATCH = 16
FPS = 25
# MMAction2's PoseConv3D training pipeline, step by step.
STOCK_STEPS = ('UniformSampleFrames', 'PoseDecode', 'PoseCompact', 'Resize',
               'RandomResizedCrop', 'Resize', 'Flip', 'GeneratePoseTarget',
               'FormatShape', 'PackActionInputs')
# Our name for a stock step, where the configs use our own.
OURS = dict(
    PoseCompact='MGPoseCompact',
    GeneratePoseTarget='GeneratePoseHeatmaps',
    PackActionInputs='PackMGInputs')


def clip_lengths(rng: np.random.Generator, num: int) -> np.ndarray:
    """Frames per clip like iMiGUE's: log-normal, sigma 0.7, mean 2.55 s
    (as the toy release draws them), 5 frames at least."""
    sigma = 0.7
    median = 2.55 / np.exp(sigma**2 / 2)
    seconds = median * np.exp(sigma * rng.normal(size=num))
    return np.maximum(np.round(seconds * FPS), 5).astype(int)


def synthetic_annotations(num: int, seed: int = 1) -> List[Dict]:
    """``num`` one-person 1280x720 clips of iMiGUE length."""
    rng = np.random.default_rng(seed)
    annos = []
    for i, total in enumerate(clip_lengths(rng, num)):
        origin = np.float32([rng.uniform(300, 500), rng.uniform(100, 250)])
        kp, score = synthetic_pose(rng, int(total), rng.uniform(400, 550),
                                   origin)
        annos.append(
            dict(
                frame_dir=f'clip{i}',
                sample_id=i,
                label=0,
                total_frames=int(total),
                img_shape=(720, 1280),
                original_shape=(720, 1280),
                keypoint=kp,
                keypoint_score=score,
                start_index=0,
                modality='Pose'))
    return annos


def stock_pipeline(ours: Sequence[Dict], limb: bool) -> List[Dict]:
    """MMAction2's equivalent of our config pipeline ``ours``: the same
    steps and arguments under the stock names."""
    steps = []
    for step in copy.deepcopy(list(ours)):
        if step['type'] == 'GeneratePoseHeatmaps':
            step = dict(type='GeneratePoseTarget', **heatmap_args(limb, True))
        elif step['type'] == 'PackMGInputs':
            step = dict(type='PackActionInputs')
        steps.append(step)
    names = tuple(s['type'] for s in steps)
    expected = tuple('MGPoseCompact' if n == 'PoseCompact' else n
                     for n in STOCK_STEPS)
    assert names == expected, f'config steps {names} are not {expected}'
    return steps


def with_heatmap_args(steps: Sequence[Dict], **args) -> List[Dict]:
    """``steps`` with ``args`` for ``GeneratePoseHeatmaps``."""
    steps = copy.deepcopy(list(steps))
    for step in steps:
        if step['type'] == 'GeneratePoseHeatmaps':
            step.update(args)
    return steps


def hand_off(batch: Dict) -> None:
    """What happens to a collated batch before it reaches the device: the
    worker moves each input tensor into shared memory (a no-op for one
    already there), the main process makes it contiguous (``.to(device)``
    copies strided tensors first)."""
    for inputs in batch['inputs']:
        inputs.share_memory_().contiguous()


def run_round(pipelines: Sequence[List], annos: Sequence[Dict],
              seconds: np.ndarray) -> None:
    """Each sample through each pipeline in turn, adding each transform's
    time to ``seconds[pipeline, step]``; each full batch then through
    collate and hand-off (the last two columns), pipeline by pipeline."""
    for i in range(0, len(annos), BATCH):
        batches = [[] for _ in pipelines]
        for anno in annos[i:i + BATCH]:
            for j, transforms in enumerate(pipelines):
                results = dict(anno)
                for k, transform in enumerate(transforms):
                    start = bench_heatmaps.clock()
                    results = transform(results)
                    seconds[j, k] += bench_heatmaps.clock() - start
                batches[j].append(results)
        for j, batch in enumerate(batches):
            start = bench_heatmaps.clock()
            batch = pseudo_collate(batch)
            middle = bench_heatmaps.clock()
            hand_off(batch)
            seconds[j, -2] += middle - start
            seconds[j, -1] += bench_heatmaps.clock() - middle


def bench(stream: str, num_samples: int, rounds: int) -> Dict:
    ours = read_config(CONFIG.format(stream)).train_pipeline
    steps = {
        'stock': stock_pipeline(ours, stream == 'limb'),
        'mmmg': with_heatmap_args(ours, shared_memory=False),
        'mmmg shm': with_heatmap_args(ours, shared_memory=True),
        'uint8 shm':
        with_heatmap_args(ours, shared_memory=True, dtype='uint8'),
    }
    pipelines = [[TRANSFORMS.build(s) for s in v] for v in steps.values()]
    annos = synthetic_annotations(num_samples)
    shape = (len(pipelines), len(STOCK_STEPS) + 2)
    # A whole round first: until the allocator has settled on where the
    # big arrays go, fresh memory faults in page by page.
    run_round(pipelines, annos, np.zeros(shape))
    per_round = np.zeros((rounds, ) + shape)  # [round, pipeline, step]
    for seconds in per_round:
        run_round(pipelines, annos, seconds)
    result = dict(
        names=list(steps), step_ms=per_round.mean(0) / num_samples * 1e3)
    # Without and with the hand-off: samples/s [round, pipeline].
    for key, rate in (('collate', num_samples / per_round[..., :-1].sum(-1)),
                      ('hand-off', num_samples / per_round.sum(-1))):
        ratio = rate / rate[:, :1]
        result[key] = (np.median(rate, 0), np.median(ratio, 0), ratio.min(0))
    return result


def report(stream: str, result: Dict) -> None:
    names = result['names']
    print(f'\n{stream}: ms per sample, mean over the rounds')
    print(f'{"step":<22}' + ''.join(f'{n:>12}' for n in names))
    rows = [*STOCK_STEPS, 'pseudo_collate', 'hand-off']
    for step, times in zip(rows, result['step_ms'].T):
        print(f'{step:<22}' + ''.join(f'{t:>12.3f}' for t in times))
    for key, what in (('collate', 'pipeline + collate'), ('hand-off',
                                                          '+ hand-off')):
        rate, ratio, ratio_min = result[key]
        print(f'{what}:')
        print(f'{"  samples/s":<22}' + ''.join(f'{r:>12.1f}' for r in rate))
        print(f'{"  speed-up (median)":<22}' + ''.join(f'{r:>11.2f}x'
                                                       for r in ratio))
        print(f'{"  speed-up (min)":<22}' + ''.join(f'{r:>11.2f}x'
                                                    for r in ratio_min))


def main(argv: Optional[Sequence[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--samples', type=int, default=32, help='samples per round')
    parser.add_argument(
        '--rounds', type=int, default=3, help='rounds over the samples')
    parser.add_argument(
        '--streams',
        nargs='+',
        default=['joint', 'limb'],
        choices=['joint', 'limb'])
    parser.add_argument(
        '--wall', action='store_true', help='wall time instead of CPU time')
    args = parser.parse_args(argv)
    what = bench_heatmaps.use_clock('wall' if args.wall else 'cpu')
    register_all_modules()
    np.random.seed(0)
    print(f'Skeleton training input, full iMiGUE configs: {args.samples} '
          f'samples x {args.rounds} interleaved rounds, batch {BATCH}, '
          f'{LAYOUT.name}, {what} (torch threads: '
          f'{torch.get_num_threads()})')
    for stream in args.streams:
        report(stream, bench(stream, args.samples, args.rounds))


if __name__ == '__main__':
    main()
