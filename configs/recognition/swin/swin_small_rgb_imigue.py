# Video Swin-S on iMiGUE RGB clips fine-tuned from its MA-52 pre-training
# (swin_small_rgb_ma52.py), the MiGA-2025 winner's transferred RGB stream
# (momiji-bit/MM-Gesture mmaction2/configs/recognition/swin/
# swin-small-p244-w877_in1k-pre_32xb4-amp-32x2x1-30e_iMiGUE_36_rgb_tran.py;
# ensemble/ensemble.py: "MA52 pretrain + iMiGUE fine-tune"): the Swin-T
# recipe with the small architecture (drop path 0.2) and 5 clips per GPU.
# load_from is the last MA-52 checkpoint; it fills every key but the
# 52-class layer, so the ImageNet inflation is skipped (it would be
# overwritten).
_base_ = ['./swin_tiny_rgb_imigue.py']

batch_size = 5
load_from = 'work_dirs/swin_small_rgb_ma52/epoch_30.pth'

model = dict(
    backbone=dict(
        arch='small', pretrained=None, pretrained2d=False, drop_path_rate=0.2))

train_dataloader = dict(batch_size=batch_size)
val_dataloader = dict(batch_size=batch_size)
# 8 GPUs (the anchor's files do not say; see docs/recipes.md).
auto_scale_lr = dict(base_batch_size=8 * batch_size)
