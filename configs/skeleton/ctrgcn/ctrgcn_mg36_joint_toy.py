# Tiny CTR-GCN on the MG36 joints of the toy iMiGUE data: the ST-GCN++ toy
# (32 frames, 8 epochs, 2 test clips) with a CTR-GCN of 4 narrow blocks.
_base_ = [
    '../stgcnpp/stgcnpp_mg36_joint_toy.py', './_base_/ctrgcn_backbone.py'
]
model = dict(
    backbone=dict(
        _base_.ctrgcn_backbone,
        graph_cfg=_base_.model.backbone.graph_cfg,
        base_channels=8,
        num_stages=4,
        inflate_stages=[3],
        down_stages=[3]),
    cls_head=dict(in_channels=16))
