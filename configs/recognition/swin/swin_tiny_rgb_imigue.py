# Video Swin-T on iMiGUE RGB clips, the light variant of the MiGA-2025
# winner's Video Swin streams (momiji-bit/MM-Gesture mmaction2/configs/
# recognition/swin/swin-tiny-p244-w877_in1k-pre_8xb8-amp-32x2x1-30e_iMiGUE_36_
# rgb.py; the winning ensemble used Swin-B and Swin-S: swin_base_*.py,
# swin_small_*.py): 32 frames with stride 2 at 224, 8 clips per GPU, AdamW
# lr 1e-3 (backbone x0.1), weight decay 0.02, 2.5-epoch linear warm-up then
# cosine over 30 epochs, 4 clips x three crops at test, backbone inflated
# from the ImageNet-1k Swin-T of the MMAction2 model zoo (downloaded by
# mmengine on first use). Clips are decoded straight from the long videos
# (rgb_{split}.txt segment lists of data_prep/imigue_to_mmaction.py). To
# fine-tune from an MA-52 checkpoint instead (swin_tiny_rgb_ma52.py), pass
# --cfg-options load_from=CKPT: its 52-class layer is the only key skipped.
# docs/recipes.md compares every setting with the anchor. Add --amp to
# tools/train.py on GPUs (the anchor trains with AmpOptimWrapper).
_base_ = [
    'mmaction::_base_/models/swin_tiny.py',
    'mmaction::_base_/default_runtime.py'
]
custom_imports = dict(imports=['mmmg'], allow_failed_imports=False)

num_classes = 32
clip_len = 32
frame_interval = 2
num_test_clips = 4
data_root = 'data/imigue'
# Root of the videos the lists point into: the release for RGB, the output
# of a data_prep converter for the Taylor, flow and depth streams.
video_root = f'{data_root}/release'
list_dir = f'{data_root}/annotations'
load_from = None
# The only keys a load_from may lack or differ in: another class count.
allow_partial_keys = ['cls_head.fc_cls.*']

model = dict(
    backbone=dict(
        pretrained='https://download.openmmlab.com/mmaction/v1.0/'
        'recognition/swin/swin_tiny_patch4_window7_224.pth',
        pretrained2d=True,
        drop_path_rate=0.1),
    cls_head=dict(num_classes=num_classes))

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
    dict(type='Resize', scale=(224, 224), keep_ratio=False),
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
    dict(type='CenterCrop', crop_size=224),
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
    dict(type='Resize', scale=(-1, 224)),
    dict(type='ThreeCrop', crop_size=224),
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

train_cfg = dict(
    type='EpochBasedTrainLoop', max_epochs=30, val_begin=1, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

optim_wrapper = dict(
    optimizer=dict(
        type='AdamW', lr=1e-3, betas=(0.9, 0.999), weight_decay=0.02),
    constructor='SwinOptimWrapperConstructor',
    paramwise_cfg=dict(
        absolute_pos_embed=dict(decay_mult=0.),
        relative_position_bias_table=dict(decay_mult=0.),
        norm=dict(decay_mult=0.),
        backbone=dict(lr_mult=0.1)))
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=0.1,
        by_epoch=True,
        begin=0,
        end=2.5,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        T_max=30,
        eta_min=0,
        by_epoch=True,
        begin=0,
        end=30)
]
default_hooks = dict(
    checkpoint=dict(interval=1, max_keep_ckpts=3, save_best='auto'))
# 8 GPUs x 8 clips, as in MMAction2's Video Swin configs.
auto_scale_lr = dict(enable=False, base_batch_size=64)
