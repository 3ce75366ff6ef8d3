# A tiny Video Swin on the toy iMiGUE RGB clips: the iMiGUE recipe with 8
# frames at 64x64, a 2-block, 16-wide Swin, 2 test clips x three crops, no
# pre-training. The Taylor / flow / depth toy configs inherit it.
_base_ = ['./swin_tiny_rgb_imigue.py']

clip_len = 8
frame_interval = 1
size = 64
data_root = 'data/toy_imigue'
video_root = f'{data_root}/release'
list_dir = f'{data_root}/annotations'
load_from = None
randomness = dict(seed=0)

model = dict(
    backbone=dict(
        arch=dict(_delete_=True, embed_dims=16, depths=[1, 1, 1, 1],
                  num_heads=[1, 1, 1, 2]),
        window_size=(4, 4, 4), drop_path_rate=0.),
    cls_head=dict(in_channels=128, dropout_ratio=0.3))


def _toy(pipeline):
    """The recipe's pipeline at the toy clip length and frame size."""
    sizes = {224: size, 256: size + 8, -1: -1}
    out = []
    for t in pipeline:
        t = dict(t)
        if t['type'] == 'SampleFrames':
            t.update(clip_len=clip_len, frame_interval=frame_interval,
                     num_clips=min(t['num_clips'], 2))
        elif t['type'] == 'Resize':
            t['scale'] = tuple(sizes[s] for s in t['scale'])
        elif 'crop_size' in t:
            t['crop_size'] = size
        out.append(t)
    return out


def _data(split, pipeline):
    return dict(ann_file=f'{list_dir}/rgb_{split}.txt',
                data_prefix=dict(video=video_root), pipeline=_toy(pipeline))


loader = dict(num_workers=1, persistent_workers=True)
train_dataloader = dict(
    **loader,
    dataset=_data('train', _base_.train_dataloader.dataset.pipeline))
val_dataloader = dict(
    **loader, dataset=_data('val', _base_.val_dataloader.dataset.pipeline))
test_dataloader = dict(
    **loader, dataset=_data('test', _base_.test_dataloader.dataset.pipeline))

train_cfg = dict(max_epochs=12, val_interval=4)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=1,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=11, eta_min=0, by_epoch=True,
         begin=1, end=12)
]
default_hooks = dict(logger=dict(interval=5))
env_cfg = dict(cudnn_benchmark=False)
auto_scale_lr = dict(base_batch_size=8)
