# RGBPoseConv3D on iMiGUE, RGB + joint heatmaps (MiGA-2025 RGB+J stream):
# 8 RGB frames at 224 and 32 pose frames whose 36-point MG heatmaps are drawn
# at a quarter of the RGB size (56). Clips are decoded straight from the
# long videos. The recipe is the anchor's step for step (docs/recipes.md):
# sigma 0.7 at scaling 0.25, iMiGUE frame statistics, 8 GPUs x 6 clips, SGD
# lr 0.0075 stepped at epochs 12 and 16 of 20, 10 test clips at 256.
# Initialise from an RGB-only SlowOnly and the PoseConv3D joint stream:
#   python tools/merge_rgbpose_checkpoint.py THIS_CONFIG RGB.pth JOINT.pth \
#       --out checkpoints/rgbpose_mg36_joint_init.pth
_base_ = ['mmaction::_base_/default_runtime.py']
custom_imports = dict(imports=['mmmg'], allow_failed_imports=False)
# Below _base_, or MMEngine reads this as a lazy-import config.
from mmmg.keypoints.layouts import flip_lists, get_layout

layout = 'mg36'
num_classes = 32
clip_len = dict(RGB=8, Pose=32)
num_test_clips = 10
rgb_size = 224
# 8 GPUs x 6 clips per SGD step, no dataset repeat.
num_gpus = 8
batch_per_gpu = 6
# Per-channel mean/std of iMiGUE's RGB frames (RGB order), measured by the
# anchor over its training clips; tools/video_mean_std.py measures them anew.
rgb_mean = [66.157, 59.394, 67.089]
rgb_std = [62.470, 57.967, 58.183]
data_root = 'data/imigue'
ann_file = f'{data_root}/annotations/imigue_{layout}.pkl'
video_root = f'{data_root}/release'
load_from = 'checkpoints/rgbpose_mg36_joint_init.pth'
left_kp, right_kp = flip_lists(layout)

model = dict(
    type='MMRecognizer3D',
    backbone=dict(
        type='RGBPoseConv3D',
        speed_ratio=4,
        channel_ratio=4,
        rgb_pathway=dict(
            num_stages=4,
            lateral=True,
            lateral_infl=1,
            lateral_activate=(0, 0, 1, 1),
            fusion_kernel=7,
            base_channels=64,
            conv1_kernel=(1, 7, 7),
            inflate=(0, 0, 1, 1),
            with_pool2=False),
        pose_pathway=dict(
            num_stages=3,
            stage_blocks=(4, 6, 3),
            lateral=True,
            lateral_inv=True,
            lateral_infl=16,
            lateral_activate=(0, 1, 1),
            fusion_kernel=7,
            in_channels=get_layout(layout).num_keypoints,
            base_channels=32,
            out_indices=(2, ),
            conv1_kernel=(1, 7, 7),
            conv1_stride_s=1,
            conv1_stride_t=1,
            pool1_stride_s=1,
            pool1_stride_t=1,
            inflate=(0, 1, 1),
            spatial_strides=(2, 2, 2),
            temporal_strides=(1, 1, 1),
            dilations=(1, 1, 1),
            with_pool2=False)),
    cls_head=dict(
        type='RGBPoseHead',
        num_classes=num_classes,
        in_channels=[2048, 512],
        loss_components=['rgb', 'pose'],
        loss_weights=[1., 1.],
        average_clips='prob'),
    data_preprocessor=dict(
        type='MultiModalDataPreprocessor',
        preprocessors=dict(
            imgs=dict(
                type='ActionDataPreprocessor',
                mean=rgb_mean,
                std=rgb_std,
                format_shape='NCTHW'),
            heatmap_imgs=dict(type='ActionDataPreprocessor'))))

dataset_type = 'MGPoseDataset'
heatmaps = dict(
    type='GeneratePoseHeatmaps',
    sigma=0.7,
    layout=layout,
    with_kp=True,
    with_limb=False,
    scaling=0.25)
pack = dict(type='PackMGInputs', collect_keys=('imgs', 'heatmap_imgs'))
train_pipeline = [
    dict(type='MMUniformSampleFrames', clip_len=clip_len, num_clips=1),
    dict(type='MMDecodeSegment'),
    dict(type='MGMMCompact', hw_ratio=1., allow_imgpad=True),
    dict(
        type='Resize', scale=(rgb_size + 32, rgb_size + 32), keep_ratio=False),
    dict(type='RandomResizedCrop', area_range=(0.56, 1.0)),
    dict(type='Resize', scale=(rgb_size, rgb_size), keep_ratio=False),
    dict(type='Flip', flip_ratio=0.5, left_kp=left_kp, right_kp=right_kp),
    heatmaps,
    dict(type='FormatShape', input_format='NCTHW'),
    pack,
]
val_pipeline = [
    dict(
        type='MMUniformSampleFrames',
        clip_len=clip_len,
        num_clips=1,
        test_mode=True),
    dict(type='MMDecodeSegment'),
    dict(type='MGMMCompact', hw_ratio=1., allow_imgpad=True),
    # As the anchor, evaluated at the pre-crop size (pose maps at 64).
    dict(
        type='Resize', scale=(rgb_size + 32, rgb_size + 32), keep_ratio=False),
    heatmaps,
    dict(type='FormatShape', input_format='NCTHW'),
    pack,
]
test_pipeline = [
    dict(val_pipeline[0], num_clips=num_test_clips),
    *val_pipeline[1:],
]

dataset = dict(
    type=dataset_type, ann_file=ann_file, data_prefix=dict(video=video_root))
train_dataloader = dict(
    batch_size=batch_per_gpu,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(**dataset, split='train', pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        **dataset, split='val', pipeline=val_pipeline, test_mode=True))
test_dataloader = dict(
    batch_size=1,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        **dataset, split='test', pipeline=test_pipeline, test_mode=True))

val_evaluator = [dict(type='AccMetric')]
test_evaluator = val_evaluator

train_cfg = dict(
    type='EpochBasedTrainLoop', max_epochs=20, val_begin=1, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.0075, momentum=0.9, weight_decay=1e-4),
    clip_grad=dict(max_norm=40, norm_type=2))
param_scheduler = [
    dict(
        type='MultiStepLR',
        begin=0,
        end=20,
        by_epoch=True,
        milestones=[12, 16],
        gamma=0.1)
]
default_hooks = dict(
    checkpoint=dict(interval=1, max_keep_ckpts=3, save_best='auto'))
# The published lr is for 8 GPUs x 6 clips.
auto_scale_lr = dict(enable=False, base_batch_size=num_gpus * batch_per_gpu)
