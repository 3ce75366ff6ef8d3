# PoseConv3D on Gaussian limb heatmaps of SMG: the SMG joint config with one
# map per Kinect bone and the limb stream's learning rate (0.2).
_base_ = ['./posec3d_slowonly_kinect25_joint_smg.py']

num_limbs = 24  # len(get_layout('kinect25').edges); checked in tests/configs


def _limbs(pipeline):
    return [
        dict(t, with_kp=False, with_limb=True)
        if t['type'] == 'GeneratePoseHeatmaps' else t for t in pipeline
    ]


model = dict(backbone=dict(in_channels=num_limbs))
train_dataloader = dict(
    dataset=dict(pipeline=_limbs(_base_.train_dataloader.dataset.pipeline)))
val_dataloader = dict(
    dataset=dict(pipeline=_limbs(_base_.val_dataloader.dataset.pipeline)))
test_dataloader = dict(
    dataset=dict(pipeline=_limbs(_base_.test_dataloader.dataset.pipeline)))
optim_wrapper = dict(optimizer=dict(lr=0.2))
