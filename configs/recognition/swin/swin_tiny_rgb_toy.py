# A tiny Video Swin on the toy iMiGUE RGB clips: the iMiGUE recipe with 8
# frames at 64x64, a 2-block, 16-wide Swin, 2 test clips x three crops, no
# pre-training. The Taylor / flow / depth toy configs inherit it.
_base_ = ['./swin_tiny_rgb_imigue.py']

clip_len = 8
frame_interval = 1
num_test_clips = 2
size = 64
data_root = 'data/toy_imigue'
video_root = f'{data_root}/release'
list_dir = f'{data_root}/annotations'
load_from = None
randomness = dict(seed=0)

model = dict(
    backbone=dict(
        # Random init: no model-zoo download.
        pretrained=None,
        pretrained2d=False,
        arch=dict(
            _delete_=True,
            embed_dims=16,
            depths=[1, 1, 1, 1],
            num_heads=[1, 1, 1, 2]),
        window_size=(4, 4, 4),
        drop_path_rate=0.),
    cls_head=dict(in_channels=128, dropout_ratio=0.3))

# The recipe's pipelines at the toy clip length and frame size.
train_pipeline = [
    dict(type='DecordInitSegment'),
    dict(
        type='SampleFrames',
        clip_len=clip_len,
        frame_interval=frame_interval,
        num_clips=1),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, size + 8)),
    dict(type='RandomResizedCrop'),
    dict(type='Resize', scale=(size, size), keep_ratio=False),
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
    dict(type='Resize', scale=(-1, size + 8)),
    dict(type='CenterCrop', crop_size=size),
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
    dict(type='Resize', scale=(-1, size)),
    dict(type='ThreeCrop', crop_size=size),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackMGInputs')
]

loader = dict(num_workers=1, persistent_workers=True)
train_dataloader = dict(
    **loader,
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

train_cfg = dict(max_epochs=12, val_interval=4)
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
        T_max=11,
        eta_min=0,
        by_epoch=True,
        begin=1,
        end=12)
]
default_hooks = dict(logger=dict(interval=5))
env_cfg = dict(cudnn_benchmark=False)
auto_scale_lr = dict(base_batch_size=8)
