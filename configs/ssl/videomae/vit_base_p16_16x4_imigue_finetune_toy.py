# The fine-tuning recipe at toy size: the toy pre-training encoder (a
# 2-block, 32-wide ViT, 4 frames at 64x64) with a 32-class head on the toy
# iMiGUE lists, 2 test clips x three crops. load_from: the last checkpoint
# of videomae_vit_base_p16_16x4_interviews_toy.py run by tools/train.py.
_base_ = ['./vit_base_p16_16x4_imigue_finetune.py']

clip_len = 4
frame_interval = 2
img_size = 64
num_test_clips = 2
data_root = 'data/toy_imigue'
video_root = f'{data_root}/release'
list_dir = f'{data_root}/annotations'
load_from = 'work_dirs/videomae_vit_base_p16_16x4_interviews_toy/epoch_6.pth'
randomness = dict(seed=0)

model = dict(
    backbone=dict(
        img_size=img_size,
        embed_dims=32,
        depth=2,
        num_heads=2,
        num_frames=clip_len,
        drop_path_rate=0.),
    cls_head=dict(in_channels=32, dropout_ratio=0.3))

# The recipe's pipelines at the toy clip length and frame size.
train_pipeline = [
    dict(type='DecordInitSegment'),
    dict(
        type='SampleFrames',
        clip_len=clip_len,
        frame_interval=frame_interval,
        num_clips=1),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, img_size + 8)),
    dict(type='RandomResizedCrop'),
    dict(type='Resize', scale=(img_size, img_size), keep_ratio=False),
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
    dict(type='Resize', scale=(-1, img_size + 8)),
    dict(type='CenterCrop', crop_size=img_size),
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
    dict(type='Resize', scale=(-1, img_size)),
    dict(type='ThreeCrop', crop_size=img_size),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackMGInputs')
]

loader = dict(num_workers=0, persistent_workers=False)
train_dataloader = dict(
    **loader,
    batch_size=5,
    dataset=dict(
        ann_file=f'{list_dir}/rgb_train.txt',
        data_prefix=dict(video=video_root),
        pipeline=train_pipeline))
val_dataloader = dict(
    **loader,
    dataset=dict(
        ann_file=f'{list_dir}/rgb_val.txt',
        data_prefix=dict(video=video_root),
        pipeline=val_pipeline))
test_dataloader = dict(
    **loader,
    dataset=dict(
        ann_file=f'{list_dir}/rgb_test.txt',
        data_prefix=dict(video=video_root),
        pipeline=test_pipeline))

max_epochs = 6
train_cfg = dict(max_epochs=max_epochs, val_interval=3)
optim_wrapper = dict(optimizer=dict(lr=1e-3), paramwise_cfg=dict(num_layers=2))
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=0.1,
        by_epoch=True,
        begin=0,
        end=1,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        T_max=max_epochs - 1,
        eta_min=0,
        by_epoch=True,
        begin=1,
        end=max_epochs,
        convert_to_iter_based=True)
]
default_hooks = dict(logger=dict(interval=1))
auto_scale_lr = dict(base_batch_size=5)
