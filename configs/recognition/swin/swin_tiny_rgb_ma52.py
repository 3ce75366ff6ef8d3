# Video Swin-T pre-training on MA-52 (52 micro-action classes), the light
# variant of swin_small_rgb_ma52.py (anchor: momiji-bit/MM-Gesture
# swin-tiny-p244-w877_in1k-pre_8xb8-amp-32x2x1-30e_MA52_44_rgb.py); fine-tune
# on iMiGUE with swin_tiny_rgb_imigue.py --cfg-options load_from=CKPT. Same
# recipe, ImageNet-1k init included; clips are the MA-52 clip files. Train on
# the 7 body-level classes instead with
#   --cfg-options model.cls_head.num_classes=7 \
#       train_dataloader.dataset.label_level=body \
#       val_dataloader.dataset.label_level=body
_base_ = ['./swin_tiny_rgb_imigue.py']

num_classes = 52
data_root = 'data/ma52'

model = dict(cls_head=dict(num_classes=num_classes))
dataset = dict(type='MA52Dataset', list_format='clip', label_level='action')
train_dataloader = dict(
    dataset=dict(
        dataset,
        ann_file=f'{data_root}/train_list_videos.txt',
        data_prefix=dict(video=f'{data_root}/train')))
val_dataloader = dict(
    dataset=dict(
        dataset,
        ann_file=f'{data_root}/val_list_videos.txt',
        data_prefix=dict(video=f'{data_root}/val')))
test_dataloader = dict(
    dataset=dict(
        dataset,
        ann_file=f'{data_root}/val_list_videos.txt',
        data_prefix=dict(video=f'{data_root}/val')))
