# VideoMAE pre-training of a ViT-B/16 on unlabelled interview clips (the
# MiGA-2026 winner's recipe: masked video modelling on clips sampled from
# the long iMiGUE videos, then fine-tuning on the labelled clips with
# vit_base_p16_16x4_imigue_finetune.py).
#
# 16 frames with stride 4 at 224 -> 2x16x16 tubelets -> 8x14x14 = 1568
# tokens per clip; tube masking at ratio 0.9 hides 176 of the 196 patches of
# every temporal slice at the same places, so the encoder runs on 8x20 = 160
# visible tokens. A 4-block, 384-wide decoder predicts every masked
# tubelet's pixels, z-scored per tubelet and channel; MSE on masked tokens.
# AdamW (0.9, 0.95), weight decay 0.05 (none on norms, biases and the mask
# token), lr 1.5e-4 x total batch / 256, 40 warm-up epochs from 1e-6, then
# cosine to 1e-5 (both scaled with the lr) over 800 epochs; multi-scale
# crops, no flip (VideoMAE).
#
# Data: the segment list of data_prep/sample_ssl_clips.py
# (`<clip_id> <video> <start> <end>`, videos relative to the iMiGUE
# release root), read straight from the long videos.
# Batch: 32 clips x 8 GPUs = 256 (lr 1.5e-4); other totals: add
# --auto-scale-lr to tools/train.py. Memory: add --amp on GPUs (float16
# with dynamic loss scaling; the loss is computed in float32), or set
# optim_wrapper.dtype='bfloat16' with it; model.with_cp=True checkpoints
# every block (see benchmarks/bench_mae_memory.py).
# The checkpoints' `backbone.*` weights are exactly the encoder of the
# fine-tuning config (load_from); tools/convert_checkpoint.py strips
# the decoder.
_base_ = ['mmaction::_base_/default_runtime.py']
custom_imports = dict(imports=['mmmg'], allow_failed_imports=False)

clip_len = 16
frame_interval = 4
img_size = 224
patch_size = 16
tubelet_size = 2
mask_ratio = 0.9
data_root = 'data/imigue'
video_root = f'{data_root}/release'
ssl_list = 'data/ssl_clips/ssl_clips.txt'

encoder = dict(
    type='VisionTransformer',
    img_size=img_size,
    patch_size=patch_size,
    embed_dims=768,
    depth=12,
    num_heads=12,
    mlp_ratio=4,
    qkv_bias=True,
    num_frames=clip_len,
    tubelet_size=tubelet_size,
    norm_cfg=dict(type='LN', eps=1e-6),
    drop_path_rate=0.)
model = dict(
    type='VideoMAEPretrainer',
    backbone=encoder,
    decoder=dict(embed_dims=384, depth=4, num_heads=6),
    masking=dict(type='TubeMaskGenerator', ratio=mask_ratio),
    target=dict(type='pixel', norm_pix=True),
    with_cp=False,
    data_preprocessor=dict(
        type='ActionDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        format_shape='NCTHW'))

dataset_type = 'MGVideoClipDataset'
train_pipeline = [
    dict(type='DecordInitSegment'),
    dict(
        type='SampleFrames',
        clip_len=clip_len,
        frame_interval=frame_interval,
        num_clips=1),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(
        type='MultiScaleCrop',
        input_size=img_size,
        scales=(1, 0.875, 0.75, 0.66),
        random_crop=False,
        max_wh_scale_gap=1),
    dict(type='Resize', scale=(img_size, img_size), keep_ratio=False),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackMGInputs')
]
train_dataloader = dict(
    batch_size=32,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        ann_file=ssl_list,
        data_prefix=dict(video=video_root),
        pipeline=train_pipeline))

max_epochs = 800
warmup_epochs = 40
base_lr = 1.5e-4
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs)

optim_wrapper = dict(
    optimizer=dict(
        type='AdamW', lr=base_lr, betas=(0.9, 0.95), weight_decay=0.05),
    paramwise_cfg=dict(
        norm_decay_mult=0.,
        bias_decay_mult=0.,
        custom_keys={
            '.q_bias': dict(decay_mult=0.),
            '.v_bias': dict(decay_mult=0.),
            'pos_embed': dict(decay_mult=0.),
            'mask_token': dict(decay_mult=0.)
        }))
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-6 / base_lr,
        by_epoch=True,
        begin=0,
        end=warmup_epochs,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        T_max=max_epochs - warmup_epochs,
        eta_min_ratio=1e-5 / base_lr,
        by_epoch=True,
        begin=warmup_epochs,
        end=max_epochs,
        convert_to_iter_based=True)
]
default_hooks = dict(
    logger=dict(interval=50),
    checkpoint=dict(interval=20, max_keep_ckpts=3, save_best=None))
auto_scale_lr = dict(enable=False, base_batch_size=256)
