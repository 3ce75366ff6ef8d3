"""Loader cost of the GPU-rendering configs against the CPU configs.

The full iMiGUE PoseConv3D joint and limb configs (48 frames, 56x56 maps)
and their ``*_gpu_render.py`` variants, on the same synthetic 720p poses:

- bytes per sample the loader hands over (maps against keypoints), for
  the training and the (10-clip, flip-doubled) test pipeline;
- samples/s of the training loader (pipeline + collate), batch by batch
  in turn (CPU, GPU-render, CPU, ...), median of the repeats;
- samples/s of the GPU-render path with its maps drawn by the data
  preprocessor on this CPU, one thread (on a GPU that part runs on the
  device).

Usage::

    python benchmarks/bench_gpu_render.py [--samples 64] [--repeats 3]
"""
import argparse
import copy
import os.path as osp
import sys
import time
from typing import Dict, List

import numpy as np
import torch
from mmaction.registry import MODELS
from mmaction.utils import register_all_modules
from mmengine.dataset import Compose, pseudo_collate

import mmmg  # noqa: F401
from mmmg.utils.config import read_config

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
# The synthetic iMiGUE-length clips of the skeleton input benchmark.
from bench_skeleton_input import synthetic_annotations  # noqa: E402

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIGS = {
    'joints': 'configs/skeleton/posec3d/posec3d_slowonly_mg36_joint_imigue.py',
    'limbs': 'configs/skeleton/posec3d/posec3d_slowonly_mg36_limb_imigue.py',
}
BATCH = 16
# A process's CPU time grows less with the load of a shared machine than
# its wall time.
clock = time.process_time


def pipeline(cfg, loader: str) -> Compose:
    dataset = cfg[loader]['dataset']
    while 'pipeline' not in dataset:
        dataset = dataset['dataset']
    return Compose(dataset['pipeline'])


def sample_bytes(packed: Dict) -> int:
    inputs = packed['inputs']
    inputs = inputs.values() if isinstance(inputs, dict) else [inputs]
    return sum(v.numpy().nbytes for v in inputs)


def bench(maps: str, annos: List[Dict], repeats: int) -> Dict:
    cpu_cfg = read_config(osp.join(REPO, CONFIGS[maps]))
    gpu_cfg = read_config(
        osp.join(REPO, CONFIGS[maps][:-3] + '_gpu_render.py'))
    row = dict(maps=maps)
    for loader in ('train_dataloader', 'test_dataloader'):
        cpu, gpu = (
            pipeline(c, loader)(copy.deepcopy(annos[0]))
            for c in (cpu_cfg, gpu_cfg))
        row[loader] = (sample_bytes(cpu), sample_bytes(gpu))

    paths = dict(
        cpu=pipeline(cpu_cfg, 'train_dataloader'),
        gpu=pipeline(gpu_cfg, 'train_dataloader'))
    renderer = MODELS.build(gpu_cfg.model.data_preprocessor)
    rates = {k: [] for k in ('cpu', 'gpu', 'gpu_drawn')}
    for _ in range(repeats):
        seconds = dict.fromkeys(rates, 0.)
        for i in range(0, len(annos), BATCH):
            # Batch by batch in turn, so that both paths see the same load.
            for name, steps in paths.items():
                np.random.seed(i)
                start = clock()
                batch = pseudo_collate(
                    [steps(copy.deepcopy(a)) for a in annos[i:i + BATCH]])
                seconds[name] += clock() - start
                if name == 'gpu':
                    start = clock()
                    renderer(batch, training=True)
                    seconds['gpu_drawn'] += clock() - start
        seconds['gpu_drawn'] += seconds['gpu']
        for name, s in seconds.items():
            rates[name].append(len(annos) / s)
    row.update({k: float(np.median(v)) for k, v in rates.items()})
    return row


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--samples', type=int, default=64, help='samples per repeat')
    parser.add_argument(
        '--repeats', type=int, default=3, help='repeats (median reported)')
    args = parser.parse_args()
    register_all_modules()
    # One thread, as a loader worker: CPU time then counts no spinning.
    torch.set_num_threads(1)
    annos = synthetic_annotations(args.samples)
    print(f'Full iMiGUE PoseConv3D configs against their *_gpu_render.py '
          f'variants; {args.samples} synthetic 720p samples, batches of '
          f'{BATCH}, median of {args.repeats} interleaved repeats, CPU time')
    print(f'{"maps":<7}{"loader":<7}{"CPU B/sample":>14}{"GPU B/sample":>14}'
          f'{"ratio":>8}')
    rows = [bench(maps, annos, args.repeats) for maps in CONFIGS]
    for row in rows:
        for loader in ('train_dataloader', 'test_dataloader'):
            cpu, gpu = row[loader]
            print(f'{row["maps"]:<7}{loader[:-11]:<7}{cpu:>14,}{gpu:>14,}'
                  f'{f"1/{cpu / gpu:.0f}":>8}')
    print(f'\n{"maps":<7}{"CPU loader/s":>13}{"GPU loader/s":>13}'
          f'{"speed-up":>10}{"GPU + maps drawn on this CPU/s":>32}')
    for row in rows:
        print(f'{row["maps"]:<7}{row["cpu"]:>13.1f}{row["gpu"]:>13.1f}'
              f'{row["gpu"] / row["cpu"]:>9.1f}x{row["gpu_drawn"]:>32.1f}')


if __name__ == '__main__':
    main()
