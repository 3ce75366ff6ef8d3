# The fine-tuning recipe at toy size: the toy pre-training encoder (a
# 2-block, 32-wide ViT, 4 frames at 64x64) with a 32-class head on the toy
# iMiGUE lists, 2 test clips x three crops. load_from: the last checkpoint
# of videomae_vit_base_p16_16x4_interviews_toy.py run by tools/train.py.
_base_ = ['./vit_base_p16_16x4_imigue_finetune.py']

clip_len = 4
frame_interval = 2
img_size = 64
data_root = 'data/toy_imigue'
video_root = f'{data_root}/release'
list_dir = f'{data_root}/annotations'
load_from = 'work_dirs/videomae_vit_base_p16_16x4_interviews_toy/epoch_6.pth'
randomness = dict(seed=0)

model = dict(
    backbone=dict(img_size=img_size, embed_dims=32, depth=2, num_heads=2,
                  num_frames=clip_len, drop_path_rate=0.),
    cls_head=dict(in_channels=32, dropout_ratio=0.3))


def _toy(pipeline):
    """The recipe's pipeline at the toy clip length and frame size."""
    sizes = {224: img_size, 256: img_size + 8, -1: -1}
    out = []
    for t in pipeline:
        t = dict(t)
        if t['type'] == 'SampleFrames':
            t.update(clip_len=clip_len, frame_interval=frame_interval,
                     num_clips=min(t['num_clips'], 2))
        elif t['type'] == 'Resize':
            t['scale'] = tuple(sizes[s] for s in t['scale'])
        elif 'crop_size' in t:
            t['crop_size'] = img_size
        out.append(t)
    return out


def _data(split, pipeline):
    return dict(ann_file=f'{list_dir}/rgb_{split}.txt',
                data_prefix=dict(video=video_root), pipeline=_toy(pipeline))


loader = dict(num_workers=0, persistent_workers=False)
train_dataloader = dict(
    **loader, batch_size=5,
    dataset=_data('train', _base_.train_dataloader.dataset.pipeline))
val_dataloader = dict(
    **loader, dataset=_data('val', _base_.val_dataloader.dataset.pipeline))
test_dataloader = dict(
    **loader, dataset=_data('test', _base_.test_dataloader.dataset.pipeline))

max_epochs = 6
train_cfg = dict(max_epochs=max_epochs, val_interval=3)
optim_wrapper = dict(optimizer=dict(lr=1e-3),
                     paramwise_cfg=dict(num_layers=2))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=1,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - 1, eta_min=0,
         by_epoch=True, begin=1, end=max_epochs, convert_to_iter_based=True)
]
default_hooks = dict(logger=dict(interval=1))
auto_scale_lr = dict(base_batch_size=5)
