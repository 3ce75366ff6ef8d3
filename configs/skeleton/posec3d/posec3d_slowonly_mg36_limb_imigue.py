# PoseConv3D on Gaussian limb heatmaps of iMiGUE: the joint recipe with one
# map per MG-36 limb and the limb stream's learning rate (0.2).
_base_ = ['./posec3d_slowonly_mg36_joint_imigue.py']
from mmmg.keypoints.layouts import get_layout
from mmmg.utils.pipelines import update_transforms

num_limbs = len(get_layout(_base_.layout).edges)
limb_maps = dict(GeneratePoseHeatmaps=dict(with_kp=False, with_limb=True))
model = dict(backbone=dict(in_channels=num_limbs))
train_dataloader = dict(
    dataset=dict(
        dataset=dict(
            pipeline=update_transforms(
                _base_.train_dataloader.dataset.dataset.pipeline, **
                limb_maps))))
val_dataloader = dict(
    dataset=dict(
        pipeline=update_transforms(_base_.val_dataloader.dataset.pipeline, **
                                   limb_maps)))
test_dataloader = dict(
    dataset=dict(
        pipeline=update_transforms(_base_.test_dataloader.dataset.pipeline, **
                                   limb_maps)))
optim_wrapper = dict(optimizer=dict(lr=0.2))
