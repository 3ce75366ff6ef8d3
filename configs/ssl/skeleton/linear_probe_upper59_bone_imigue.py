# The bone stream of linear_probe_upper59_joint_imigue.py, on the encoder of
# usdrl_upper59_bone_pretrain_interviews.py.
_base_ = ['./linear_probe_upper59_joint_imigue.py']
model = dict(
    backbone=dict(
        stream='bone',
        init_cfg=dict(
            checkpoint='work_dirs/usdrl_upper59_bone_pretrain_interviews/'
            'epoch_300.pth')))
