# ST-GCN++ on the MG36 bone motion stream of iMiGUE ('bm' of MMAction2's
# GenSkeFeat, with MG36's bones); otherwise the joint recipe.
_base_ = ['./stgcnpp_mg36_joint_imigue.py']
from mmmg.utils.pipelines import update_transforms

feats = ['bm']
change = dict(LayoutSkeletonFeatures=dict(feats=feats))
train_dataloader = dict(
    dataset=dict(
        dataset=dict(
            pipeline=update_transforms(
                _base_.train_dataloader.dataset.dataset.pipeline, **change))))
val_dataloader = dict(
    dataset=dict(
        pipeline=update_transforms(_base_.val_dataloader.dataset.pipeline, **
                                   change)))
test_dataloader = dict(
    dataset=dict(
        pipeline=update_transforms(_base_.test_dataloader.dataset.pipeline, **
                                   change)))
