# The tiny Video Swin on the toy iMiGUE depth videos
# (data_prep/make_depth_videos.py).
_base_ = ['./swin_tiny_rgb_toy.py']

video_root = 'data/toy_imigue/depth'

train_dataloader = dict(dataset=dict(data_prefix=dict(video=video_root)))
val_dataloader = dict(dataset=dict(data_prefix=dict(video=video_root)))
test_dataloader = dict(dataset=dict(data_prefix=dict(video=video_root)))
