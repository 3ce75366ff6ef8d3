# Video Swin-T on iMiGUE depth videos (data_prep/make_depth_videos.py), the
# light variant of the MiGA-2025 depth stream (momiji-bit/MM-Gesture
# swin-tiny-p244-w877_in1k-pre_8xb8-amp-32x2x1-30e_iMiGUE_36_depth.py): the RGB
# recipe, ImageNet-1k init included, on the converted long videos, which mirror
# the release's folder tree, so the same segment lists apply.
_base_ = ['./swin_tiny_rgb_imigue.py']

video_root = 'data/imigue/depth'

train_dataloader = dict(dataset=dict(data_prefix=dict(video=video_root)))
val_dataloader = dict(dataset=dict(data_prefix=dict(video=video_root)))
test_dataloader = dict(dataset=dict(data_prefix=dict(video=video_root)))
