"""MMAction2 0.x Video Swin checkpoints.

As released by SwinTransformer/Video-Swin-Transformer and trained in
MM-Gesture's MMAction2 0.x fork (the MiGA-2025 Swin-B/-S streams).
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
"""
from .layout import Layout, Rule

MMACTION0X_SWIN = Layout(
    name='mmaction0x-swin',
    description='MMAction2 0.x / Video-Swin-Transformer Video Swin '
    '(SwinTransformer3D + I3DHead), e.g. MM-Gesture\'s Swin-B/-S streams',
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
