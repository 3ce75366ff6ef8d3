# Video Swin-B on iMiGUE RGB clips, the MiGA-2025 winner's RGB stream
# (momiji-bit/MM-Gesture mmaction2/configs/recognition/swin/
# swin-base-p244-w877_in1k-pre_8xb8-amp-32x2x1-30e_iMiGUE_36_rgb.py): the
# Swin-T recipe with the base architecture (drop path 0.3), backbone
# inflated from the ImageNet-1k Swin-B of the MMAction2 model zoo, 4 clips
# per GPU and weight decay 0.05. docs/recipes.md compares every setting with
# the anchor. Add --amp to tools/train.py on GPUs.
_base_ = ['./swin_tiny_rgb_imigue.py']

batch_size = 4

model = dict(
    backbone=dict(
        arch='base',
        pretrained='https://download.openmmlab.com/mmaction/v1.0/'
        'recognition/swin/swin_base_patch4_window7_224.pth',
        drop_path_rate=0.3),
    cls_head=dict(in_channels=1024))

train_dataloader = dict(batch_size=batch_size)
val_dataloader = dict(batch_size=batch_size)
optim_wrapper = dict(optimizer=dict(weight_decay=0.05))
# 8 GPUs (the anchor's files do not say; see docs/recipes.md).
auto_scale_lr = dict(base_batch_size=8 * batch_size)
