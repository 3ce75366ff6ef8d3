# ST-GCN++ on the MG36 bone stream of iMiGUE ('b' of MMAction2's
# GenSkeFeat, with MG36's bones); otherwise the joint recipe.
_base_ = ['./stgcnpp_mg36_joint_imigue.py']
from mmmg.utils.pipelines import update_stream

feats = ['b']
(train_pipeline, val_pipeline, test_pipeline, train_dataloader, val_dataloader,
 test_dataloader) = update_stream(
     _base_, LayoutSkeletonFeatures=dict(feats=feats))
