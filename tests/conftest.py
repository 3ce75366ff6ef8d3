"""Shared fixtures: a tiny learnable pose annotation file, tool runners and
toy models trained once per session."""
import os
import os.path as osp
import pickle
import subprocess
import sys

import numpy as np
import pytest

import mmmg

# Test modules import mmmg in any order; register before any of them runs.
mmmg.register_all_modules()

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
TOY_CONFIG = osp.join(REPO, 'configs', 'skeleton', 'posec3d',
                      'posec3d_slowonly_mg36_joint_toy.py')
# Three iMiGUE classes whose motions differ clearly in the keypoints.
TINY_CLASSES = (10, 16, 22)


def pytest_configure(config):
    # pytest.ini is the suite's ini file (setup.cfg's [tool:pytest] is not
    # read while it exists): the marker is registered here.
    config.addinivalue_line(
        'markers', 'slow: an end-to-end run of 10 s or more on 2 idle cores '
        '(tools/train.py, a demo script); `-m "not slow"` skips them')


def make_tiny_pose_ann(path, per_class=(12, 4, 5), frames=20, seed=0):
    """Write an MMAction2 pose pickle in the 36-point MG layout.

    Class 10 raises the right wrist to the chin, 16 brings both wrists to
    the opposite elbows, 22 moves both hands to the centre and back.
    """
    rng = np.random.default_rng(seed)
    base = rng.uniform(12, 52, size=(36, 2)).astype(np.float32)
    base[0], base[1] = (32, 14), (32, 22)  # nose, neck
    base[2], base[5] = (24, 24), (40, 24)  # shoulders
    base[3], base[6] = (20, 36), (44, 36)  # elbows
    base[4], base[7] = (22, 48), (42, 48)  # wrists
    t = np.linspace(0, np.pi, frames)[:, None]
    annotations, split = [], {'train': [], 'val': [], 'test': []}
    for split_name, n in zip(('train', 'val', 'test'), per_class):
        for label in TINY_CLASSES:
            for i in range(n):
                kp = np.repeat(base[None], frames, 0).copy()
                amp = np.sin(t) * rng.uniform(0.8, 1.2)
                if label == 10:
                    kp[:, 4] += amp * (np.array([32, 18]) - base[4])
                elif label == 16:
                    kp[:, 4] += amp * (base[6] - base[4])
                    kp[:, 7] += amp * (base[3] - base[7])
                else:
                    kp[:, 4] += amp * (np.array([32, 44]) - base[4])
                    kp[:, 7] += amp * (np.array([32, 44]) - base[7])
                kp += rng.normal(0, 0.5, kp.shape)
                score = rng.uniform(0.6, 1.0, (1, frames, 36))
                name = f'{split_name}{label:02d}_{i}'
                annotations.append(
                    dict(
                        frame_dir=name,
                        label=label,
                        total_frames=frames,
                        img_shape=(64, 64),
                        original_shape=(64, 64),
                        keypoint=kp[None].astype(np.float32),
                        keypoint_score=score.astype(np.float32)))
                split[split_name].append(name)
    with open(path, 'wb') as f:
        pickle.dump(dict(split=split, annotations=annotations), f)
    return path


@pytest.fixture(scope='session')
def tiny_pose_ann(tmp_path_factory):
    return make_tiny_pose_ann(
        str(tmp_path_factory.mktemp('tiny_pose') / 'tiny_mg36.pkl'))


def tiny_cfg_options(ann_file, work_dir=None, epochs=2):
    """--cfg-options that shrink the toy config for a test run."""
    opts = [
        f'train_dataloader.dataset.ann_file={ann_file}',
        f'val_dataloader.dataset.ann_file={ann_file}',
        f'test_dataloader.dataset.ann_file={ann_file}',
        f'train_cfg.max_epochs={epochs}',
        'train_cfg.val_interval=1',
        'train_dataloader.batch_size=6',
        'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False',
        'val_dataloader.num_workers=0',
        'val_dataloader.persistent_workers=False',
        'test_dataloader.num_workers=0',
        'test_dataloader.persistent_workers=False',
        'param_scheduler.1.T_max=1',
        f'param_scheduler.1.end={epochs}',
        'default_hooks.logger.interval=1',
    ]
    return opts


def run_tool(args, cwd=None, timeout=600, env=None):
    """Run a repository tool in a fresh interpreter; fail with its output."""
    # Shell tools call `python`: make it this interpreter.
    path = osp.dirname(sys.executable) + os.pathsep + os.environ['PATH']
    full_env = dict(
        os.environ, PATH=path, PYTHONUNBUFFERED='1', OMP_NUM_THREADS='1')
    full_env.update(env or {})
    cmd = args if args[0] == 'bash' else [sys.executable] + args
    proc = subprocess.run(
        cmd,
        cwd=cwd or REPO,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout)
    return proc


def train_toy_joint(work_dir, ann_file, *extra, config=TOY_CONFIG, epochs=2):
    """tools/train.py on the toy joint PoseConv3D shrunk by
    ``tiny_cfg_options`` (6 iterations an epoch on the tiny annotation).

    Every iteration logs its own loss: a windowed mean would hide a
    difference between two runs. ``PYTHONPATH`` lets a test's config import
    a hook from ``tests``.
    """
    return run_tool(
        [
            'tools/train.py', config, '--work-dir',
            str(work_dir), *extra, '--cfg-options'
        ] + tiny_cfg_options(ann_file, epochs=epochs) +
        ['log_processor.window_size=1'],
        env=dict(PYTHONPATH=REPO))


@pytest.fixture(scope='session')
def toy_joint_run(tiny_pose_ann, tmp_path_factory):
    """Work dir of one ``train_toy_joint`` run on ``tiny_pose_ann``, trained
    once per session for every test that needs a trained toy checkpoint:
    ``epoch_1.pth``, ``epoch_2.pth``, ``last_checkpoint`` and the log of one
    run. Shared, so never written to: resume from a copy."""
    work_dir = str(tmp_path_factory.mktemp('toy_joint_run'))
    proc = train_toy_joint(work_dir, tiny_pose_ann)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    return work_dir


@pytest.fixture(scope='session')
def toy_imigue(tmp_path_factory):
    """The tiny toy MiGA release (3 videos, real mp4s) converted to mg36
    pose annotations and RGB segment lists."""
    from data_prep.toy.imigue_release import TOY_PRESETS, make_toy_imigue
    from mmmg.data_prep.imigue_release import convert_release
    root = tmp_path_factory.mktemp('toy_imigue')
    release, annotations = str(root / 'release'), str(root / 'annotations')
    make_toy_imigue(release, seed=0, **TOY_PRESETS['tiny'])
    convert_release(
        release, annotations, layout='mg36', workers=1, progress=False)
    return dict(
        release=release,
        annotations=annotations,
        ann_file=osp.join(annotations, 'imigue_mg36.pkl'))


def make_tiny_depth_model(path):
    """Save a Depth Anything with a 2-layer, 16-wide DINOv2 backbone and its
    image processor with save_pretrained, as a real checkpoint folder."""
    import torch
    from transformers import (DepthAnythingConfig,
                              DepthAnythingForDepthEstimation, Dinov2Config,
                              DPTImageProcessor)
    torch.manual_seed(0)
    backbone = Dinov2Config(
        hidden_size=16,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=32,
        image_size=28,
        patch_size=14,
        out_features=['stage1', 'stage2'],
        reshape_hidden_states=False)
    config = DepthAnythingConfig(
        backbone_config=backbone,
        reassemble_hidden_size=16,
        neck_hidden_sizes=[8, 16],
        reassemble_factors=[2, 1],
        fusion_hidden_size=8,
        head_hidden_size=8,
        patch_size=14)
    DepthAnythingForDepthEstimation(config).save_pretrained(path)
    DPTImageProcessor(
        size={
            'height': 28,
            'width': 28
        },
        keep_aspect_ratio=True,
        ensure_multiple_of=14).save_pretrained(path)
    return path
