# Video Swin-T on iMiGUE depth videos (data_prep/make_depth_videos.py), the
# MiGA-2025 depth stream: the RGB recipe trained from scratch on the converted
# long videos, which mirror the release's folder tree, so the same segment
# lists apply.
_base_ = ['./swin_tiny_rgb_imigue.py']

video_root = 'data/imigue/depth'
load_from = None

train_dataloader = dict(dataset=dict(data_prefix=dict(video=video_root)))
val_dataloader = dict(dataset=dict(data_prefix=dict(video=video_root)))
test_dataloader = dict(dataset=dict(data_prefix=dict(video=video_root)))
