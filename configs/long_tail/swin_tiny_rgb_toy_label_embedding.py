# The toy Video Swin RGB stream with the label-embedding loss of Li et al.
# (MiGA 2023): see posec3d_mg36_joint_toy_label_embedding.py.
_base_ = ['../recognition/swin/swin_tiny_rgb_toy.py']

label_embedding_file = (
    'data/toy_imigue/annotations/imigue_label_embeddings.npy')

model = dict(
    cls_head=dict(
        type='LabelEmbeddingHead',
        embedding_file=label_embedding_file,
        loss_embed=dict(type='LabelEmbeddingLoss', loss_weight=20.0)))
