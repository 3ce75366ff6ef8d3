# The motion stream of usdrl_upper59_joint_pretrain_interviews.py.
_base_ = ['./usdrl_upper59_joint_pretrain_interviews.py']
model = dict(backbone=dict(stream='motion'))
