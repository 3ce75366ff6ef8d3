"""Masked video pre-training configs: the ViT-B recipes build and keep the
VideoMAE numbers; the toy pre-training trains with a falling loss through
tools/train.py and the toy fine-tuning starts from its checkpoint with every
encoder key loaded."""
import glob
import json
import os.path as osp
import warnings

import pytest
import torch
from mmaction.registry import MODELS
from mmaction.utils import register_all_modules
from mmengine.optim import build_optim_wrapper

import mmmg  # noqa: F401
from mmmg.models.utils import load_state_dict
from mmmg.utils.config import read_config
from ..conftest import REPO, run_tool

CONFIG_DIR = osp.join(REPO, 'configs', 'ssl', 'videomae')
PRETRAIN = osp.join(CONFIG_DIR, 'videomae_vit_base_p16_16x4_interviews.py')
TEACHER = osp.join(CONFIG_DIR,
                   'videomae_vit_base_p16_16x4_interviews_teacher.py')
FINETUNE = osp.join(CONFIG_DIR, 'vit_base_p16_16x4_imigue_finetune.py')
PRETRAIN_TOY = PRETRAIN.replace('.py', '_toy.py')
TEACHER_TOY = TEACHER.replace('.py', '_toy.py')
FINETUNE_TOY = FINETUNE.replace('.py', '_toy.py')


def _build(cfg):
    register_all_modules(init_default_scope=True)
    torch.manual_seed(0)
    return MODELS.build(cfg)


def test_pretraining_recipe():
    cfg = read_config(PRETRAIN)
    model_cfg = cfg.model
    assert model_cfg.masking.ratio == 0.9
    assert (model_cfg.decoder.depth, model_cfg.decoder.embed_dims) == (4, 384)
    assert model_cfg.target == dict(type='pixel', norm_pix=True)
    opt = cfg.optim_wrapper.optimizer
    assert (opt.type, opt.betas, opt.weight_decay) == ('AdamW', (0.9, 0.95),
                                                       0.05)
    # lr 1.5e-4 x batch / 256 at the nominal 8 x 32 clips.
    assert opt.lr == 1.5e-4 * 8 * cfg.train_dataloader.batch_size / 256
    assert cfg.auto_scale_lr.base_batch_size == 256
    # The full-size token counts; one encoder block keeps the test fast.
    model_cfg.backbone.depth = 1
    model = _build(model_cfg)
    clip = torch.randn(1, 3, 16, 224, 224)
    mask = model.make_mask(clip)
    assert mask.shape == (1, 1568) and int((~mask).sum()) == 160
    with torch.no_grad():
        pred, _ = model(clip, mask=mask)
    assert pred.shape == (1, 1408, 2 * 16 * 16 * 3)
    # No weight decay on norms, biases, q/v biases and the mask token.
    wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    decay = {}
    for group in wrapper.optimizer.param_groups:
        for p in group['params']:
            decay[id(p)] = group['weight_decay']
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        no_decay = (p.ndim == 1 or name.endswith('mask_token'))
        assert decay[id(p)] == (0. if no_decay else 0.05), name


def test_finetuning_and_teacher_recipes_build():
    cfg = read_config(FINETUNE)
    cfg.model.backbone.depth = 1
    model = _build(cfg.model)
    assert type(model.backbone).__name__ == 'VisionTransformer'
    assert cfg.load_from.endswith('.pth')
    wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    scales = {g['lr_scale'] for g in wrapper.optimizer.param_groups}
    assert max(scales) == 1. and min(scales) == pytest.approx(0.75**13)

    cfg = read_config(TEACHER)
    cfg.model.backbone.depth = cfg.model.target.teacher.depth = 1
    model = _build(cfg.model)  # the teacher checkpoint loads at init only
    assert model.target_type == 'teacher' and model.decoder.out_dims == 768


def test_teacher_toy_trains_with_frozen_teacher():
    cfg = read_config(TEACHER_TOY)
    model = _build(cfg.model)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        model.init_weights()
    wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    teacher_state = {
        k: v.clone()
        for k, v in model.teacher.state_dict().items()
    }
    clips = torch.randn(
        4, 3, 4, 64, 64, generator=torch.Generator().manual_seed(0))
    losses = []
    for _ in range(8):
        loss = model(clips, mode='loss')['loss_mae']
        wrapper.update_params(loss)
        losses.append(float(loss))
    assert losses[-1] < losses[0], losses
    for k, v in model.teacher.state_dict().items():
        assert torch.equal(v, teacher_state[k]), k
    assert not any('teacher' in k for k in model.state_dict())


@pytest.fixture(scope='module')
def ssl_list(toy_imigue, tmp_path_factory):
    """The toy clips of every split as an unlabelled segment list."""
    path = tmp_path_factory.mktemp('ssl') / 'ssl_clips.txt'
    lines = []
    for split in ('train', 'val', 'test'):
        with open(osp.join(toy_imigue['annotations'],
                           f'rgb_{split}.txt')) as f:
            lines += [' '.join(line.split()[:4]) for line in f if line.strip()]
    path.write_text('\n'.join(lines) + '\n')
    return str(path)


def _losses(work_dir):
    [scalars] = sorted(
        glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json')))[-1:]
    with open(scalars) as f:
        return [r['loss'] for r in map(json.loads, f) if 'loss' in r]


def _log_keys(log, what):
    """Keys of mmengine's 'missing/unexpected key(s) in source state_dict'
    lines."""
    keys = []
    for line in log.splitlines():
        if f'{what} in source state_dict:' in line:
            keys += [k.strip() for k in line.split(':', 1)[1].split(',')]
    return keys


@pytest.mark.slow
def test_toy_pretraining_then_finetuning(toy_imigue, ssl_list, tmp_path):
    release = toy_imigue['release']
    pre_dir = str(tmp_path / 'pre')
    epochs = 8
    proc = run_tool([
        'tools/train.py', PRETRAIN_TOY, '--work-dir', pre_dir, '--cfg-options',
        f'train_dataloader.dataset.ann_file={ssl_list}',
        f'train_dataloader.dataset.data_prefix.video={release}',
        f'train_cfg.max_epochs={epochs}', 'param_scheduler=[]',
        'default_hooks.checkpoint.interval=100'
    ])
    assert proc.returncode == 0, proc.stderr[-4000:]
    losses = _losses(pre_dir)
    assert len(losses) >= 20
    assert max(losses[-3:]) < min(losses[:3]), losses
    ckpt = osp.join(pre_dir, f'epoch_{epochs}.pth')
    state = load_state_dict(ckpt)
    assert {k.split('.')[0]
            for k in state} == {'backbone', 'decoder', 'encoder_norm'}

    # The encoder alone, for the fine-tuning model (strictly, new head).
    encoder = str(tmp_path / 'encoder.pth')
    proc = run_tool([
        'tools/convert_checkpoint.py', ckpt, encoder, '--config', FINETUNE_TOY
    ])
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert 'layout: mmmg-videomae' in proc.stdout
    assert 'dropped: 21 keys' in proc.stdout
    assert 'newly initialised: 2 keys' in proc.stdout
    converted = load_state_dict(encoder)
    assert {k
            for k in converted if k.startswith('backbone.')
            } == {k
                  for k in state if k.startswith('backbone.')}
    assert set(converted) - set(state) == {
        'cls_head.fc_cls.weight', 'cls_head.fc_cls.bias'
    }

    fine_dir = str(tmp_path / 'fine')
    opts = [
        f'load_from={ckpt}', 'train_cfg.max_epochs=2',
        'train_cfg.val_interval=100', 'param_scheduler=[]',
        'default_hooks.checkpoint.save_best=None'
    ]
    for loader, split in (('train_dataloader', 'train'),
                          ('val_dataloader', 'val'), ('test_dataloader',
                                                      'test')):
        opts += [
            f'{loader}.dataset.ann_file='
            f'{toy_imigue["annotations"]}/rgb_{split}.txt',
            f'{loader}.dataset.data_prefix.video={release}'
        ]
    proc = run_tool([
        'tools/train.py', FINETUNE_TOY, '--work-dir', fine_dir, '--cfg-options'
    ] + opts)
    assert proc.returncode == 0, proc.stderr[-4000:]
    log = proc.stdout + proc.stderr
    assert 'Load checkpoint from' in log
    # Only the new head is missing; only pre-training parts are left over.
    assert sorted(_log_keys(log, 'missing keys')) == [
        'cls_head.fc_cls.bias', 'cls_head.fc_cls.weight'
    ]
    assert {k.split('.')[0]
            for k in _log_keys(log, 'unexpected key')
            } == {'decoder', 'encoder_norm'}
    assert 'size mismatch' not in log
    fine_losses = _losses(fine_dir)
    assert fine_losses and all(x == x for x in fine_losses)  # no NaN
    assert osp.isfile(osp.join(fine_dir, 'epoch_2.pth'))
