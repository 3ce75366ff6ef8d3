# RGBPoseConv3D on iMiGUE, RGB + limb heatmaps (MiGA-2025 RGB+L stream):
# the RGB+joint config with one pose map per MG-36 limb. Initialise from the
# RGB-only SlowOnly and the PoseConv3D limb stream with
# tools/merge_rgbpose_checkpoint.py.
_base_ = ['./rgbposec3d_mg36_joint_imigue.py']
from mmmg.keypoints.layouts import get_layout
from mmmg.utils.pipelines import update_transforms

num_limbs = len(get_layout(_base_.layout).edges)
load_from = 'checkpoints/rgbpose_mg36_limb_init.pth'
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
