# Tiny RGBPoseConv3D (RGB + limb heatmaps) on the toy iMiGUE data: the RGB +
# joint toy config with one pose map per MG-36 limb.
_base_ = ['./rgbposec3d_mg36_joint_toy.py']
from mmmg.keypoints.layouts import get_layout
from mmmg.utils.pipelines import update_transforms

num_limbs = len(get_layout(_base_.layout).edges)
limb_maps = dict(GeneratePoseHeatmaps=dict(with_kp=False, with_limb=True))
model = dict(backbone=dict(pose_pathway=dict(in_channels=num_limbs)))
train_dataloader = dict(
    dataset=dict(
        pipeline=update_transforms(_base_.train_dataloader.dataset.pipeline, **
                                   limb_maps)))
val_dataloader = dict(
    dataset=dict(
        pipeline=update_transforms(_base_.val_dataloader.dataset.pipeline, **
                                   limb_maps)))
test_dataloader = dict(
    dataset=dict(
        pipeline=update_transforms(_base_.test_dataloader.dataset.pipeline, **
                                   limb_maps)))
