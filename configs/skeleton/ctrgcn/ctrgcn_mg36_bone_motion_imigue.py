# CTR-GCN on the MG36 bone motion stream of iMiGUE: the ST-GCN++
# config of that stream with the CTR-GCN backbone (PYSKL's two recipes
# differ only there).
_base_ = [
    '../stgcnpp/stgcnpp_mg36_bone_motion_imigue.py',
    './_base_/ctrgcn_backbone.py'
]
model = dict(
    backbone=dict(
        _base_.ctrgcn_backbone, graph_cfg=_base_.model.backbone.graph_cfg))
