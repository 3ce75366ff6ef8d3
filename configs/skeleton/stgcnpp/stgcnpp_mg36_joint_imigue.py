# ST-GCN++ on the MG36 joint stream of iMiGUE. The recipe is MMAction2's
# own 2D ST-GCN++ (open-mmlab/mmaction2,
# configs/skeleton/stgcnpp/stgcnpp_8xb16-joint-u100-80e_ntu60-xsub-keypoint-2d.py,
# after PYSKL's configs/stgcn++): 100-frame clips, 8 GPUs x 16 clips, the
# training set repeated 5 times per epoch, 16 epochs of SGD (lr 0.1,
# Nesterov, weight decay 5e-4) with cosine decay by iteration, 10 test
# clips. Only the graph (the MG36 tree, rooted at the neck), the single
# interviewee and the classes differ.
_base_ = ['mmaction::_base_/default_runtime.py']
custom_imports = dict(imports=['mmmg'], allow_failed_imports=False)
# Below _base_, or MMEngine reads this as a lazy-import config.
from mmmg.keypoints.graph import gcn_layout
from mmmg.utils.pipelines import update_transforms

layout = 'mg36'
feats = ['j']
num_classes = 32
clip_len = 100
data_root = 'data/imigue/annotations'
ann_file = f'{data_root}/imigue_{layout}.pkl'
dataset_type = 'MGPoseDataset'

num_gpus = 8
batch_per_gpu = 16
train_repeat = 5

model = dict(
    type='RecognizerGCN',
    backbone=dict(
        type='STGCN',
        gcn_adaptive='init',
        gcn_with_res=True,
        tcn_type='mstcn',
        graph_cfg=dict(layout=gcn_layout(layout), mode='spatial')),
    cls_head=dict(type='GCNHead', num_classes=num_classes, in_channels=256))

features = dict(type='LayoutSkeletonFeatures', layout=layout, feats=feats)
train_pipeline = [
    dict(type='PreNormalize2D'), features,
    dict(type='UniformSampleFrames', clip_len=clip_len),
    dict(type='PoseDecode'),
    dict(type='FormatGCNInput', num_person=1),
    dict(type='PackMGInputs')
]
val_pipeline = update_transforms(
    train_pipeline, UniformSampleFrames=dict(num_clips=1, test_mode=True))
test_pipeline = update_transforms(
    train_pipeline, UniformSampleFrames=dict(num_clips=10, test_mode=True))

train_dataloader = dict(
    batch_size=batch_per_gpu,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type='RepeatDataset',
        times=train_repeat,
        dataset=dict(
            type=dataset_type,
            ann_file=ann_file,
            split='train',
            pipeline=train_pipeline)))
eval_set = dict(type=dataset_type, ann_file=ann_file, test_mode=True)
val_dataloader = dict(
    batch_size=16,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(eval_set, split='val', pipeline=val_pipeline))
test_dataloader = dict(
    val_dataloader,
    batch_size=1,
    dataset=dict(eval_set, split='test', pipeline=test_pipeline))

val_evaluator = [dict(type='AccMetric')]
test_evaluator = val_evaluator

train_cfg = dict(
    type='EpochBasedTrainLoop', max_epochs=16, val_begin=1, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
param_scheduler = [
    dict(
        type='CosineAnnealingLR',
        eta_min=0,
        T_max=16,
        by_epoch=True,
        convert_to_iter_based=True)
]
optim_wrapper = dict(
    optimizer=dict(
        type='SGD', lr=0.1, momentum=0.9, weight_decay=0.0005, nesterov=True))
default_hooks = dict(
    checkpoint=dict(interval=1, max_keep_ckpts=3, save_best='auto'))
auto_scale_lr = dict(enable=False, base_batch_size=num_gpus * batch_per_gpu)
