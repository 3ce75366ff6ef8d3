# USDRL skeleton pre-training with clips drawn online from the long
# interviews (see configs/ssl/videomae/*_online.py for the mechanics): the
# index also stores every video's keypoints in the upper-body layout,
# memory-mapped, and FacialVisibilitySample(with_pose=True) slices each
# drawn clip from them; videos need no mp4. Epoch 0 equals the offline
# tool's clips for the same seed (quota = draws_per_video).
_base_ = ['./usdrl_upper59_joint_pretrain_interviews.py']

release_root = 'data/miga'
ssl_index = 'data/ssl_index/miga_upper59'
draws_per_video = 50
face_threshold = 0.3

train_pipeline = [
    dict(type='FacialVisibilitySample', seed=0, with_pose=True)
] + _base_.train_pipeline[:-1] + [
    dict(type='PackMGInputs', meta_keys=('img_shape', 'vid', 'ssl_interval'))
]
train_dataloader = dict(
    sampler=dict(type='OnlineClipSampler', shuffle=True),
    dataset=dict(
        _delete_=True,
        type='LongVideoDataset',
        data_root=release_root,
        index_file=ssl_index,
        draws_per_video=draws_per_video,
        threshold=face_threshold,
        pose_layout=_base_.layout,
        require_video=False,
        pipeline=train_pipeline))
custom_hooks = [dict(type='ClipIoDHook')]
