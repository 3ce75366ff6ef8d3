# Video Swin-T on iMiGUE Taylor videos (data_prep/make_taylor_videos.py), the
# MiGA-2025 taylor stream: the RGB recipe trained from scratch on the converted
# long videos, which mirror the release's folder tree, so the same segment
# lists apply.
_base_ = ['./swin_tiny_rgb_imigue.py']

video_root = 'data/imigue/taylor'
load_from = None

train_dataloader = dict(dataset=dict(data_prefix=dict(video=video_root)))
val_dataloader = dict(dataset=dict(data_prefix=dict(video=video_root)))
test_dataloader = dict(dataset=dict(data_prefix=dict(video=video_root)))
