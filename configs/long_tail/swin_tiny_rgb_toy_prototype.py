# The toy Video Swin RGB stream with the prototype head (momentum class
# prototypes + contrastive calibration of false negatives / false positives,
# see mmmg.models.heads.PrototypeHead), reporting macro-F1, per-class scores
# and a confusion matrix at validation and test (MGClassificationMetric).
_base_ = ['../recognition/swin/swin_tiny_rgb_toy.py']

model = dict(
    cls_head=dict(
        type='PrototypeHead',
        in_channels=128,
        num_classes=32,
        proj_channels=64,
        momentum=0.9,
        temperature=0.1,
        loss_proto_weight=0.1,
        proto_blend=0.))

# AccMetric stays first, so save_best='auto' keeps ranking by acc/top1.
val_evaluator = [dict(type='AccMetric'), dict(type='MGClassificationMetric')]
test_evaluator = val_evaluator
