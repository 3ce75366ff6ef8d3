# semi10_upper59_joint_imigue.py at toy size: the toy linear probe with the
# encoder unfrozen and trained on a seeded 10% of the toy training clips.
_base_ = ['./linear_probe_upper59_joint_toy.py']
model = dict(backbone=dict(frozen=False))
train_dataloader = dict(
    batch_size=8, dataset=dict(labelled_fraction=0.1, subset_seed=0))
optim_wrapper = dict(
    paramwise_cfg=dict(custom_keys=dict(backbone=dict(lr_mult=0.1))))
