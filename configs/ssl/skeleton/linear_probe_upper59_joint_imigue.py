# Linear probe (iMiGUE-3K protocol 1): a linear classifier on the frozen
# encoder of usdrl_upper59_joint_pretrain_interviews.py, on iMiGUE clips in
# the same upper-body layout (data_prep/imigue_to_mmaction.py --layout
# upper_body59), 64 frames padded or truncated, Adam 1e-3 for 30 epochs.
#   python tools/train.py \
#       configs/ssl/skeleton/linear_probe_upper59_joint_imigue.py \
#       --cfg-options model.backbone.init_cfg.checkpoint=PRETRAINED.pth
# A randomly initialised encoder (the baseline): model.backbone.init_cfg=None
_base_ = ['mmaction::_base_/default_runtime.py']
custom_imports = dict(imports=['mmmg'], allow_failed_imports=False)
# Below _base_, or MMEngine reads this as a lazy-import config.
from mmmg.keypoints.layouts import get_layout

layout = 'upper_body59'
num_joints = get_layout(layout).num_keypoints
seq_len = 64
num_classes = 32
stream = 'joint'
pretrained = (f'work_dirs/usdrl_upper59_{stream}_pretrain_interviews/'
              'epoch_300.pth')
ann_file = f'data/imigue/annotations/imigue_{layout}.pkl'

model = dict(
    type='RecognizerGCN',
    backbone=dict(
        type='DualStreamSkeletonTransformer',
        num_joints=num_joints,
        seq_len=seq_len,
        stream=stream,
        layout=layout,
        embed_dims=256,
        depth=2,
        num_heads=8,
        mlp_ratio=2.,
        dropout=0.1,
        frozen=True,
        init_cfg=dict(
            type='Pretrained', checkpoint=pretrained, prefix='backbone.')),
    cls_head=dict(
        type='I3DHead',
        num_classes=num_classes,
        in_channels=512,
        spatial_type=None,
        dropout_ratio=0.,
        init_std=0.01,
        average_clips='prob'))

train_pipeline = [
    dict(type='NormalizeSkeleton', layout=layout),
    dict(type='FixSkeletonLength', length=seq_len),
    dict(type='FormatSkeletonSequence'),
    dict(type='PackMGInputs')
]
test_pipeline = [
    dict(type='NormalizeSkeleton', layout=layout),
    dict(type='FixSkeletonLength', length=seq_len, test_mode=True),
    dict(type='FormatSkeletonSequence'),
    dict(type='PackMGInputs')
]
dataset = dict(type='MGPoseDataset', ann_file=ann_file)
train_dataloader = dict(
    batch_size=64,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(**dataset, split='train', pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=64,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        **dataset, split='val', pipeline=test_pipeline, test_mode=True))
test_dataloader = dict(
    batch_size=64,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        **dataset, split='test', pipeline=test_pipeline, test_mode=True))
val_evaluator = [dict(type='AccMetric')]
test_evaluator = val_evaluator

max_epochs = 30
train_cfg = dict(
    type='EpochBasedTrainLoop',
    max_epochs=max_epochs,
    val_begin=1,
    val_interval=5)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(optimizer=dict(type='Adam', lr=1e-3, weight_decay=0.))
param_scheduler = [
    dict(
        type='CosineAnnealingLR',
        T_max=max_epochs,
        eta_min=0,
        by_epoch=True,
        begin=0,
        end=max_epochs,
        convert_to_iter_based=True)
]
default_hooks = dict(checkpoint=dict(interval=5, max_keep_ckpts=2))
auto_scale_lr = dict(enable=False, base_batch_size=64)
