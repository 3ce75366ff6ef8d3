# Tiny ST-GCN++ on the MG36 joints of the toy iMiGUE data: the iMiGUE recipe
# at a CPU-friendly size (32 frames, narrow channels, one pass per epoch,
# 8 epochs, 2 test clips).
_base_ = ['./stgcnpp_mg36_joint_imigue.py']
from mmmg.utils.pipelines import update_transforms

clip_len = 32
data_root = 'data/toy_imigue/annotations'
ann_file = f'{data_root}/imigue_mg36.pkl'
randomness = dict(seed=0)

model = dict(
    backbone=dict(
        base_channels=16, num_stages=4, inflate_stages=[3], down_stages=[3]),
    cls_head=dict(in_channels=32))

frames = dict(UniformSampleFrames=dict(clip_len=clip_len))
loader = dict(num_workers=1, persistent_workers=True)
train_dataloader = dict(
    **loader,
    batch_size=16,
    dataset=dict(
        _delete_=True,
        type=_base_.dataset_type,
        ann_file=ann_file,
        split='train',
        pipeline=update_transforms(_base_.train_pipeline, **frames)))
val_dataloader = dict(
    **loader,
    dataset=dict(
        ann_file=ann_file,
        pipeline=update_transforms(_base_.val_pipeline, **frames)))
test_dataloader = dict(
    **loader,
    dataset=dict(
        ann_file=ann_file,
        pipeline=update_transforms(
            _base_.test_pipeline,
            UniformSampleFrames=dict(clip_len=clip_len, num_clips=2))))

train_cfg = dict(max_epochs=8, val_interval=4)
param_scheduler = [
    dict(
        type='CosineAnnealingLR',
        eta_min=0,
        T_max=8,
        by_epoch=True,
        convert_to_iter_based=True)
]
default_hooks = dict(logger=dict(interval=5))
env_cfg = dict(cudnn_benchmark=False)
auto_scale_lr = dict(base_batch_size=16)
