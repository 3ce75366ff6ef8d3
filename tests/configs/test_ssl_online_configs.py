"""The online-sampling pre-training toys train through tools/train.py with a
falling loss; the skeleton one resumes into the same clip sequence, and the
MG-IoD it logs per epoch matches a plain count over the dataset's draws."""
import glob
import json
import os.path as osp

import numpy as np
import pytest
from mmengine.registry import init_default_scope

import mmmg
from mmmg.datasets import LongVideoDataset
from mmmg.utils.config import read_config
from ..conftest import REPO, run_tool

VIDEOMAE = osp.join(REPO, 'configs', 'ssl', 'videomae',
                    'videomae_vit_base_p16_16x4_interviews_online_toy.py')
USDRL = osp.join(REPO, 'configs', 'ssl', 'skeleton',
                 'usdrl_upper59_joint_pretrain_online_toy.py')


def _scalars(work_dir):
    rows = []
    for path in sorted(
            glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))):
        with open(path) as f:
            rows += [json.loads(line) for line in f]
    return rows


def _train(config, work_dir, release, epochs, *extra):
    proc = run_tool([
        'tools/train.py', config, '--work-dir', work_dir, *extra,
        '--cfg-options', f'train_dataloader.dataset.data_root={release}',
        f'train_dataloader.dataset.index_file={work_dir}/index',
        f'train_cfg.max_epochs={epochs}', 'param_scheduler=[]',
        'default_hooks.logger.interval=1',
        'default_hooks.checkpoint.interval=1'
    ])
    assert proc.returncode == 0, proc.stderr[-4000:]
    return proc


def plain_iod(draws, truth):
    """Share of clip frames inside labelled MG frames, by frame sets."""
    inside = total = 0
    for vid, clips in draws.items():
        if not truth.get(vid):
            continue
        labelled = set()
        for start, end in truth[vid]:
            labelled.update(range(start, end + 1))
        for start, end in clips:
            frames = set(range(start, end + 1))
            inside += len(frames & labelled)
            total += len(frames)
    return inside / total


@pytest.mark.parametrize('config', [VIDEOMAE, USDRL])
def test_online_toy_configs_read(config):
    cfg = read_config(config)
    loader = cfg.train_dataloader
    assert loader.sampler.type == 'OnlineClipSampler'
    assert loader.dataset.type == 'LongVideoDataset'
    assert loader.dataset.pipeline[0].type == 'FacialVisibilitySample'
    pack = loader.dataset.pipeline[-1]
    assert {'vid', 'ssl_interval'} <= set(pack.meta_keys)
    assert cfg.custom_hooks == [dict(type='ClipIoDHook')]
    full = read_config(config.replace('_toy.py', '.py'))
    assert full.train_dataloader.dataset.draws_per_video == 50
    assert full.train_dataloader.dataset.threshold == 0.3


@pytest.mark.slow
def test_videomae_online_toy_loss_falls(toy_imigue, tmp_path):
    work_dir = str(tmp_path / 'mae')
    _train(VIDEOMAE, work_dir, toy_imigue['release'], 3)
    losses = [r['loss'] for r in _scalars(work_dir) if 'loss' in r]
    assert len(losses) == 9 and losses[-1] < losses[0], losses
    assert [r['step'] for r in _scalars(work_dir)
            if 'mg_iod/precision' in r] == [1, 2, 3]


@pytest.mark.slow
def test_usdrl_online_toy_resumes_the_clip_sequence(toy_imigue, tmp_path):
    release, work_dir = toy_imigue['release'], str(tmp_path / 'usdrl')
    _train(USDRL, work_dir, release, 2)
    _train(USDRL, work_dir, release, 3, '--resume')
    rows = _scalars(work_dir)
    losses = [r['loss'] for r in rows if 'loss' in r]
    assert len(losses) == 9 and losses[-1] < losses[0], losses
    logged = {
        r['step']: r['mg_iod/precision']
        for r in rows if 'mg_iod/precision' in r
    }
    assert sorted(logged) == [1, 2, 3]
    # The resumed epoch 3 drew the clips of epoch index 2, not epoch 0's.
    mmmg.register_all_modules()
    init_default_scope('mmaction')
    cfg = read_config(USDRL).train_dataloader.dataset
    ds = LongVideoDataset(
        data_root=release,
        index_file=f'{work_dir}/index',
        pipeline=[dict(type='FacialVisibilitySample')],
        draws_per_video=cfg.draws_per_video,
        threshold=cfg.threshold,
        pose_layout=cfg.pose_layout,
        require_video=False)
    for epoch in range(3):
        draws = {}
        for i in range(len(ds)):
            sample = ds[(epoch, i)]
            draws.setdefault(sample['vid'], []).append(sample['ssl_interval'])
        assert np.isclose(logged[epoch + 1], plain_iod(draws, ds.mg_segments))
    assert len(set(logged.values())) == 3
