# Video Swin-S pre-training on MA-52 (52 micro-action classes), the first
# step of the MiGA-2025 winner's transferred RGB stream (momiji-bit/
# MM-Gesture mmaction2/configs/recognition/swin/
# swin-small-p244-w877_in1k-pre_32xb4-amp-32x2x1-30e_MA52_44_rgb.py): the
# Swin-T MA-52 recipe with the small architecture (drop path 0.2), backbone
# inflated from the ImageNet-1k Swin-S of the MMAction2 model zoo and 5 clips
# per GPU. swin_small_rgb_imigue.py fine-tunes from its last checkpoint.
_base_ = ['./swin_tiny_rgb_ma52.py']

batch_size = 5

model = dict(
    backbone=dict(
        arch='small',
        pretrained='https://download.openmmlab.com/mmaction/v1.0/'
        'recognition/swin/swin_small_patch4_window7_224.pth',
        drop_path_rate=0.2))

train_dataloader = dict(batch_size=batch_size)
val_dataloader = dict(batch_size=batch_size)
# 8 GPUs (the anchor's files do not say; see docs/recipes.md).
auto_scale_lr = dict(base_batch_size=8 * batch_size)
