# RGB-only SlowOnly-R50 on iMiGUE: the RGB half of RGBPoseConv3D trained
# alone (8 frames at 224, the same person-centred crops), whose checkpoint
# tools/merge_rgbpose_checkpoint.py merges with a PoseConv3D one.
_base_ = ['./rgbposec3d_mg36_joint_imigue.py']
from mmmg.utils.pipelines import update_transforms

clip_len = dict(RGB=8)
load_from = None

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
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        format_shape='NCTHW'))

# The RGBPose pipeline without the pose maps and keypoint flipping.
rgb_only = dict(
    GeneratePoseHeatmaps=None,
    MMUniformSampleFrames=dict(clip_len=dict(RGB=clip_len['RGB'])),
    Flip=dict(_delete_=True, flip_ratio=0.5),
    PackMGInputs=dict(_delete_=True))
train_dataloader = dict(
    dataset=dict(
        pipeline=update_transforms(_base_.train_dataloader.dataset.pipeline, **
                                   rgb_only)))
val_dataloader = dict(
    dataset=dict(
        pipeline=update_transforms(_base_.val_dataloader.dataset.pipeline, **
                                   rgb_only)))
test_dataloader = dict(
    dataset=dict(
        pipeline=update_transforms(_base_.test_dataloader.dataset.pipeline, **
                                   rgb_only)))
