# The toy Video Swin RGB stream with square-root class weighting: see
# posec3d_mg36_joint_toy_sqrt_weights.py. The counts come from the training
# clip list (rgb_train.txt), which holds one split; when overriding
# train_dataloader.dataset.ann_file, override
# model.cls_head.loss_cls.class_weight.ann_file too.
_base_ = ['../recognition/swin/swin_tiny_rgb_toy.py']

class_weight = dict(
    mode='sqrt_inverse',
    ann_file=_base_.train_dataloader.dataset.ann_file,
    num_classes=_base_.num_classes)

model = dict(
    cls_head=dict(
        loss_cls=dict(type='MGCrossEntropyLoss', class_weight=class_weight)))
