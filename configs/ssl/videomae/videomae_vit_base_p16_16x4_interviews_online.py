# VideoMAE pre-training with clips drawn online from the long interviews:
# every epoch draws new facial-visibility clips (the offline sampler's rule,
# data_prep/sample_ssl_clips.py) instead of reading a fixed segment list.
# LongVideoDataset indexes the release once (a memory-mapped prefix-sum file
# at `ssl_index`, rebuilt only when the release or the settings change);
# OnlineClipSampler hands the epoch to the workers, so draws depend on the
# seed, the epoch and the sample index only, and --resume continues the
# sequence. ClipIoDHook logs the MG-IoD of each epoch's clips. With the
# same seed, epoch 0 draws the offline tool's clips (quota =
# draws_per_video).
_base_ = ['./videomae_vit_base_p16_16x4_interviews.py']

ssl_index = 'data/ssl_index/imigue_rgb'
draws_per_video = 50
face_threshold = 0.3

train_pipeline = [dict(type='FacialVisibilitySample', seed=0)] + \
    _base_.train_pipeline[:-1] + [
        dict(type='PackMGInputs', meta_keys=('img_shape', 'vid',
                                             'ssl_interval'))
    ]
train_dataloader = dict(
    sampler=dict(type='OnlineClipSampler', shuffle=True),
    dataset=dict(
        _delete_=True,
        type='LongVideoDataset',
        data_root=_base_.video_root,
        index_file=ssl_index,
        draws_per_video=draws_per_video,
        threshold=face_threshold,
        pipeline=train_pipeline))
custom_hooks = [dict(type='ClipIoDHook')]
