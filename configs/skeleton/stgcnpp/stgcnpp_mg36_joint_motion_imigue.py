# ST-GCN++ on the MG36 joint motion stream of iMiGUE ('jm' of MMAction2's
# GenSkeFeat, with MG36's bones); otherwise the joint recipe.
_base_ = ['./stgcnpp_mg36_joint_imigue.py']
from mmmg.utils.pipelines import update_stream

feats = ['jm']
(train_pipeline, val_pipeline, test_pipeline, train_dataloader, val_dataloader,
 test_dataloader) = update_stream(
     _base_, LayoutSkeletonFeatures=dict(feats=feats))
