# The toy PoseConv3D joint stream with the orthogonal semantic embedding loss
# paired with square-root class weighting (4th place of MiGA 2026): the
# pooled feature is projected to a num_classes-dimensional space where class
# c owns the anchor e_c (rows of the identity, mutually orthogonal), and
# L = weighted CE + 1.0 * mean(1 - cos(z, a_y)). Predictions are the fc
# logits, as with I3DHead. See the sqrt_weights config for the class weights.
_base_ = ['./posec3d_mg36_joint_toy_sqrt_weights.py']

model = dict(
    cls_head=dict(
        type='SemanticEmbeddingHead',
        embed_dim=_base_.num_classes,
        anchor_type='identity',
        loss_embed=dict(type='SemanticEmbeddingLoss', loss_weight=1.0)))
