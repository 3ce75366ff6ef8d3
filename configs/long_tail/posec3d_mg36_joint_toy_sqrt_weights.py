# The toy PoseConv3D joint stream with square-root class weighting (4th place
# of MiGA 2026): cross-entropy with w_c proportional to n_c^-1/2, mean 1 over
# classes, n_c counted in the training split of the dataset's annotation
# file when the model is built (the weights are logged). Other modes:
# 'none', 'inverse', 'effective_number' (add beta=0.999).
# The weights are read from `class_weight.ann_file`, which is fixed when this
# file is parsed: when overriding train_dataloader.dataset.ann_file on the
# command line, override model.cls_head.loss_cls.class_weight.ann_file too.
_base_ = ['../skeleton/posec3d/posec3d_slowonly_mg36_joint_toy.py']

train_set = _base_.train_dataloader.dataset
class_weight = dict(
    mode='sqrt_inverse',
    ann_file=train_set.ann_file,
    split=train_set.split,
    num_classes=_base_.num_classes)

model = dict(
    cls_head=dict(
        loss_cls=dict(type='MGCrossEntropyLoss', class_weight=class_weight)))
