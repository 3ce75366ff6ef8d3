# Tiny RGBPoseConv3D (RGB + limb heatmaps) on the toy iMiGUE data: the RGB +
# joint toy config with one pose map per MG-36 limb.
_base_ = ['./rgbposec3d_mg36_joint_toy.py']

num_limbs = 37  # len(get_layout('mg36').edges); checked in tests/configs


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
