# Semi-supervised fine-tuning (iMiGUE-3K protocol 2): the pre-trained
# encoder and a linear head trained end to end on a seeded 10% of the
# iMiGUE training clips (which may miss rare classes, as in the paper); the
# encoder learns at a tenth of the head's rate.
_base_ = ['./linear_probe_upper59_joint_imigue.py']
model = dict(backbone=dict(frozen=False))
train_dataloader = dict(
    batch_size=32, dataset=dict(labelled_fraction=0.1, subset_seed=0))
optim_wrapper = dict(
    paramwise_cfg=dict(custom_keys=dict(backbone=dict(lr_mult=0.1))))
auto_scale_lr = dict(base_batch_size=32)
