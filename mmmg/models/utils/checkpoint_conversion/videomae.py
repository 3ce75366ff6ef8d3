"""VideoMAE checkpoints: the original MCG-NJU/VideoMAE releases and our own
masked video pre-training.

Original layout (MCG-NJU/VideoMAE ``modeling_finetune.py``,
``modeling_pretrain.py``): ``patch_embed.proj`` (Conv3d tubelet
embedding), ``blocks.{i}.{norm1,attn.qkv,attn.q_bias,attn.v_bias,attn.proj,
norm2,mlp.fc1,mlp.fc2}`` (``gamma_1``/``gamma_2`` with layer scale),
``fc_norm`` and ``head`` after mean pooling (fine-tuned; ``norm`` without
mean pooling). Its sinusoidal position table is a plain tensor, not saved.
The pre-trained model holds that encoder under ``encoder.`` with a final
``encoder.norm``, plus ``encoder_to_decoder`` (no bias), ``mask_token`` and
``decoder.{blocks,norm,head}``. Released files wrap the weights in
``model`` (pre-training) or ``module`` (fine-tuning).

MMAction2 1.x's ``VisionTransformer`` (``vit_mae.py``, a port of it) renames
the embedding to ``patch_embed.projection`` and the MLP to MMCV's ``FFN``
(``mlp.layers.0.0`` / ``mlp.layers.1``), and keeps the sinusoid as a
persistent ``pos_embed`` buffer. Our ``VideoMAEPretrainer`` keeps the
encoder under ``backbone.``, its final norm as ``encoder_norm`` and the
decoder as ``decoder.{embed,mask_token,blocks,norm,head}``.
"""
from .layout import Layout, Rule

# MMAction2 1.x's ViT block names, for any key below a block.
VIT_RULES = (
    Rule(r'\.patch_embed\.proj\.', '.patch_embed.projection.',
         'patch_embed.proj -> patch_embed.projection'),
    Rule(r'(blocks\.\d+)\.mlp\.fc1\.', r'\1.mlp.layers.0.0.',
         'mlp.fc1 -> mlp.layers.0.0'),
    Rule(r'(blocks\.\d+)\.mlp\.fc2\.', r'\1.mlp.layers.1.',
         'mlp.fc2 -> mlp.layers.1'),
)
POS_EMBED = ('backbone.pos_embed', 'fixed sinusoid, computed by the model')
PRETRAIN_PARTS = (
    ('decoder.*', 'masked-video decoder: pre-training only'),
    ('encoder_norm.*', 'norm of the pre-training encoder tokens: '
     'pre-training only'),
)
NEW_HEAD = ('cls_head.*', 'classifier: pre-training has none')
NEW_FC_NORM = ('backbone.fc_norm.*', 'norm after mean pooling: '
               'pre-training has none')

VIDEOMAE_FINETUNE = Layout(
    name='videomae-finetune',
    description='MCG-NJU/VideoMAE fine-tuned ViT (e.g. ViT-B/16 on '
    'Kinetics-400 or SSv2)',
    reference='MCG-NJU/VideoMAE: modeling_finetune.py; open-mmlab/mmaction2'
    ' 1.x: mmaction/models/backbones/vit_mae.py',
    rules=(Rule(r'^head\.', 'cls_head.fc_cls.', 'head -> cls_head.fc_cls'),
           Rule(r'^(?!cls_head\.)', 'backbone.', '* -> backbone.*')) +
    VIT_RULES,
    signature=('patch_embed.proj.weight', 'blocks.0.attn.qkv.weight'),
    new=(POS_EMBED, ))

VIDEOMAE_PRETRAIN = Layout(
    name='videomae-pretrain',
    description='MCG-NJU/VideoMAE pre-trained encoder + decoder (e.g. '
    'ViT-B/16 on Kinetics-400): into a fine-tuning config (encoder only) '
    'or a VideoMAEPretrainer config (encoder and decoder)',
    reference='MCG-NJU/VideoMAE: modeling_pretrain.py; mmmg/models/ssl/'
    'video_mae.py, mae_decoder.py',
    rules=(Rule(r'^encoder\.norm\.', 'encoder_norm.',
                'encoder.norm -> encoder_norm'),
           Rule(r'^encoder\.', 'backbone.', 'encoder -> backbone'),
           Rule(r'^encoder_to_decoder\.', 'decoder.embed.',
                'encoder_to_decoder -> decoder.embed'),
           Rule(r'^mask_token$', 'decoder.mask_token',
                'mask_token -> decoder.mask_token')) + VIT_RULES,
    signature=('encoder.patch_embed.proj.weight', ),
    droppable=PRETRAIN_PARTS,
    new=(POS_EMBED, NEW_HEAD, NEW_FC_NORM))

MMMG_VIDEOMAE = Layout(
    name='mmmg-videomae',
    description='our VideoMAEPretrainer (configs/ssl/videomae/'
    'videomae_*.py): the encoder for a fine-tuning config',
    reference='mmmg/models/ssl/video_mae.py',
    rules=(),
    signature=('backbone.patch_embed.projection.weight',
               'decoder.embed.weight'),
    droppable=PRETRAIN_PARTS,
    new=(NEW_HEAD, ))
