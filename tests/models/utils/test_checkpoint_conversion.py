"""mmmg.models.utils.checkpoint_conversion: released checkpoints of PYSKL,
MMAction2 0.x Video Swin and VideoMAE into our configs' models.

The source state dicts follow the published architectures, written out in
``released_layouts.py`` from the reference files named there
(kennymckormick/pyskl ``pyskl/models/cnns/resnet3d*.py``,
``rgbposeconv3d.py``, ``heads/``; SwinTransformer/Video-Swin-Transformer
``mmaction/models/backbones/swin_transformer.py``; MCG-NJU/VideoMAE
``modeling_finetune.py``, ``modeling_pretrain.py``) at full size (key and
shape checks) and at toy widths with the same naming (numerical checks).
Where the old network can be run here, the converted model's logits equal
the original's: PYSKL's and 0.x Swin's module trees are MMAction2 1.x's
(ported from them), and VideoMAE's ViT is re-implemented in plain numpy
below from modeling_finetune.py.
"""
import os.path as osp

import numpy as np
import pytest
import torch
from mmaction.registry import MODELS
from mmaction.utils import register_all_modules
from scipy.special import erf

import mmmg
from mmmg.models.ssl import embed_tokens, run_blocks
from mmmg.models.utils.checkpoint_conversion import (LAYOUTS, ConversionError,
                                                     convert_state_dict,
                                                     detect_layout)
from mmmg.utils.config import read_config
from ...conftest import REPO
from . import released_layouts as released

CONFIGS = osp.join(REPO, 'configs')
POSEC3D = osp.join(CONFIGS, 'skeleton', 'posec3d',
                   'posec3d_slowonly_mg36_joint_{}.py')
RGBPOSE = osp.join(CONFIGS, 'multimodal', 'rgbposec3d',
                   'rgbposec3d_mg36_joint_{}.py')
SWIN = osp.join(CONFIGS, 'recognition', 'swin', 'swin_tiny_rgb_{}.py')
VIT_FINETUNE = osp.join(CONFIGS, 'ssl', 'videomae',
                        'vit_base_p16_16x4_imigue_finetune{}.py')
VIT_PRETRAIN = osp.join(CONFIGS, 'ssl', 'videomae',
                        'videomae_vit_base_p16_16x4_interviews{}.py')


def build(config: str, seed: int = 0):
    register_all_modules()
    mmmg.register_all_modules()
    torch.manual_seed(seed)
    return MODELS.build(read_config(config).model).eval()


def convert_into(model, source, layout, init=True, **kwargs):
    """Convert, then load strictly into ``model``; new keys from its
    ``init_weights`` (``init``) or as built."""

    def fresh():
        model.init_weights()
        return model.state_dict()

    state, report = convert_state_dict(
        source,
        LAYOUTS[layout],
        model.state_dict(),
        fresh=fresh if init else None,
        **kwargs)
    model.load_state_dict(state, strict=True)
    return state, report


def randomise_bn(model) -> None:
    """Running statistics away from 0/1, so that a lost BN buffer shows in
    the logits."""
    gen = torch.Generator().manual_seed(1)
    for name, buf in model.named_buffers():
        if name.endswith('running_mean'):
            buf.copy_(torch.randn(buf.shape, generator=gen) * 0.1)
        elif name.endswith('running_var'):
            buf.copy_(torch.rand(buf.shape, generator=gen) + 0.5)


@pytest.fixture(scope='module')
def full_size_models():
    """Full-size models by config, each built once (seconds each)."""
    models = {}

    def get(config):
        if config not in models:
            models[config] = build(config)
        return models[config]

    yield get
    models.clear()


# Full-size, published shapes: names and shapes only.
@pytest.mark.parametrize(
    'config, layout, shapes', [
        (POSEC3D.format('imigue'), 'pyskl-posec3d', released.pyskl_posec3d()),
        (RGBPOSE.format('imigue'), 'pyskl-rgbposeconv3d',
         released.pyskl_rgbposeconv3d(fc_both=True)),
        (SWIN.format('imigue'), 'mmaction0x-swin', released.video_swin_0x()),
        (SWIN.format('imigue'), 'mmaction1x-swin', {
            k.replace('backbone.norm.', 'backbone.norm3.'): v
            for k, v in released.video_swin_0x().items()
        }),
        (VIT_FINETUNE.format(''), 'videomae-finetune',
         released.videomae_finetune()),
        (VIT_FINETUNE.format(''), 'videomae-pretrain',
         released.videomae_pretrain()),
    ],
    ids=[
        'posec3d', 'rgbposeconv3d', 'swin-t-0x', 'swin-t-1x', 'videomae-ft',
        'videomae-pt-to-ft'
    ])
def test_full_size_released_layouts_load_strictly(config, layout, shapes,
                                                  full_size_models):
    source = released.empty_state(shapes)
    assert detect_layout(source, list(LAYOUTS.values())).name == layout
    model = full_size_models(config)
    target = {k: v.shape for k, v in model.state_dict().items()}
    state, report = convert_into(model, source, layout, init=False)
    assert list(state) == list(target)
    # Every source key is accounted for exactly once.
    assert len(report.kept) + len(report.renamed) + len(
        report.dropped) == len(source)
    assert len(report.kept) + len(report.renamed) + len(
        report.new) == len(target)
    for new, (old, _) in report.renamed.items():
        assert state[new] is source[old]
    expected_new = {
        'pyskl-posec3d': set(),
        'pyskl-rgbposeconv3d': set(),
        'mmaction0x-swin': set(),
        'mmaction1x-swin': set(),
        'videomae-finetune': {'backbone.pos_embed'},
    }.get(layout)
    if expected_new is not None:
        assert set(report.new) == expected_new
    if layout == 'pyskl-rgbposeconv3d':
        assert set(report.dropped) == {
            'cls_head.fc_both.weight', 'cls_head.fc_both.bias'
        }
    if layout == 'mmaction0x-swin':
        assert report.renamed['backbone.norm3.weight'][0] == (
            'backbone.norm.weight')
        assert len(report.renamed) == 2
    if layout == 'videomae-pretrain' and 'finetune' in config:
        assert {k.split('.')[0]
                for k in report.dropped} == {
                    'decoder', 'encoder', 'encoder_to_decoder', 'mask_token'
                }
        assert set(report.new) == {
            'backbone.pos_embed', 'backbone.fc_norm.weight',
            'backbone.fc_norm.bias', 'cls_head.fc_cls.weight',
            'cls_head.fc_cls.bias'
        }


def test_pyskl_rgbposeconv3d_logits_unchanged():
    """A PYSKL RGBPoseConv3D (the same module tree as MMAction2 1.x's),
    saved from DataParallel with the early head's ``fc_both``, gives the
    same logits after conversion into a differently initialised model. (The
    PoseConv3D case runs through the tool in tests/tools.)"""
    config = RGBPOSE.format('toy')
    original = build(config, seed=0)
    randomise_bn(original)
    extra = {
        'cls_head.fc_both.weight': torch.ones(32, 640),
        'cls_head.fc_both.bias': torch.ones(32)
    }
    source = dict(original.state_dict(), **extra)
    source = {f'module.{k}': v for k, v in source.items()}
    gen = torch.Generator().manual_seed(2)
    # Small inputs: RGB at 4x the heatmap size (the pose path keeps its
    # resolution), 4x fewer RGB frames.
    imgs = torch.randn(2, 3, 4, 32, 32, generator=gen)
    heat = torch.rand(2, 36, 16, 8, 8, generator=gen)

    def logits(m):
        scores = m.cls_head(m.backbone(imgs, heat))
        return torch.cat([scores['rgb'], scores['pose']])

    converted = build(config, seed=1)
    with torch.no_grad():
        before, initial = logits(original), logits(converted)
        _, report = convert_into(converted, source, 'pyskl-rgbposeconv3d')
        after = logits(converted)
    assert not report.new and not report.renamed
    assert set(report.dropped) == set(extra)
    assert not torch.allclose(initial, before)
    torch.testing.assert_close(after, before)


def test_swin_0x_logits_unchanged_and_index_recomputed():
    """The 0.x Swin's final ``norm`` lands on 1.x's ``norm3``; a missing
    relative position index is the model's own."""
    original = build(SWIN.format('toy'), seed=0)
    source = {
        k.replace('backbone.norm3.', 'backbone.norm.'): v
        for k, v in original.state_dict().items()
        if not k.endswith('relative_position_index')
    }
    with torch.no_grad():
        source['backbone.norm.weight'].uniform_(0.5, 1.5)
        source['backbone.norm.bias'].uniform_(-0.5, 0.5)
    converted = build(SWIN.format('toy'), seed=1)
    _, report = convert_into(converted, source, 'mmaction0x-swin')
    assert set(
        report.renamed) == {'backbone.norm3.weight', 'backbone.norm3.bias'}
    assert all(k.endswith('relative_position_index') for k in report.new)
    clip = torch.randn(1, 3, 4, 32, 32, generator=torch.Generator())
    with torch.no_grad():
        torch.testing.assert_close(
            converted.cls_head(converted.backbone(clip)),
            original.cls_head(original.backbone(clip)))


# A plain-numpy VideoMAE ViT (modeling_finetune.py / modeling_pretrain.py).
def np_layer_norm(x, w, b, eps=1e-6):
    return (x - x.mean(
        -1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + eps) * w + b


def np_sinusoid(n, d):
    """Position p, channel j: p / 10000^(2 (j // 2) / d), sin on even j,
    cos on odd j."""
    angle = np.arange(n)[:, None] / np.power(10000, 2 *
                                             (np.arange(d) // 2) / d)[None]
    return np.where(np.arange(d) % 2 == 0, np.sin(angle), np.cos(angle))


def np_tubelets(clip, w, b):
    """Non-overlapping Conv3d: (C, T, H, W) -> (t*h*w, D), t-major."""
    dim, c, kt, kh, kw = w.shape
    _, t, h, wd = clip.shape
    x = clip.reshape(c, t // kt, kt, h // kh, kh, wd // kw, kw)
    x = x.transpose(1, 3, 5, 0, 2, 4, 6).reshape(-1, c * kt * kh * kw)
    return x @ w.reshape(dim, -1).T + b


def np_block(x, p, heads):
    n, dim = x.shape
    h = np_layer_norm(x, p['norm1.weight'], p['norm1.bias'])
    bias = np.concatenate([p['attn.q_bias'], np.zeros(dim), p['attn.v_bias']])
    qkv = (h @ p['attn.qkv.weight'].T + bias).reshape(n, 3, heads, -1)
    q, k, v = qkv.transpose(1, 2, 0, 3)
    att = (q * q.shape[-1]**-0.5) @ k.transpose(0, 2, 1)
    att = np.exp(att - att.max(-1, keepdims=True))
    att /= att.sum(-1, keepdims=True)
    out = (att @ v).transpose(1, 0, 2).reshape(n, dim)
    x = x + out @ p['attn.proj.weight'].T + p['attn.proj.bias']
    h = np_layer_norm(x, p['norm2.weight'], p['norm2.bias'])
    h = h @ p['mlp.fc1.weight'].T + p['mlp.fc1.bias']
    h = 0.5 * h * (1 + erf(h / np.sqrt(2)))
    return x + h @ p['mlp.fc2.weight'].T + p['mlp.fc2.bias']


def np_encoder(clip, p, prefix, depth, heads):
    x = np_tubelets(clip, p[prefix + 'patch_embed.proj.weight'],
                    p[prefix + 'patch_embed.proj.bias'])
    x = x + np_sinusoid(*x.shape)
    for i in range(depth):
        block = f'{prefix}blocks.{i}.'
        x = np_block(x, {
            k[len(block):]: v
            for k, v in p.items() if k.startswith(block)
        }, heads)
    return x


def numpy_state(state):
    return {k: v.double().numpy() for k, v in state.items()}


TOY_VIT = dict(dim=32, depth=2, tubelet=2, patch=16)


@pytest.fixture(scope='module')
def toy_clips():
    gen = torch.Generator().manual_seed(3)
    return torch.randn(2, 3, 4, 64, 64, generator=gen)


def test_videomae_finetune_logits_match_numpy_reference(toy_clips):
    source = released.random_state(
        released.videomae_finetune(num_classes=32, **TOY_VIT))
    source = {'module': source}['module']
    model = build(VIT_FINETUNE.format('_toy'))
    _, report = convert_into(model, source, 'videomae-finetune')
    assert set(report.new) == {'backbone.pos_embed'}
    assert len(report.renamed) == len(source)
    p = numpy_state(source)
    expected = []
    for clip in toy_clips.double().numpy():
        tokens = np_encoder(clip, p, '', 2, heads=2)
        feat = np_layer_norm(
            tokens.mean(0), p['fc_norm.weight'], p['fc_norm.bias'])
        expected.append(feat @ p['head.weight'].T + p['head.bias'])
    with torch.no_grad():
        logits = model.cls_head(model.backbone(toy_clips))
    np.testing.assert_allclose(
        logits.double().numpy(), np.stack(expected), rtol=1e-4, atol=1e-5)


def test_videomae_pretrain_encoder_matches_numpy_reference(toy_clips):
    """Into our VideoMAEPretrainer: the encoder tokens (through
    ``encoder_norm``) equal the original encoder's; the decoder weights are
    the original decoder's."""
    source = released.random_state(
        released.videomae_pretrain(dec_dim=16, dec_depth=1, **TOY_VIT))
    model = build(VIT_PRETRAIN.format('_toy'))
    state, report = convert_into(model, source, 'videomae-pretrain')
    assert not report.dropped
    assert set(report.new) == {
        'backbone.pos_embed', 'backbone.fc_norm.weight',
        'backbone.fc_norm.bias'
    }
    assert state['decoder.mask_token'] is source['mask_token']
    assert state['decoder.blocks.0.mlp.layers.1.weight'] is source[
        'decoder.blocks.0.mlp.fc2.weight']
    p = numpy_state(source)
    with torch.no_grad():
        tokens, _ = embed_tokens(model.backbone, toy_clips)
        tokens = model.encoder_norm(run_blocks(model.backbone.blocks, tokens))
    for clip, ours in zip(toy_clips.double().numpy(), tokens):
        x = np_encoder(clip, p, 'encoder.', 2, heads=2)
        x = np_layer_norm(x, p['encoder.norm.weight'], p['encoder.norm.bias'])
        np.testing.assert_allclose(
            ours.double().numpy(), x, rtol=1e-4, atol=1e-5)


def test_our_mae_pretraining_into_finetuning():
    pretrainer = build(VIT_PRETRAIN.format('_toy'))
    source = pretrainer.state_dict()
    assert detect_layout(source,
                         list(LAYOUTS.values())).name == ('mmmg-videomae')
    model = build(VIT_FINETUNE.format('_toy'), seed=1)
    state, report = convert_into(model, source, 'mmmg-videomae')
    assert {k.split('.')[0]
            for k in report.dropped} == {'decoder', 'encoder_norm'}
    assert set(
        report.new) == {'cls_head.fc_cls.weight', 'cls_head.fc_cls.bias'}
    assert all(
        torch.equal(state[k], v) for k, v in source.items()
        if k.startswith('backbone.'))


@pytest.fixture(scope='module')
def toy_posec3d():
    model = build(POSEC3D.format('toy'))
    return model, dict(model.state_dict())


def test_shape_mismatch_names_key_and_both_shapes(toy_posec3d):
    model, source = toy_posec3d
    source = dict(
        source, **{
            'cls_head.fc_cls.weight': torch.zeros(400, 128),
            'cls_head.fc_cls.bias': torch.zeros(400)
        })
    with pytest.raises(ConversionError) as info:
        convert_into(model, source, 'pyskl-posec3d')
    assert ('cls_head.fc_cls.weight (400, 128) in the checkpoint vs '
            '(32, 128) in the model') in str(info.value)
    assert '2 of another shape' in str(info.value)
    # Asked for, the head starts afresh (from the model's initialisation).
    state, report = convert_into(
        model, source, 'pyskl-posec3d', reinit=['cls_head.*'])
    assert set(
        report.new) == {'cls_head.fc_cls.weight', 'cls_head.fc_cls.bias'}
    assert state['cls_head.fc_cls.weight'].shape == (32, 128)


def test_missing_and_unknown_keys_are_refused(toy_posec3d):
    model, source = toy_posec3d
    source = dict(source, **{'backbone.layer9.weight': torch.zeros(1)})
    del source['backbone.layer1.0.conv2.bn.running_var']
    with pytest.raises(ConversionError) as info:
        convert_into(model, source, 'pyskl-posec3d')
    message = str(info.value)
    assert ('1 model keys missing from the checkpoint: '
            'backbone.layer1.0.conv2.bn.running_var') in message
    assert ('1 checkpoint keys with no place in the model: '
            'backbone.layer9.weight') in message
    assert '\n' not in message


def test_layout_detection():
    with pytest.raises(ConversionError, match='unknown checkpoint layout'):
        detect_layout({
            'fc.weight': None,
            'stem.conv': None
        }, list(LAYOUTS.values()))
    # A 1.x Swin (norm3, MM-Gesture's streams) is not taken for a 0.x one.
    keys = {
        k.replace('backbone.norm.', 'backbone.norm3.'): None
        for k in released.video_swin_0x()
    }
    assert detect_layout(keys,
                         list(LAYOUTS.values())).name == ('mmaction1x-swin')
