# PoseConv3D on Gaussian joint heatmaps of iMiGUE (MiGA track 1), the
# MiGA-2025 winning recipe step for step (docs/recipes.md): 36-point MG
# layout, 48 uniformly sampled frames, 56x56 training crops of 64-pixel maps,
# sigma 0.6, 8 GPUs x 32 clips over the training set repeated 10 times per
# epoch, SGD lr 0.05 with cosine decay by iteration over 24 epochs, grad clip
# 40, 10 test clips with flip averaging; trained from scratch.
#   bash tools/dist_train.sh \
#       configs/skeleton/posec3d/posec3d_slowonly_mg36_joint_imigue.py 8
_base_ = ['mmaction::_base_/default_runtime.py']
custom_imports = dict(imports=['mmmg'], allow_failed_imports=False)
# Below _base_, or MMEngine reads this as a lazy-import config.
from mmmg.keypoints.layouts import flip_lists, get_layout

layout = 'mg36'
num_classes = 32
clip_len = 48
num_test_clips = 10
# The anchor's samples per SGD step and steps per epoch: 8 GPUs x 32 clips,
# the training set seen 10 times per epoch.
num_gpus = 8
batch_per_gpu = 32
train_repeat = 10
data_root = 'data/imigue/annotations'
ann_file = f'{data_root}/imigue_{layout}.pkl'
left_kp, right_kp = flip_lists(layout)

model = dict(
    type='Recognizer3D',
    backbone=dict(
        type='ResNet3dSlowOnly',
        depth=50,
        pretrained=None,
        in_channels=get_layout(layout).num_keypoints,
        base_channels=32,
        num_stages=3,
        out_indices=(2, ),
        stage_blocks=(4, 6, 3),
        conv1_stride_s=1,
        pool1_stride_s=1,
        inflate=(0, 1, 1),
        spatial_strides=(2, 2, 2),
        temporal_strides=(1, 1, 2),
        dilations=(1, 1, 1)),
    cls_head=dict(
        type='I3DHead',
        in_channels=512,
        num_classes=num_classes,
        dropout_ratio=0.5,
        average_clips='prob'))

dataset_type = 'MGPoseDataset'
# The loader ships these maps as 21.7 MB of float32 a training sample. For a
# quarter of the bytes (maps within 1/510 of these), add dtype='uint8' here
# and give the model data_preprocessor=dict(type='ActionDataPreprocessor',
# mean=[0.], std=[255.], format_shape='NCTHW'), which casts them back on the
# device (benchmarks/bench_skeleton_input.py measures both).
heatmaps = dict(
    type='GeneratePoseHeatmaps',
    sigma=0.6,
    layout=layout,
    with_kp=True,
    with_limb=False)
train_pipeline = [
    dict(type='UniformSampleFrames', clip_len=clip_len),
    dict(type='PoseDecode'),
    dict(type='MGPoseCompact', hw_ratio=1., allow_imgpad=True),
    dict(type='Resize', scale=(-1, 64)),
    dict(type='RandomResizedCrop', area_range=(0.56, 1.0)),
    dict(type='Resize', scale=(56, 56), keep_ratio=False),
    dict(type='Flip', flip_ratio=0.5, left_kp=left_kp, right_kp=right_kp),
    heatmaps,
    dict(type='FormatShape', input_format='NCTHW_Heatmap'),
    dict(type='PackMGInputs')
]
val_pipeline = [
    dict(
        type='UniformSampleFrames',
        clip_len=clip_len,
        num_clips=1,
        test_mode=True),
    dict(type='PoseDecode'),
    dict(type='MGPoseCompact', hw_ratio=1., allow_imgpad=True),
    dict(type='Resize', scale=(64, 64), keep_ratio=False), heatmaps,
    dict(type='FormatShape', input_format='NCTHW_Heatmap'),
    dict(type='PackMGInputs')
]
# Every clip and its mirror are scored; the head averages the 2 x 10
# probabilities into one score per sample.
test_pipeline = [
    dict(
        type='UniformSampleFrames',
        clip_len=clip_len,
        num_clips=num_test_clips,
        test_mode=True),
    dict(type='PoseDecode'),
    dict(type='MGPoseCompact', hw_ratio=1., allow_imgpad=True),
    dict(type='Resize', scale=(64, 64), keep_ratio=False),
    dict(heatmaps, double=True),
    dict(type='FormatShape', input_format='NCTHW_Heatmap'),
    dict(type='PackMGInputs')
]

train_dataloader = dict(
    batch_size=batch_per_gpu,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type='RepeatDataset',
        times=train_repeat,
        dataset=dict(
            type=dataset_type,
            ann_file=ann_file,
            split='train',
            pipeline=train_pipeline)))
val_dataloader = dict(
    batch_size=16,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        ann_file=ann_file,
        split='val',
        pipeline=val_pipeline,
        test_mode=True))
test_dataloader = dict(
    batch_size=1,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        ann_file=ann_file,
        split='test',
        pipeline=test_pipeline,
        test_mode=True))

val_evaluator = [dict(type='AccMetric')]
test_evaluator = val_evaluator

train_cfg = dict(
    type='EpochBasedTrainLoop', max_epochs=24, val_begin=1, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

param_scheduler = [
    dict(
        type='CosineAnnealingLR',
        eta_min=0,
        T_max=24,
        by_epoch=True,
        convert_to_iter_based=True)
]
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.05, momentum=0.9, weight_decay=3e-4),
    clip_grad=dict(max_norm=40, norm_type=2))

default_hooks = dict(
    checkpoint=dict(interval=1, max_keep_ckpts=3, save_best='auto'))
# The published lr is for 8 GPUs x 32 clips; --auto-scale-lr rescales it
# for another total batch.
auto_scale_lr = dict(enable=False, base_batch_size=num_gpus * batch_per_gpu)
