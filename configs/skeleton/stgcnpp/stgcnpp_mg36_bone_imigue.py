# ST-GCN++ on the MG36 bone stream of iMiGUE ('b' of MMAction2's
# GenSkeFeat, with MG36's bones); otherwise the joint recipe.
_base_ = ['./stgcnpp_mg36_joint_imigue.py']
from mmmg.utils.pipelines import update_transforms

feats = ['b']
stream = dict(LayoutSkeletonFeatures=dict(feats=feats))
# The top-level pipelines too: MMAction2's inference API reads test_pipeline.
train_pipeline = update_transforms(_base_.train_pipeline, **stream)
val_pipeline = update_transforms(_base_.val_pipeline, **stream)
test_pipeline = update_transforms(_base_.test_pipeline, **stream)
train_dataloader = dict(dataset=dict(dataset=dict(pipeline=train_pipeline)))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
