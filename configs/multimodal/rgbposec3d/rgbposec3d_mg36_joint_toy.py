# Tiny RGBPoseConv3D (RGB + joint heatmaps) on the toy iMiGUE data: 4 RGB
# frames at 64x64 and 16 pose frames at 16x16, one block per stage, pose
# base width 8 and RGB twice that (the recipe's ratio, which the lateral
# connections assume), trained from scratch (no merged initialisation).
_base_ = ['./rgbposec3d_mg36_joint_imigue.py']

clip_len = dict(RGB=4, Pose=16)
num_test_clips = 2
rgb_size = 64
data_root = 'data/toy_imigue'
ann_file = f'{data_root}/annotations/imigue_mg36.pkl'
video_root = f'{data_root}/release'
load_from = None
randomness = dict(seed=0)

model = dict(
    backbone=dict(
        rgb_pathway=dict(base_channels=16, stage_blocks=(1, 1, 1, 1)),
        pose_pathway=dict(base_channels=8, stage_blocks=(1, 1, 1))),
    cls_head=dict(in_channels=[512, 128], dropout=0.3))

# The recipe's pipelines at the toy clip length and frame size.
heatmaps = _base_.heatmaps
pack = _base_.pack
train_pipeline = [
    dict(type='MMUniformSampleFrames', clip_len=clip_len, num_clips=1),
    dict(type='MMDecodeSegment'),
    dict(type='MGMMCompact', hw_ratio=1., allow_imgpad=True),
    dict(type='Resize', scale=(rgb_size + 8, rgb_size + 8), keep_ratio=False),
    dict(type='RandomResizedCrop', area_range=(0.56, 1.0)),
    dict(type='Resize', scale=(rgb_size, rgb_size), keep_ratio=False),
    dict(
        type='Flip',
        flip_ratio=0.5,
        left_kp=_base_.left_kp,
        right_kp=_base_.right_kp),
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
    dict(type='Resize', scale=(rgb_size, rgb_size), keep_ratio=False),
    heatmaps,
    dict(type='FormatShape', input_format='NCTHW'),
    pack,
]
test_pipeline = [
    dict(val_pipeline[0], num_clips=num_test_clips),
    *val_pipeline[1:],
]

dataset = dict(ann_file=ann_file, data_prefix=dict(video=video_root))
loader = dict(num_workers=1, persistent_workers=True)
train_dataloader = dict(
    **loader, batch_size=8, dataset=dict(**dataset, pipeline=train_pipeline))
val_dataloader = dict(
    **loader, batch_size=8, dataset=dict(**dataset, pipeline=val_pipeline))
test_dataloader = dict(
    **loader, dataset=dict(**dataset, pipeline=test_pipeline))

train_cfg = dict(max_epochs=6, val_interval=3)
optim_wrapper = dict(optimizer=dict(lr=0.05))
param_scheduler = [
    dict(
        type='CosineAnnealingLR',
        eta_min=0,
        T_max=6,
        by_epoch=True,
        convert_to_iter_based=True)
]
default_hooks = dict(logger=dict(interval=5))
env_cfg = dict(cudnn_benchmark=False)
auto_scale_lr = dict(base_batch_size=8)
