"""Key names and shapes of released checkpoints, written out from the
published architectures (not from our models), for the conversion tests.

Read from:
- PYSKL (kennymckormick/pyskl; MM-Gesture's ``pyskl/`` fork):
  ``pyskl/models/cnns/resnet3d.py`` (stem ``conv1`` ConvModule, Bottleneck3d
  ``conv1`` (3,1,1) when inflated else 1, ``conv2`` (1,3,3), ``conv3`` 1,
  ``downsample`` ConvModule on a stage's first block),
  ``resnet3d_slowfast.py`` (``ResNet3dPathway``: lateral ConvModules
  ``layer{i}_lateral`` without norm, inverse laterals as ``DeConvModule``
  ``conv`` (ConvTranspose3d) + ``bn``; extra input channels of the stage
  after a lateral from ``calculate_lateral_inplanes``),
  ``rgbposeconv3d.py`` (``rgb_path``/``pose_path``),
  ``heads/simple_head.py`` (``fc_cls``), ``heads/rgbpose_head.py``
  (``fc_rgb``/``fc_pose``; ``fc_both`` in its first version).
- MMAction2 0.x Video Swin (SwinTransformer/Video-Swin-Transformer
  ``mmaction/models/backbones/swin_transformer.py``): ``patch_embed.proj``
  (+``norm`` with patch_norm), per block ``norm1``,
  ``attn.relative_position_bias_table`` ((2Wd-1)(2Wh-1)(2Ww-1), heads),
  ``attn.relative_position_index`` (buffer), ``attn.qkv``, ``attn.proj``,
  ``norm2``, ``mlp.fc1``/``fc2``; ``downsample.reduction`` (no bias) and
  ``downsample.norm`` (4C) on all stages but the last; one final ``norm``.
- VideoMAE (MCG-NJU/VideoMAE ``modeling_finetune.py``,
  ``modeling_pretrain.py``): ``patch_embed.proj`` (Conv3d), blocks with
  ``attn.qkv`` (no bias) + ``attn.q_bias``/``attn.v_bias``, ``mlp.fc1``/
  ``fc2``; fine-tuned: ``fc_norm`` + ``head``; pre-trained: ``encoder.*``
  with ``encoder.norm``, ``encoder_to_decoder`` (no bias), ``mask_token``
  (1, 1, Cd), ``decoder.blocks``, ``decoder.norm``, ``decoder.head``. No
  position table is saved (a plain tensor attribute).
"""
from collections import OrderedDict
from typing import Dict, Sequence, Tuple

import torch

Shapes = Dict[str, Tuple[int, ...]]
EXPANSION = 4  # ResNet-50 bottleneck


def _conv_bn(shapes: Shapes,
             name: str,
             out: int,
             inp: int,
             kernel,
             bn: bool = True) -> None:
    shapes[f'{name}.conv.weight'] = (out, inp) + tuple(kernel)
    if bn:
        for p in ('weight', 'bias', 'running_mean', 'running_var'):
            shapes[f'{name}.bn.{p}'] = (out, )
        shapes[f'{name}.bn.num_batches_tracked'] = ()


def pyskl_pathway(prefix: str,
                  in_channels: int,
                  base: int,
                  stage_blocks: Sequence[int],
                  inflate: Sequence[int],
                  lateral_in: Sequence[int] = (),
                  laterals: Shapes = None) -> Shapes:
    """A PYSKL ResNet3d(-Pathway) of Bottleneck3d blocks (depth 50).

    ``lateral_in[i]``: extra input channels of stage ``i`` (from a lateral
    connection); ``laterals``: the lateral modules' shapes (names below
    ``prefix``)."""
    shapes: Shapes = OrderedDict()
    _conv_bn(shapes, f'{prefix}conv1', base, in_channels, (1, 7, 7))
    inplanes = base
    for i, blocks in enumerate(stage_blocks):
        planes = base * 2**i
        extra = lateral_in[i] if lateral_in else 0
        kt = 3 if inflate[i] else 1
        for j in range(blocks):
            name = f'{prefix}layer{i + 1}.{j}'
            inp = inplanes + extra if j == 0 else planes * EXPANSION
            _conv_bn(shapes, f'{name}.conv1', planes, inp, (kt, 1, 1))
            _conv_bn(shapes, f'{name}.conv2', planes, planes, (1, 3, 3))
            _conv_bn(shapes, f'{name}.conv3', planes * EXPANSION, planes,
                     (1, 1, 1))
            if j == 0:
                _conv_bn(shapes, f'{name}.downsample', planes * EXPANSION, inp,
                         (1, 1, 1))
        inplanes = planes * EXPANSION
    for name, shape in (laterals or {}).items():
        shapes[prefix + name] = shape
    return shapes


def pyskl_posec3d(in_channels=36,
                  base=32,
                  stage_blocks=(4, 6, 3),
                  num_classes=32) -> Shapes:
    """MM-Gesture ``slowonly_r50_iMiGUE_36/joint.py``: ResNet3dSlowOnly
    (inflate (0, 1, 1)) + I3DHead."""
    shapes = pyskl_pathway('backbone.', in_channels, base, stage_blocks,
                           (0, 1, 1))
    width = base * 2**(len(stage_blocks) - 1) * EXPANSION
    shapes['cls_head.fc_cls.weight'] = (num_classes, width)
    shapes['cls_head.fc_cls.bias'] = (num_classes, )
    return shapes


def _deconv_bn(out: int, inp: int, k: int = 7) -> Shapes:
    # ConvTranspose3d weights are (in, out, kT, kH, kW).
    shapes = OrderedDict([('conv.weight', (inp, out, k, 1, 1))])
    for p in ('weight', 'bias', 'running_mean', 'running_var'):
        shapes[f'bn.{p}'] = (out, )
    shapes['bn.num_batches_tracked'] = ()
    return shapes


def pyskl_rgbposeconv3d(in_channels=36,
                        rgb_base=64,
                        pose_base=32,
                        rgb_blocks=(3, 4, 6, 3),
                        pose_blocks=(4, 6, 3),
                        num_classes=32,
                        fc_both=False) -> Shapes:
    """PYSKL's RGBPoseConv3D defaults (MM-Gesture rgbJoint_conv3d.py):
    channel_ratio 4; RGB laterals into stages 3, 4 (infl 1); inverse pose
    laterals into stages 2, 3 (infl 16)."""
    ratio = 4
    # RGB stage i+1 takes pose stage-i features (pose_base * 2**(i-1) * 4
    # channels; in = out, as lateral_infl is 1).
    rgb_in = [pose_base * 2**i * EXPANSION for i in range(2)]
    rgb_laterals = OrderedDict(
        (f'layer{i}_lateral.conv.weight', (width, width, 7, 1, 1))
        for i, width in zip((2, 3), rgb_in))
    # Pose stage i+1 takes RGB stage-(i+1) features (pose width x ratio),
    # inflated by 1/16 (ConvTranspose3d + BN).
    pose_laterals = OrderedDict()
    pose_in = [0]
    for i in (1, 2):
        inp = pose_base * 2**(i - 1) * EXPANSION * ratio
        for k, v in _deconv_bn(inp // 16, inp).items():
            pose_laterals[f'layer{i}_lateral.{k}'] = v
        pose_in.append(inp // 16)
    shapes = pyskl_pathway('backbone.rgb_path.', 3, rgb_base, rgb_blocks,
                           (0, 0, 1, 1), [0, 0] + rgb_in, rgb_laterals)
    shapes.update(
        pyskl_pathway('backbone.pose_path.', in_channels, pose_base,
                      pose_blocks, (0, 1, 1), pose_in, pose_laterals))
    rgb_width = rgb_base * 2**(len(rgb_blocks) - 1) * EXPANSION
    pose_width = pose_base * 2**(len(pose_blocks) - 1) * EXPANSION
    heads = [('fc_rgb', rgb_width), ('fc_pose', pose_width)]
    if fc_both:
        heads.append(('fc_both', rgb_width + pose_width))
    for name, width in heads:
        shapes[f'cls_head.{name}.weight'] = (num_classes, width)
        shapes[f'cls_head.{name}.bias'] = (num_classes, )
    return shapes


def video_swin_0x(embed=96,
                  depths=(2, 2, 6, 2),
                  heads=(3, 6, 12, 24),
                  window=(8, 7, 7),
                  patch=(2, 4, 4),
                  num_classes=32,
                  with_index=True) -> Shapes:
    """An MMAction2 0.x Video Swin recognizer (patch_norm=True, as every
    released Video Swin config)."""
    shapes: Shapes = OrderedDict()
    shapes['backbone.patch_embed.proj.weight'] = (embed, 3) + patch
    shapes['backbone.patch_embed.proj.bias'] = (embed, )
    shapes['backbone.patch_embed.norm.weight'] = (embed, )
    shapes['backbone.patch_embed.norm.bias'] = (embed, )
    wd, wh, ww = window
    table = (2 * wd - 1) * (2 * wh - 1) * (2 * ww - 1)
    tokens = wd * wh * ww
    dim = embed
    for i, (depth, nh) in enumerate(zip(depths, heads)):
        for j in range(depth):
            b = f'backbone.layers.{i}.blocks.{j}.'
            shapes[b + 'norm1.weight'] = shapes[b + 'norm1.bias'] = (dim, )
            shapes[b + 'attn.relative_position_bias_table'] = (table, nh)
            if with_index:
                shapes[b + 'attn.relative_position_index'] = (tokens, tokens)
            shapes[b + 'attn.qkv.weight'] = (3 * dim, dim)
            shapes[b + 'attn.qkv.bias'] = (3 * dim, )
            shapes[b + 'attn.proj.weight'] = (dim, dim)
            shapes[b + 'attn.proj.bias'] = (dim, )
            shapes[b + 'norm2.weight'] = shapes[b + 'norm2.bias'] = (dim, )
            shapes[b + 'mlp.fc1.weight'] = (4 * dim, dim)
            shapes[b + 'mlp.fc1.bias'] = (4 * dim, )
            shapes[b + 'mlp.fc2.weight'] = (dim, 4 * dim)
            shapes[b + 'mlp.fc2.bias'] = (dim, )
        if i < len(depths) - 1:
            d = f'backbone.layers.{i}.downsample.'
            shapes[d + 'reduction.weight'] = (2 * dim, 4 * dim)
            shapes[d + 'norm.weight'] = shapes[d + 'norm.bias'] = (4 * dim, )
            dim *= 2
    shapes['backbone.norm.weight'] = shapes['backbone.norm.bias'] = (dim, )
    shapes['cls_head.fc_cls.weight'] = (num_classes, dim)
    shapes['cls_head.fc_cls.bias'] = (num_classes, )
    return shapes


def _vit_blocks(shapes: Shapes, prefix: str, dim: int, depth: int) -> None:
    for i in range(depth):
        b = f'{prefix}blocks.{i}.'
        shapes[b + 'norm1.weight'] = shapes[b + 'norm1.bias'] = (dim, )
        shapes[b + 'attn.q_bias'] = shapes[b + 'attn.v_bias'] = (dim, )
        shapes[b + 'attn.qkv.weight'] = (3 * dim, dim)
        shapes[b + 'attn.proj.weight'] = (dim, dim)
        shapes[b + 'attn.proj.bias'] = (dim, )
        shapes[b + 'norm2.weight'] = shapes[b + 'norm2.bias'] = (dim, )
        shapes[b + 'mlp.fc1.weight'] = (4 * dim, dim)
        shapes[b + 'mlp.fc1.bias'] = (4 * dim, )
        shapes[b + 'mlp.fc2.weight'] = (dim, 4 * dim)
        shapes[b + 'mlp.fc2.bias'] = (dim, )


def videomae_finetune(dim=768,
                      depth=12,
                      tubelet=2,
                      patch=16,
                      num_classes=32) -> Shapes:
    """``vit_base_patch16_224`` of modeling_finetune.py (mean pooling)."""
    shapes: Shapes = OrderedDict()
    shapes['patch_embed.proj.weight'] = (dim, 3, tubelet, patch, patch)
    shapes['patch_embed.proj.bias'] = (dim, )
    _vit_blocks(shapes, '', dim, depth)
    shapes['fc_norm.weight'] = shapes['fc_norm.bias'] = (dim, )
    shapes['head.weight'] = (num_classes, dim)
    shapes['head.bias'] = (num_classes, )
    return shapes


def videomae_pretrain(dim=768,
                      depth=12,
                      dec_dim=384,
                      dec_depth=4,
                      tubelet=2,
                      patch=16) -> Shapes:
    """``pretrain_videomae_base_patch16_224`` of modeling_pretrain.py
    (decoder depth 4, as its pre-training scripts)."""
    shapes: Shapes = OrderedDict()
    shapes['mask_token'] = (1, 1, dec_dim)
    shapes['encoder.patch_embed.proj.weight'] = (dim, 3, tubelet, patch, patch)
    shapes['encoder.patch_embed.proj.bias'] = (dim, )
    _vit_blocks(shapes, 'encoder.', dim, depth)
    shapes['encoder.norm.weight'] = shapes['encoder.norm.bias'] = (dim, )
    _vit_blocks(shapes, 'decoder.', dec_dim, dec_depth)
    shapes['decoder.norm.weight'] = shapes['decoder.norm.bias'] = (dec_dim, )
    out = 3 * tubelet * patch * patch
    shapes['decoder.head.weight'] = (out, dec_dim)
    shapes['decoder.head.bias'] = (out, )
    shapes['encoder_to_decoder.weight'] = (dec_dim, dim)
    return shapes


def random_state(shapes: Shapes, seed: int = 0) -> 'OrderedDict':
    """Random weights of these shapes (integer step counters for
    ``num_batches_tracked``, positive running variances)."""
    gen = torch.Generator().manual_seed(seed)
    state = OrderedDict()
    for key, shape in shapes.items():
        if key.endswith('num_batches_tracked'):
            state[key] = torch.tensor(7)
        elif key.endswith('running_var'):
            state[key] = torch.rand(shape, generator=gen) + 0.5
        else:
            state[key] = torch.randn(shape, generator=gen) * 0.1
    return state


def empty_state(shapes: Shapes) -> 'OrderedDict':
    """Uninitialised tensors of these shapes: for key/shape checks of full
    size models without touching their memory."""
    return OrderedDict((k, torch.empty(s)) for k, s in shapes.items())
