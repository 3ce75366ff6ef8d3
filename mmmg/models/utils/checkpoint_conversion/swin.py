"""Video Swin checkpoints of MMAction2 0.x and 1.x.

0.x: as released by SwinTransformer/Video-Swin-Transformer (Kinetics /
SSv2 Swin-T/S/B) and by forks built on it.
``mmaction/models/backbones/swin_transformer.py`` of 0.x and
``mmaction/models/backbones/swin.py`` of 1.x build the same tree
(``patch_embed.proj``, ``layers.{i}.blocks.{j}.{norm1,attn.qkv,attn.proj,
attn.relative_position_bias_table,norm2,mlp.fc1,mlp.fc2}``,
``layers.{i}.downsample.{reduction,norm}``) but for the final norm: 0.x has
one ``norm`` after the last stage, 1.x a ``norm{i}`` per output stage
(``norm3`` for the default ``out_indices=(3,)``; 1.x's own 2D-inflation code
makes the same rename). The I3D head is ``cls_head.fc_cls`` in both.
``relative_position_index`` is a fixed buffer: taken from the model when a
checkpoint lacks it.

1.x: MM-Gesture's ``mmaction2/`` streams (the MiGA-2025 Swin-B/-S/-T on
RGB, Taylor, flow and depth, and the MA-52 Swin-S; its configs are 1.x
ones: ``PackActionInputs``, ``SwinOptimWrapperConstructor``) and the
MMAction2 1.x model zoo: the keys are ours already; converting checks them
against the config (e.g. Swin-B vs Swin-T, the class count) and reports.
"""
from .layout import Layout, Rule

MMACTION0X_SWIN = Layout(
    name='mmaction0x-swin',
    description='MMAction2 0.x / Video-Swin-Transformer Video Swin '
    '(SwinTransformer3D + I3DHead), e.g. its Kinetics-400/600 and SSv2 '
    'Swin-T/S/B releases',
    reference='SwinTransformer/Video-Swin-Transformer: mmaction/models/'
    'backbones/swin_transformer.py; open-mmlab/mmaction2 1.x: '
    'mmaction/models/backbones/swin.py',
    # The 0.x backbone has 4 stages; its one final norm is 1.x's norm3.
    rules=(Rule(r'^backbone\.norm\.', 'backbone.norm3.',
                'backbone.norm -> backbone.norm3'), ),
    signature=('backbone.patch_embed.proj.weight',
               'backbone.layers.0.blocks.0.attn.qkv.weight',
               'backbone.norm.weight'),
    new=(('*.relative_position_index',
          'fixed buffer, computed by the model'), ))

MMACTION1X_SWIN = Layout(
    name='mmaction1x-swin',
    description='MMAction2 1.x Video Swin (SwinTransformer3D + I3DHead), '
    'e.g. MM-Gesture\'s mmaction2/ Swin-B/-S/-T streams: keys unchanged',
    reference='open-mmlab/mmaction2 1.x: mmaction/models/backbones/swin.py; '
    'momiji-bit/MM-Gesture: mmaction2/configs/recognition/swin/',
    rules=(),
    signature=('backbone.patch_embed.proj.weight',
               'backbone.layers.0.blocks.0.attn.qkv.weight',
               'backbone.norm3.weight'),
    new=MMACTION0X_SWIN.new)
