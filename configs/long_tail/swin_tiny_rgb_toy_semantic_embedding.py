# The toy Video Swin RGB stream with the orthogonal semantic embedding loss
# and square-root class weighting: see
# posec3d_mg36_joint_toy_semantic_embedding.py.
_base_ = ['./swin_tiny_rgb_toy_sqrt_weights.py']

model = dict(
    cls_head=dict(
        type='SemanticEmbeddingHead',
        embed_dim=_base_.num_classes,
        anchor_type='identity',
        loss_embed=dict(type='SemanticEmbeddingLoss', loss_weight=1.0)))
