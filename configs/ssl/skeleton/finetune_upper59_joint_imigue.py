# Full fine-tuning (iMiGUE-3K protocol 3): the pre-trained encoder and a
# linear head trained end to end on all iMiGUE training clips; the encoder
# learns at a tenth of the head's rate.
_base_ = ['./linear_probe_upper59_joint_imigue.py']
model = dict(backbone=dict(frozen=False))
optim_wrapper = dict(
    paramwise_cfg=dict(custom_keys=dict(backbone=dict(lr_mult=0.1))))
