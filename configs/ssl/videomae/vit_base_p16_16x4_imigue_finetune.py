# Fine-tuning the VideoMAE-pre-trained ViT-B/16 on iMiGUE (step 2 after
# videomae_vit_base_p16_16x4_interviews.py).
#
# The backbone is MMAction2's VisionTransformer with the pre-training
# encoder's settings (16 frames at 224, 2x16x16 tubelets, mean pooling and
# fc_norm); load_from points at the pre-training checkpoint, whose
# `backbone.*` weights fill every backbone key (its decoder.* and
# encoder_norm.* keys are the only unexpected ones; or load the output of
# tools/convert_checkpoint.py). VideoMAE's fine-tuning recipe for
# ViT-B: AdamW (0.9, 0.999), weight decay 0.05, lr 5e-4 x total batch /
# 256 with layer-wise decay 0.75, drop path 0.1, 5 warm-up epochs from
# 1e-6 then cosine to 1e-6 (both x total batch / 256), 5 clips x 3 crops
# at test (MCG-NJU/VideoMAE scripts/kinetics/.../finetune.sh). Here 50
# epochs (iMiGUE is far smaller than Kinetics), head dropout 0.5 (VideoMAE's
# setting for the small UCF101); mixup 0.8 / cutmix 1.0 and label smoothing
# 0.1 as VideoMAE, but no RandAugment, random erasing or repeated
# augmentation (not ported; docs/recipes.md). Clips are decoded straight
# from the long videos (rgb_{split}.txt of data_prep/imigue_to_mmaction.py).
# Batch: 8 clips x 8 GPUs = 64 (lr 1.25e-4); other totals: --auto-scale-lr.
# Memory: --amp on GPUs; backbone.type='VisionTransformerCP' with
# backbone.with_cp=True checkpoints every block (same weights and keys).
_base_ = ['mmaction::_base_/default_runtime.py']
custom_imports = dict(imports=['mmmg'], allow_failed_imports=False)

num_classes = 32
clip_len = 16
frame_interval = 4
img_size = 224
num_test_clips = 5
data_root = 'data/imigue'
video_root = f'{data_root}/release'
list_dir = f'{data_root}/annotations'
load_from = 'work_dirs/videomae_vit_base_p16_16x4_interviews/epoch_800.pth'
# Keys load_from may lack (the new head) or add (pre-training parts).
allow_partial_keys = ['cls_head.*', 'decoder.*', 'encoder_norm.*']

model = dict(
    type='Recognizer3D',
    backbone=dict(
        type='VisionTransformer',
        img_size=img_size,
        patch_size=16,
        embed_dims=768,
        depth=12,
        num_heads=12,
        mlp_ratio=4,
        qkv_bias=True,
        num_frames=clip_len,
        tubelet_size=2,
        norm_cfg=dict(type='LN', eps=1e-6),
        drop_path_rate=0.1,
        use_mean_pooling=True),
    cls_head=dict(
        type='TimeSformerHead',
        num_classes=num_classes,
        in_channels=768,
        dropout_ratio=0.5,
        label_smooth_eps=0.1,
        average_clips='prob'),
    data_preprocessor=dict(
        type='ActionDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        format_shape='NCTHW',
        # VideoMAE: mixup 0.8 or cutmix 1.0 on every batch, half and half
        # (timm Mixup, switch_prob 0.5).
        blending=dict(
            type='RandomBatchAugment',
            augments=[
                dict(type='MixupBlending', alpha=0.8, num_classes=num_classes),
                dict(
                    type='CutmixBlending', alpha=1.0, num_classes=num_classes)
            ])))

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
    dict(type='RandomResizedCrop'),
    dict(type='Resize', scale=(img_size, img_size), keep_ratio=False),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackMGInputs')
]
val_pipeline = [
    dict(type='DecordInitSegment'),
    dict(
        type='SampleFrames',
        clip_len=clip_len,
        frame_interval=frame_interval,
        num_clips=1,
        test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='CenterCrop', crop_size=img_size),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackMGInputs')
]
test_pipeline = [
    dict(type='DecordInitSegment'),
    dict(
        type='SampleFrames',
        clip_len=clip_len,
        frame_interval=frame_interval,
        num_clips=num_test_clips,
        test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, img_size)),
    dict(type='ThreeCrop', crop_size=img_size),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackMGInputs')
]

train_dataloader = dict(
    batch_size=8,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        ann_file=f'{list_dir}/rgb_train.txt',
        data_prefix=dict(video=video_root),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=8,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        ann_file=f'{list_dir}/rgb_val.txt',
        data_prefix=dict(video=video_root),
        pipeline=val_pipeline,
        test_mode=True))
test_dataloader = dict(
    batch_size=1,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        ann_file=f'{list_dir}/rgb_test.txt',
        data_prefix=dict(video=video_root),
        pipeline=test_pipeline,
        test_mode=True))

val_evaluator = [dict(type='AccMetric')]
test_evaluator = val_evaluator

max_epochs = 50
warmup_epochs = 5
# VideoMAE scales lr, warm-up start and minimum lr by total batch / 256
# (so the last two are given as ratios of the lr).
base_lr = 5e-4 * 64 / 256
train_cfg = dict(
    type='EpochBasedTrainLoop',
    max_epochs=max_epochs,
    val_begin=1,
    val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

optim_wrapper = dict(
    optimizer=dict(
        type='AdamW', lr=base_lr, betas=(0.9, 0.999), weight_decay=0.05),
    constructor='LearningRateDecayOptimizerConstructor',
    # Layer ids: patch/pos embedding 0, block i i+1, head 13 (lr x 1).
    paramwise_cfg=dict(
        num_layers=12, decay_rate=0.75, decay_type='layer_wise'))
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-6 / 5e-4,
        by_epoch=True,
        begin=0,
        end=warmup_epochs,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        T_max=max_epochs - warmup_epochs,
        eta_min_ratio=1e-6 / 5e-4,
        by_epoch=True,
        begin=warmup_epochs,
        end=max_epochs,
        convert_to_iter_based=True)
]
default_hooks = dict(
    checkpoint=dict(interval=1, max_keep_ckpts=3, save_best='auto'))
auto_scale_lr = dict(enable=False, base_batch_size=64)
