# RGB-only SlowOnly-R50 on iMiGUE: the RGB half of RGBPoseConv3D trained
# alone (8 frames at 224, the same person-centred crops), whose checkpoint
# tools/merge_rgbpose_checkpoint.py merges with a PoseConv3D one. The
# anchor's RGB-only recipe (docs/recipes.md): from scratch, 8 GPUs x 26
# clips over the training set repeated 10 times per epoch, SGD lr 0.15 with
# cosine decay by iteration over 18 epochs, 10 test clips at 224.
_base_ = ['./rgbposec3d_mg36_joint_imigue.py']
from mmmg.utils.pipelines import update_transforms

clip_len = dict(RGB=8)
load_from = None
batch_per_gpu = 26
train_repeat = 10
num_epochs = 18

model = dict(
    _delete_=True,
    type='Recognizer3D',
    backbone=dict(
        type='ResNet3dSlowOnly',
        depth=50,
        pretrained=None,
        lateral=False,
        conv1_kernel=(1, 7, 7),
        inflate=(0, 0, 1, 1),
        with_pool2=False),
    cls_head=dict(
        type='I3DHead',
        in_channels=2048,
        num_classes=_base_.num_classes,
        dropout_ratio=0.5,
        average_clips='prob'),
    data_preprocessor=dict(
        type='ActionDataPreprocessor',
        mean=_base_.rgb_mean,
        std=_base_.rgb_std,
        format_shape='NCTHW'))

# The RGBPose pipeline without the pose maps and keypoint flipping.
rgb_only = dict(
    GeneratePoseHeatmaps=None,
    MMUniformSampleFrames=dict(clip_len=dict(RGB=clip_len['RGB'])),
    Flip=dict(_delete_=True, flip_ratio=0.5),
    PackMGInputs=dict(_delete_=True))
# Unlike RGBPoseConv3D, the anchor evaluates the RGB-only model at 224.
test_size = dict(
    Resize=dict(scale=(_base_.rgb_size, _base_.rgb_size), keep_ratio=False))
train_dataloader = dict(
    batch_size=batch_per_gpu,
    dataset=dict(
        _delete_=True,
        type='RepeatDataset',
        times=train_repeat,
        dataset=dict(
            _base_.train_dataloader.dataset,
            pipeline=update_transforms(
                _base_.train_dataloader.dataset.pipeline, **rgb_only))))
val_dataloader = dict(
    dataset=dict(
        pipeline=update_transforms(_base_.val_dataloader.dataset.pipeline, **
                                   rgb_only, **test_size)))
test_dataloader = dict(
    dataset=dict(
        pipeline=update_transforms(_base_.test_dataloader.dataset.pipeline, **
                                   rgb_only, **test_size)))

train_cfg = dict(max_epochs=num_epochs)
optim_wrapper = dict(optimizer=dict(lr=0.15))
param_scheduler = [
    dict(
        type='CosineAnnealingLR',
        eta_min=0,
        T_max=num_epochs,
        by_epoch=True,
        convert_to_iter_based=True)
]
auto_scale_lr = dict(base_batch_size=_base_.num_gpus * batch_per_gpu)
