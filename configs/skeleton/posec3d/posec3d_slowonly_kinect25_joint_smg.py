# PoseConv3D on Gaussian joint heatmaps of SMG (17 classes, Kinect v2
# skeletons, data_prep/smg_to_mmaction.py): the MiGA-2025 iMiGUE joint recipe
# on the 25 Kinect joints.
_base_ = ['./posec3d_slowonly_mg36_joint_imigue.py']

layout = 'kinect25'
num_classes = 17
data_root = 'data/smg/annotations'
ann_file = f'{data_root}/smg_{layout}.pkl'
# get_layout('kinect25').flip_pairs; tests/configs checks them
left_kp = [4, 5, 6, 7, 12, 13, 14, 15, 21, 22]
right_kp = [8, 9, 10, 11, 16, 17, 18, 19, 23, 24]


def _smg(pipeline):
    """The iMiGUE pipeline on the Kinect layout."""
    out = []
    for t in pipeline:
        if t['type'] == 'GeneratePoseHeatmaps':
            t = dict(t, layout=layout)
        elif t['type'] == 'Flip':
            t = dict(t, left_kp=left_kp, right_kp=right_kp)
        out.append(t)
    return out


model = dict(backbone=dict(in_channels=25),
             cls_head=dict(num_classes=num_classes))
dataset = dict(ann_file=ann_file, classes='smg')
train_dataloader = dict(dataset=dict(
    dataset, pipeline=_smg(_base_.train_dataloader.dataset.pipeline)))
val_dataloader = dict(dataset=dict(
    dataset, pipeline=_smg(_base_.val_dataloader.dataset.pipeline)))
test_dataloader = dict(dataset=dict(
    dataset, pipeline=_smg(_base_.test_dataloader.dataset.pipeline)))
