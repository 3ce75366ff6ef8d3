# RGBPoseConv3D on iMiGUE, RGB + limb heatmaps (MiGA-2025 RGB+L stream):
# the RGB+joint config with one pose map per MG-36 limb. Initialise from the
# RGB-only SlowOnly and the PoseConv3D limb stream with
# tools/merge_rgbpose_checkpoint.py.
_base_ = ['./rgbposec3d_mg36_joint_imigue.py']

num_limbs = 37  # len(get_layout('mg36').edges); checked in tests/configs
load_from = 'checkpoints/rgbpose_mg36_limb_init.pth'


def _limbs(pipeline):
    return [
        dict(t, with_kp=False, with_limb=True)
        if t['type'] == 'GeneratePoseHeatmaps' else t for t in pipeline
    ]


model = dict(backbone=dict(pose_pathway=dict(in_channels=num_limbs)))
train_dataloader = dict(
    dataset=dict(pipeline=_limbs(_base_.train_dataloader.dataset.pipeline)))
val_dataloader = dict(
    dataset=dict(pipeline=_limbs(_base_.val_dataloader.dataset.pipeline)))
test_dataloader = dict(
    dataset=dict(pipeline=_limbs(_base_.test_dataloader.dataset.pipeline)))
