# The toy PoseConv3D joint stream with the prototype head: momentum class
# prototypes of a 64-d projection of the pooled feature and a contrastive
# calibration loss on the misclassified samples of each batch (FR-Head /
# prototype learning for micro-gestures; see mmmg.models.heads.PrototypeHead).
# Validation and test also report macro-F1 and per-class scores and write a
# confusion matrix next to the run's log (MGClassificationMetric).
_base_ = ['../skeleton/posec3d/posec3d_slowonly_mg36_joint_toy.py']

model = dict(
    cls_head=dict(
        type='PrototypeHead',
        in_channels=128,
        num_classes=32,
        proj_channels=64,
        momentum=0.9,
        temperature=0.1,
        loss_proto_weight=0.1,
        # Test scores are the fc logits alone.
        proto_blend=0.))

# AccMetric stays first, so save_best='auto' keeps ranking by acc/top1.
val_evaluator = [dict(type='AccMetric'), dict(type='MGClassificationMetric')]
test_evaluator = val_evaluator
