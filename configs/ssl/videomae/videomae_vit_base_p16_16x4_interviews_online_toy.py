# The online pre-training recipe at toy size (see
# videomae_vit_base_p16_16x4_interviews_online.py): the toy model and
# schedule, clips drawn online from the toy release's long videos.
_base_ = ['./videomae_vit_base_p16_16x4_interviews_toy.py']

ssl_index = f'{_base_.data_root}/ssl_index/toy_rgb'
draws_per_video = 5
# The toy drops face points frame by frame (no visible run reaches the
# shortest labelled MG at any threshold > 0): every frame counts as visible.
face_threshold = 0.0

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
