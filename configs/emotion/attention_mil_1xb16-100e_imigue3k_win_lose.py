# Win/lose per video (iMiGUE-3K protocol 5) from frozen clip features:
# gated-attention MIL over each video's clips, class-balanced cross-entropy,
# accuracy and F1 of each outcome on the test videos. The feature files come
# from tools/extract_features.py (one per stream, joined by sample id);
# in_dims is the summed width of the streams. tools/emotion_recognition.py
# runs this config on files given on its command line.
custom_imports = dict(imports=['mmmg'], allow_failed_imports=False)
default_scope = 'mmaction'

label_file = 'data/imigue3k/annotations/outcomes.csv'
streams = ('joint', 'bone', 'motion')
feature_dir = 'work_dirs/features/'
max_clips = 64

model = dict(
    type='AttentionMILAggregator',
    in_dims=3 * 128,
    hidden_dims=64,
    num_classes=2,
    dropout=0.1)

loader = dict(
    num_workers=0,
    persistent_workers=False,
    collate_fn=dict(type='default_collate'))
train_dataloader = dict(
    batch_size=16,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type='VideoBagDataset',
        ann_file=label_file,
        max_clips=max_clips,
        feature_files=[f'{feature_dir}{s}_train.npz' for s in streams]),
    **loader)
test_dataloader = dict(
    batch_size=64,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='VideoBagDataset',
        ann_file=label_file,
        max_clips=max_clips,
        feature_files=[f'{feature_dir}{s}_test.npz' for s in streams],
        test_mode=True),
    **loader)
test_evaluator = dict(type='OutcomeF1Metric')

max_epochs = 100
train_cfg = dict(
    type='EpochBasedTrainLoop',
    max_epochs=max_epochs,
    val_interval=max_epochs + 1)
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(optimizer=dict(type='AdamW', lr=1e-3, weight_decay=1e-2))
custom_hooks = [dict(type='ClassBalanceHook')]

default_hooks = dict(
    runtime_info=dict(type='RuntimeInfoHook'),
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=10, ignore_last=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', interval=max_epochs),
    sampler_seed=dict(type='DistSamplerSeedHook'))
env_cfg = dict(cudnn_benchmark=False, dist_cfg=dict(backend='nccl'))
log_processor = dict(type='LogProcessor', window_size=10, by_epoch=True)
log_level = 'INFO'
randomness = dict(seed=0)
load_from = None
resume = False
