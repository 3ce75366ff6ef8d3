# USDRL-style skeleton pre-training (iMiGUE-3K's MG-FM-Skele) on unlabelled
# interview clips: the upper-body 59-point layout, 64 frames, four views,
# dual-stream transformer, multi-grained feature decorrelation; Adam 5e-4,
# weight decay 1e-5, batch 256, 300 epochs at a constant lr (USDRL's
# pretrain.py defaults; docs/recipes.md sets them beside its scripts).
#   python data_prep/sample_ssl_clips.py data/miga \
#       --out data/ssl/ssl_clips.txt \
#       --cut-skeleton data/ssl/ssl_upper_body59.pkl --layout upper_body59
#   python tools/train.py \
#       configs/ssl/skeleton/usdrl_upper59_joint_pretrain_interviews.py
# One process, as USDRL (DataParallel). Under dist_train.sh with G GPUs the
# loss gathers every rank's embeddings, so its statistics are those of the
# global batch of G x 256 clips (scale the lr yourself).
# Bone / motion streams: the _bone / _motion variants.
_base_ = ['mmaction::_base_/default_runtime.py']
custom_imports = dict(imports=['mmmg'], allow_failed_imports=False)
# Below _base_, or MMEngine reads this as a lazy-import config.
from mmmg.keypoints.layouts import get_layout

layout = 'upper_body59'
num_joints = get_layout(layout).num_keypoints
seq_len = 64
stream = 'joint'
ann_file = 'data/ssl/ssl_upper_body59.pkl'

model = dict(
    type='SkeletonDecorrelationPretrainer',
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
        dropout=0.1),
    loss=dict(type='MultiGrainedDecorrelationLoss'))

train_pipeline = [
    dict(type='NormalizeSkeleton', layout=layout),
    dict(type='SkeletonViews', num_views=4, length=seq_len),
    dict(type='FormatSkeletonSequence'),
    dict(type='PackMGInputs')
]
train_dataloader = dict(
    batch_size=256,
    num_workers=8,
    persistent_workers=True,
    drop_last=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type='MGPoseDataset',
        ann_file=ann_file,
        split='ssl',
        pipeline=train_pipeline))

max_epochs = 300
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs)
optim_wrapper = dict(optimizer=dict(type='Adam', lr=5e-4, weight_decay=1e-5))
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=0.1,
        by_epoch=True,
        begin=0,
        end=5,
        convert_to_iter_based=True)
]
default_hooks = dict(checkpoint=dict(interval=10, max_keep_ckpts=3))
auto_scale_lr = dict(enable=False, base_batch_size=256)
