# The pre-training recipe at toy size, for tests and smoke runs: a 2-block,
# 32-wide ViT with 16 px patches on 4 frames (stride 2) at 64x64 (2x4x4 =
# 32 tokens), tube masking at 0.75 (4 of 16 patches per slice visible), a
# 1-block, 16-wide decoder, on a segment list over the toy iMiGUE videos
# (e.g. rgb_{train,val,test}.txt of data/toy_imigue without labels).
_base_ = ['./videomae_vit_base_p16_16x4_interviews.py']

clip_len = 4
frame_interval = 2
img_size = 64
data_root = 'data/toy_imigue'
video_root = f'{data_root}/release'
ssl_list = f'{data_root}/annotations/ssl_clips.txt'
randomness = dict(seed=0)

model = dict(
    backbone=dict(
        img_size=img_size,
        embed_dims=32,
        depth=2,
        num_heads=2,
        num_frames=clip_len),
    decoder=dict(embed_dims=16, depth=1, num_heads=2),
    masking=dict(ratio=0.75))

# The recipe's pipeline at the toy clip length and frame size.
train_pipeline = [
    dict(type='DecordInitSegment'),
    dict(
        type='SampleFrames',
        clip_len=clip_len,
        frame_interval=frame_interval,
        num_clips=1),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, img_size + 8)),
    dict(
        type='MultiScaleCrop',
        input_size=img_size,
        scales=(1, 0.875, 0.75, 0.66),
        random_crop=False,
        max_wh_scale_gap=1),
    dict(type='Resize', scale=(img_size, img_size), keep_ratio=False),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackMGInputs')
]
train_dataloader = dict(
    batch_size=5,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        ann_file=ssl_list,
        data_prefix=dict(video=video_root),
        pipeline=train_pipeline))

max_epochs = 6
train_cfg = dict(max_epochs=max_epochs)
optim_wrapper = dict(optimizer=dict(lr=1e-3))
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
default_hooks = dict(
    logger=dict(interval=1), checkpoint=dict(interval=1, max_keep_ckpts=2))
auto_scale_lr = dict(base_batch_size=5)
