"""The video recipes start from the public checkpoints the anchors used and
fine-tune them as the anchors did.

No network: the model-zoo URLs are checked against MMAction2's own configs
and metafiles, and the loading against stand-in state dicts whose names and
shapes follow the published checkpoints' layouts, filled with random
numbers. docs/recipes.md compares the rest (tests/configs/test_recipes.py).
"""
import os.path as osp
import re

import numpy as np
import pytest
import torch
import yaml
from mmaction.registry import MODELS
from mmaction.utils import register_all_modules
from mmengine.optim import build_optim_wrapper

import mmmg  # noqa: F401
from mmmg.engine.checkpoint import check_checkpoint_fits
from mmmg.utils.cli import ToolError
from mmmg.utils.config import read_config
from ..conftest import REPO

SWIN = osp.join(REPO, 'configs', 'recognition', 'swin')
VIDEOMAE = osp.join(REPO, 'configs', 'ssl', 'videomae')
MMACTION_CONFIGS = osp.join(
    osp.dirname(__import__('mmaction').__file__), '.mim', 'configs')
# Swin (Liu et al., ICCV 2021, Table 1 and microsoft/Swin-Transformer's
# ImageNet checkpoints): embedding width, blocks and heads per stage; patch
# 4, window 7, 224 input, a 1000-class head.
SWIN_2D = dict(
    tiny=(96, (2, 2, 6, 2), (3, 6, 12, 24)),
    small=(96, (2, 2, 18, 2), (3, 6, 12, 24)),
    base=(128, (2, 2, 18, 2), (4, 8, 16, 32)))


def build(cfg):
    register_all_modules()
    return MODELS.build(cfg.model)


def swin_2d_state_dict(arch, seed=0):
    """A stand-in ImageNet Swin checkpoint: the key names and shapes of
    microsoft/Swin-Transformer's ``swin_<arch>_patch4_window7_224.pth``
    (which the model-zoo URLs host), random values."""
    dim, depths, heads = SWIN_2D[arch]
    gen = torch.Generator().manual_seed(seed)
    sd = {}

    def put(key, *shape):
        sd[key] = torch.randn(*shape, generator=gen)

    put('patch_embed.proj.weight', dim, 3, 4, 4)
    put('patch_embed.proj.bias', dim)
    put('patch_embed.norm.weight', dim)
    put('patch_embed.norm.bias', dim)
    resolution = 224 // 4
    for i, (depth, n_heads) in enumerate(zip(depths, heads)):
        c = dim * 2**i
        for j in range(depth):
            p = f'layers.{i}.blocks.{j}.'
            for norm in ('norm1', 'norm2'):
                put(p + f'{norm}.weight', c)
                put(p + f'{norm}.bias', c)
            put(p + 'attn.relative_position_bias_table', 13 * 13, n_heads)
            sd[p + 'attn.relative_position_index'] = torch.randint(
                0, 169, (49, 49), generator=gen)
            put(p + 'attn.qkv.weight', 3 * c, c)
            put(p + 'attn.qkv.bias', 3 * c)
            put(p + 'attn.proj.weight', c, c)
            put(p + 'attn.proj.bias', c)
            put(p + 'mlp.fc1.weight', 4 * c, c)
            put(p + 'mlp.fc1.bias', 4 * c)
            put(p + 'mlp.fc2.weight', c, 4 * c)
            put(p + 'mlp.fc2.bias', c)
            if j % 2 and resolution > 7:
                # Shifted-window blocks keep their mask as a buffer.
                windows = (resolution // 7)**2
                sd[p + 'attn_mask'] = torch.zeros(windows, 49, 49)
        if i < 3:
            put(f'layers.{i}.downsample.norm.weight', 4 * c)
            put(f'layers.{i}.downsample.norm.bias', 4 * c)
            put(f'layers.{i}.downsample.reduction.weight', 2 * c, 4 * c)
            resolution //= 2
    put('norm.weight', dim * 8)
    put('norm.bias', dim * 8)
    put('head.weight', 1000, dim * 8)
    put('head.bias', 1000)
    return sd


def swin_urls():
    """The ImageNet Swin URLs of MMAction2's own Video Swin configs."""
    urls = {}
    for name in ('tiny', 'small', 'base'):
        path = osp.join(
            MMACTION_CONFIGS, 'recognition', 'swin',
            f'swin-{name}-p244-w877_in1k-pre_8xb8-amp-32x2x1-30e_'
            'kinetics400-rgb.py')
        urls[name] = re.search(r"'(https://[^']+\.pth)'",
                               open(path).read()).group(1)
    return urls


INFLATED = [('swin_tiny_rgb_imigue.py', 'tiny'),
            ('swin_small_rgb_ma52.py', 'small'),
            ('swin_base_rgb_imigue.py', 'base')]


@pytest.mark.parametrize('name', [
    'swin_tiny_rgb_imigue.py', 'swin_tiny_taylor_imigue.py',
    'swin_tiny_flow_imigue.py', 'swin_tiny_depth_imigue.py',
    'swin_tiny_rgb_ma52.py', 'swin_small_rgb_ma52.py',
    'swin_base_rgb_imigue.py', 'swin_base_taylor_imigue.py',
    'swin_base_flow_imigue.py', 'swin_base_depth_imigue.py'
])
def test_swin_starts_from_the_model_zoo_imagenet_weights(name):
    cfg = read_config(osp.join(SWIN, name))
    backbone = cfg.model.backbone
    assert backbone.pretrained == swin_urls()[backbone.arch]
    assert backbone.pretrained2d and cfg.load_from is None


@pytest.fixture(scope='module')
def swin_small_ma52():
    return build(read_config(osp.join(SWIN, 'swin_small_rgb_ma52.py')))


@pytest.mark.parametrize('name, arch', INFLATED, ids=[a for _, a in INFLATED])
def test_swin_inflation_fills_every_weight(name, arch, monkeypatch,
                                           swin_small_ma52):
    """MMAction2 inflates the 2D checkpoint with ``strict=False``: a key the
    3D model names differently would stay random without a word. Every
    weight must come from the checkpoint, inflated as Video Swin does."""
    from mmaction.models.backbones import swin
    cfg = read_config(osp.join(SWIN, name))
    sd = swin_2d_state_dict(arch)
    url = cfg.model.backbone.pretrained
    # The download, answered with the stand-in (inflation edits its copy).
    monkeypatch.setattr(
        swin, '_load_checkpoint',
        lambda path, map_location: dict(model=dict(sd))
        if path == url else None)
    backbone = swin_small_ma52.backbone if arch == 'small' else build(
        cfg).backbone
    backbone.init_weights()
    t = backbone.patch_size[0]
    windows_t = 2 * backbone.window_size[0] - 1
    checked = 0
    for key, value in backbone.state_dict().items():
        if key.endswith('relative_position_index'):
            continue  # a buffer rebuilt for the 3D window
        source = re.sub(r'^norm3\.', 'norm.', key)
        expected = sd[source]
        if key == 'patch_embed.proj.weight':
            expected = expected.unsqueeze(2).repeat(1, 1, t, 1, 1) / t
        elif key.endswith('relative_position_bias_table'):
            expected = expected.repeat(windows_t, 1)
        assert torch.equal(value, expected), key
        checked += 1
    assert checked == sum(1 for k in sd if not k.endswith(
        ('relative_position_index', 'attn_mask'))) - 2  # head.*


def test_swin_small_transfer_loads_the_ma52_checkpoint(swin_small_ma52):
    cfg = read_config(osp.join(SWIN, 'swin_small_rgb_imigue.py'))
    assert cfg.load_from == 'work_dirs/swin_small_rgb_ma52/epoch_30.pth'
    # The ImageNet inflation would be overwritten by load_from.
    assert cfg.model.backbone.pretrained is None
    model = build(cfg)
    ma52 = swin_small_ma52.state_dict()
    skipped = check_checkpoint_fits(model, ma52, cfg.load_from,
                                    cfg.allow_partial_keys)
    assert sorted(skipped) == [
        'cls_head.fc_cls.bias (52,) vs (32,)',
        'cls_head.fc_cls.weight (52, 768) vs (32, 768)'
    ]
    with pytest.raises(ToolError, match='cls_head.fc_cls'):
        check_checkpoint_fits(model, ma52, cfg.load_from)


@pytest.fixture(scope='module')
def videomae_finetune():
    cfg = read_config(
        osp.join(VIDEOMAE, 'vit_base_p16_16x4_imigue_finetune_k400.py'))
    return cfg, build(cfg)


def test_videomae_k400_checkpoint_is_the_model_zoo_one(videomae_finetune):
    """load_from is the model-zoo file of MMAction2's VideoMAE ViT-B config,
    and a state dict of that config's model fits ours but for the
    400-class layer."""
    cfg, model = videomae_finetune
    meta = yaml.safe_load(
        open(
            osp.join(MMACTION_CONFIGS, 'recognition', 'videomae',
                     'metafile.yml')))
    zoo = {m['Name']: m for m in meta['Models']}
    stock = 'vit-base-p16_videomae-k400-pre_16x4x1_kinetics-400'
    assert cfg.load_from == zoo[stock]['Weights']
    stock_cfg = read_config(
        osp.join(MMACTION_CONFIGS, 'recognition', 'videomae', f'{stock}.py'))
    stock_sd = build(stock_cfg).state_dict()
    skipped = check_checkpoint_fits(model, stock_sd, cfg.load_from,
                                    cfg.allow_partial_keys)
    assert sorted(skipped) == [
        'cls_head.fc_cls.bias (400,) vs (32,)',
        'cls_head.fc_cls.weight (400, 768) vs (32, 768)'
    ]


def videomae_layer_scale(name, num_layers=12, decay=0.75):
    """VideoMAE's layer-wise lr decay (MCG-NJU/VideoMAE
    run_class_finetuning.py and optim_factory.py): layer ids 0 for the
    embeddings, i + 1 for block i, num_layers + 1 for the rest; scale
    decay ** (num_layers + 1 - id)."""
    name = name[len('backbone.'):] if name.startswith('backbone.') else None
    if name is None:
        layer = num_layers + 1
    elif name.startswith(('patch_embed', 'pos_embed', 'cls_token')):
        layer = 0
    elif name.startswith('blocks.'):
        layer = int(name.split('.')[1]) + 1
    else:
        layer = num_layers + 1
    return decay**(num_layers + 1 - layer)


def test_videomae_layer_decay_and_weight_decay(videomae_finetune):
    cfg, model = videomae_finetune
    wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    base_lr = cfg.optim_wrapper.optimizer.lr
    names = {id(p): n for n, p in model.named_parameters()}
    seen = 0
    for group in wrapper.optimizer.param_groups:
        for param in group['params']:
            name = names[id(param)]
            assert group['lr'] == pytest.approx(
                base_lr * videomae_layer_scale(name), rel=1e-12), name
            # VideoMAE: no weight decay on biases and 1-D weights (norms).
            no_decay = param.ndim == 1 or name.endswith('.bias')
            assert group['weight_decay'] == (0 if no_decay else 0.05), name
            seen += 1
    assert seen == len(names)
    scales = {videomae_layer_scale(n) for n in names.values()}
    np.testing.assert_allclose(
        sorted(scales), [0.75**k for k in range(13, -1, -1)])
    assert cfg.model.backbone.drop_path_rate == 0.1


def test_videomae_mixup_cutmix_and_label_smoothing():
    """VideoMAE's fine-tuning targets: a batch mixed (mixup or cutmix, one
    weight per batch), then label smoothing 0.1; the loss is the soft-target
    cross-entropy (timm's SoftTargetCrossEntropy), here in numpy."""
    cfg = read_config(
        osp.join(VIDEOMAE, 'vit_base_p16_16x4_imigue_finetune_toy.py'))
    full = read_config(
        osp.join(VIDEOMAE, 'vit_base_p16_16x4_imigue_finetune.py'))
    assert cfg.model.data_preprocessor == full.model.data_preprocessor
    assert [(a.type, a.alpha)
            for a in full.model.data_preprocessor.blending.augments
            ] == [('MixupBlending', 0.8), ('CutmixBlending', 1.0)]
    eps, num_classes = full.model.cls_head.label_smooth_eps, 32
    assert eps == 0.1
    from mmaction.structures import ActionDataSample
    torch.manual_seed(0)
    model = build(cfg).eval()  # no dropout; the blending still runs
    labels = [3, 7, 7, 12]
    data = dict(
        inputs=[
            torch.randint(0, 255, (1, 3, 4, 64, 64), dtype=torch.uint8)
            for _ in labels
        ],
        data_samples=[
            ActionDataSample().set_gt_labels(torch.tensor([y])) for y in labels
        ])
    batch = model.data_preprocessor(data, training=True)
    soft = torch.stack([s.gt_labels.item for s in batch['data_samples']
                        ]).numpy().astype(np.float64)
    assert soft.shape == (4, num_classes)
    np.testing.assert_allclose(soft.sum(1), 1, atol=1e-6)
    # One mixing weight for the whole batch, on each sample's own label.
    own = soft[np.arange(4), labels]
    assert ((own > 0) & (own <= 1 + 1e-6)).all()
    assert (np.count_nonzero(soft > 1e-9, axis=1) <= 2).all()
    feats, _ = model.extract_feat(batch['inputs'])
    scores = model.cls_head(feats)
    loss = model.cls_head.loss_by_feat(scores, batch['data_samples'])
    z = scores.detach().numpy().astype(np.float64)
    log_p = z - z.max(1, keepdims=True)
    log_p -= np.log(np.exp(log_p).sum(1, keepdims=True))
    target = (1 - eps) * soft + eps / num_classes
    expected = -(target * log_p).sum(1).mean()
    assert loss['loss_cls'].item() == pytest.approx(expected, rel=1e-5)
