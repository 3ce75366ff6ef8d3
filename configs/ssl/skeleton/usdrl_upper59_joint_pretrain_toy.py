# The pre-training recipe at toy size for tests and the CPU demo: a
# 1-layer, 64-wide encoder on 32-frame views of the sampler's clips of the
# toy iMiGUE data (data_prep/sample_ssl_clips.py --layout upper_body59).
_base_ = ['./usdrl_upper59_joint_pretrain_interviews.py']

seq_len = 32
randomness = dict(seed=0)
model = dict(
    backbone=dict(
        seq_len=seq_len, embed_dims=64, depth=1, num_heads=4, dropout=0.))
train_dataloader = dict(
    batch_size=32,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        ann_file='data/toy_imigue/annotations/ssl_upper_body59.pkl',
        pipeline=[
            dict(type='NormalizeSkeleton', layout=_base_.layout),
            dict(type='SkeletonViews', num_views=4, length=seq_len),
            dict(type='FormatSkeletonSequence'),
            dict(type='PackMGInputs')
        ]))
max_epochs = 20
train_cfg = dict(max_epochs=max_epochs)
optim_wrapper = dict(optimizer=dict(lr=1e-3))
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=0.1,
        by_epoch=True,
        begin=0,
        end=1,
        convert_to_iter_based=True)
]
default_hooks = dict(
    logger=dict(interval=5),
    checkpoint=dict(interval=max_epochs, max_keep_ckpts=1))
