# finetune_upper59_joint_imigue.py at toy size: the toy linear probe with the
# encoder unfrozen, learning at a tenth of the head's rate.
_base_ = ['./linear_probe_upper59_joint_toy.py']
model = dict(backbone=dict(frozen=False))
optim_wrapper = dict(
    paramwise_cfg=dict(custom_keys=dict(backbone=dict(lr_mult=0.1))))
