# Tiny PoseConv3D on joint heatmaps of the toy iMiGUE data (36-point MG
# layout). Same pipeline as the MiGA-2025 recipe at a CPU-friendly size:
# 16 frames, 32x32 heatmaps, a one-block-per-stage SlowOnly.
_base_ = ['mmaction::_base_/default_runtime.py']
custom_imports = dict(imports=['mmmg'], allow_failed_imports=False)

layout = 'mg36'
num_classes = 32
clip_len = 16
heatmap_size = 32
data_root = 'data/toy_imigue/annotations'
ann_file = f'{data_root}/imigue_{layout}.pkl'
# get_layout('mg36').flip_pairs; tests/configs checks them against the layout
left_kp = [2, 3, 4, 8, 10, 12, 13, 17, 20, 24, 25, 26, 27, 28, 29]
right_kp = [5, 6, 7, 9, 11, 16, 15, 18, 22, 30, 31, 32, 33, 34, 35]

model = dict(
    type='Recognizer3D',
    backbone=dict(
        type='ResNet3dSlowOnly',
        depth=50,
        pretrained=None,
        in_channels=36,
        base_channels=8,
        num_stages=3,
        out_indices=(2, ),
        stage_blocks=(1, 1, 1),
        conv1_stride_s=1,
        pool1_stride_s=1,
        inflate=(0, 1, 1),
        spatial_strides=(2, 2, 2),
        temporal_strides=(1, 1, 2),
        dilations=(1, 1, 1)),
    cls_head=dict(
        type='I3DHead',
        in_channels=128,
        num_classes=num_classes,
        dropout_ratio=0.3,
        average_clips='prob'))

dataset_type = 'MGPoseDataset'
heatmaps = dict(
    type='GeneratePoseHeatmaps', sigma=0.6, layout=layout, with_kp=True,
    with_limb=False)
train_pipeline = [
    dict(type='UniformSampleFrames', clip_len=clip_len),
    dict(type='PoseDecode'),
    dict(type='MGPoseCompact', hw_ratio=1., allow_imgpad=True),
    dict(type='Resize', scale=(-1, heatmap_size + 8)),
    dict(type='RandomResizedCrop', area_range=(0.56, 1.0)),
    dict(type='Resize', scale=(heatmap_size, heatmap_size), keep_ratio=False),
    dict(type='Flip', flip_ratio=0.5, left_kp=left_kp, right_kp=right_kp),
    heatmaps,
    dict(type='FormatShape', input_format='NCTHW_Heatmap'),
    dict(type='PackMGInputs')
]
val_pipeline = [
    dict(type='UniformSampleFrames', clip_len=clip_len, num_clips=1,
         test_mode=True),
    dict(type='PoseDecode'),
    dict(type='MGPoseCompact', hw_ratio=1., allow_imgpad=True),
    dict(type='Resize', scale=(heatmap_size, heatmap_size), keep_ratio=False),
    heatmaps,
    dict(type='FormatShape', input_format='NCTHW_Heatmap'),
    dict(type='PackMGInputs')
]
test_pipeline = [
    dict(type='UniformSampleFrames', clip_len=clip_len, num_clips=2,
         test_mode=True),
    dict(type='PoseDecode'),
    dict(type='MGPoseCompact', hw_ratio=1., allow_imgpad=True),
    dict(type='Resize', scale=(heatmap_size, heatmap_size), keep_ratio=False),
    dict(heatmaps, double=True),
    dict(type='FormatShape', input_format='NCTHW_Heatmap'),
    dict(type='PackMGInputs')
]

train_dataloader = dict(
    batch_size=16,
    num_workers=1,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type, ann_file=ann_file, split='train',
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=16,
    num_workers=1,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type, ann_file=ann_file, split='val',
        pipeline=val_pipeline, test_mode=True))
test_dataloader = dict(
    batch_size=1,
    num_workers=1,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type, ann_file=ann_file, split='test',
        pipeline=test_pipeline, test_mode=True))

val_evaluator = [dict(type='AccMetric')]
test_evaluator = val_evaluator

train_cfg = dict(
    type='EpochBasedTrainLoop', max_epochs=12, val_begin=1, val_interval=4)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=1,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=0, T_max=11, by_epoch=True,
         begin=1, end=12, convert_to_iter_based=True)
]
optim_wrapper = dict(
    optimizer=dict(
        type='SGD', lr=0.1, momentum=0.9, weight_decay=3e-4, nesterov=True),
    clip_grad=dict(max_norm=40, norm_type=2))

default_hooks = dict(
    logger=dict(interval=5),
    checkpoint=dict(interval=1, max_keep_ckpts=3, save_best='auto'))
# Plain CPU training: gloo when distributed, no cuDNN.
env_cfg = dict(cudnn_benchmark=False)
auto_scale_lr = dict(enable=False, base_batch_size=16)
