# PoseConv3D on Gaussian joint heatmaps of SMG (17 classes, Kinect v2
# skeletons, data_prep/smg_to_mmaction.py): the MiGA-2025 iMiGUE joint recipe
# on the 25 Kinect joints.
_base_ = ['./posec3d_slowonly_mg36_joint_imigue.py']
from mmmg.keypoints.layouts import flip_lists, get_layout
from mmmg.utils.pipelines import update_transforms

layout = 'kinect25'
num_classes = 17
data_root = 'data/smg/annotations'
ann_file = f'{data_root}/smg_{layout}.pkl'
left_kp, right_kp = flip_lists(layout)
kinect_maps = dict(
    GeneratePoseHeatmaps=dict(layout=layout),
    Flip=dict(left_kp=left_kp, right_kp=right_kp))

model = dict(
    backbone=dict(in_channels=get_layout(layout).num_keypoints),
    cls_head=dict(num_classes=num_classes))
dataset = dict(ann_file=ann_file, classes='smg')
train_dataloader = dict(
    dataset=dict(
        dataset=dict(
            dataset,
            pipeline=update_transforms(
                _base_.train_dataloader.dataset.dataset.pipeline, **
                kinect_maps))))
val_dataloader = dict(
    dataset=dict(
        dataset,
        pipeline=update_transforms(_base_.val_dataloader.dataset.pipeline, **
                                   kinect_maps)))
test_dataloader = dict(
    dataset=dict(
        dataset,
        pipeline=update_transforms(_base_.test_dataloader.dataset.pipeline, **
                                   kinect_maps)))
