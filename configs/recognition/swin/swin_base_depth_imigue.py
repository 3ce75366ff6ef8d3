# Video Swin-B on iMiGUE depth videos (data_prep/make_depth_videos.py), the
# MiGA-2025 winner's depth stream (momiji-bit/MM-Gesture
# mmaction2/configs/recognition/
# swin/swin-base-p244-w877_in1k-pre_8xb8-amp-32x2x1-30e_iMiGUE_36_depth.py):
# the Swin-B RGB recipe, ImageNet-1k init included, with 3 clips per GPU, on
# the converted long videos, which mirror the release's folder tree, so the
# same segment lists apply.
_base_ = ['./swin_base_rgb_imigue.py']

video_root = 'data/imigue/depth'
batch_size = 3

train_dataloader = dict(
    batch_size=batch_size, dataset=dict(data_prefix=dict(video=video_root)))
val_dataloader = dict(
    batch_size=batch_size, dataset=dict(data_prefix=dict(video=video_root)))
test_dataloader = dict(dataset=dict(data_prefix=dict(video=video_root)))
auto_scale_lr = dict(base_batch_size=8 * batch_size)
