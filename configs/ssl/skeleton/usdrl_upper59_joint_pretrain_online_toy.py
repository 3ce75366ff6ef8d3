# The online skeleton pre-training recipe at toy size (see
# usdrl_upper59_joint_pretrain_online.py): the toy encoder and schedule,
# clips drawn online from the toy release's long pose sequences.
_base_ = ['./usdrl_upper59_joint_pretrain_toy.py']

release_root = 'data/toy_imigue/release'
ssl_index = 'data/toy_imigue/ssl_index/toy_upper59'
draws_per_video = 5
# The toy drops face points frame by frame (no visible run reaches the
# shortest labelled MG at any threshold > 0): every frame counts as visible.
face_threshold = 0.0

train_pipeline = [
    dict(type='FacialVisibilitySample', seed=0, with_pose=True)
] + _base_.train_dataloader.dataset.pipeline[:-1] + [
    dict(type='PackMGInputs', meta_keys=('img_shape', 'vid', 'ssl_interval'))
]
train_dataloader = dict(
    batch_size=5,
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
