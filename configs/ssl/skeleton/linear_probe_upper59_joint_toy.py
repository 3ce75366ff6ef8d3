# The linear probe at toy size (the encoder of
# usdrl_upper59_joint_pretrain_toy.py) on the toy iMiGUE clips in the
# upper-body layout, for tests and the CPU demo; semi-supervised and full
# fine-tuning at toy size are the same config with the overrides of
# semi10_/finetune_upper59_joint_imigue.py.
_base_ = ['./linear_probe_upper59_joint_imigue.py']

seq_len = 32
ann_file = 'data/toy_imigue/annotations/imigue_upper_body59.pkl'
randomness = dict(seed=0)
model = dict(
    backbone=dict(
        seq_len=seq_len,
        embed_dims=64,
        depth=1,
        num_heads=4,
        dropout=0.,
        init_cfg=dict(checkpoint='work_dirs/usdrl_upper59_joint_pretrain_toy/'
                      'epoch_20.pth')),
    cls_head=dict(in_channels=128))

# The recipe's pipelines at the toy length.
train_pipeline = [
    dict(type='NormalizeSkeleton', layout=_base_.layout),
    dict(type='FixSkeletonLength', length=seq_len),
    dict(type='FormatSkeletonSequence'),
    dict(type='PackMGInputs')
]
test_pipeline = [
    dict(type='NormalizeSkeleton', layout=_base_.layout),
    dict(type='FixSkeletonLength', length=seq_len, test_mode=True),
    dict(type='FormatSkeletonSequence'),
    dict(type='PackMGInputs')
]
loader = dict(batch_size=32, num_workers=0, persistent_workers=False)
train_dataloader = dict(
    **loader, dataset=dict(ann_file=ann_file, pipeline=train_pipeline))
val_dataloader = dict(
    **loader, dataset=dict(ann_file=ann_file, pipeline=test_pipeline))
test_dataloader = dict(
    **loader, dataset=dict(ann_file=ann_file, pipeline=test_pipeline))
max_epochs = 30
train_cfg = dict(max_epochs=max_epochs, val_interval=10)
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
default_hooks = dict(
    logger=dict(interval=5),
    checkpoint=dict(interval=max_epochs, max_keep_ckpts=1))
