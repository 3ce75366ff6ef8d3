# The toy PoseConv3D joint stream with the label-embedding loss of Li et al.
# (MiGA 2023): L = CE + 20 * MSE(linear(feature), e_y), e_c = row c of a
# (num_classes, D) .npy of class text embeddings (e.g. 300-d word vectors of
# the class names), read when the model is built. mmmg ships no embedding
# file: write one and point `label_embedding_file` (or
# model.cls_head.embedding_file on the command line) at it.
_base_ = ['../skeleton/posec3d/posec3d_slowonly_mg36_joint_toy.py']

label_embedding_file = (
    'data/toy_imigue/annotations/imigue_label_embeddings.npy')

model = dict(
    cls_head=dict(
        type='LabelEmbeddingHead',
        embedding_file=label_embedding_file,
        loss_embed=dict(type='LabelEmbeddingLoss', loss_weight=20.0)))
