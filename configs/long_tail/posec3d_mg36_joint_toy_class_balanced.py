# The toy PoseConv3D joint stream with class-balanced resampling instead of
# loss weights: a clip of class c (n_c training clips) is drawn with weight
# n_c^-power, so classes are drawn in proportion to n_c^(1 - power)
# (0 natural, 0.5 square root, 1 class-uniform), as PYSKL's
# ClassSpecificDistributedSampler did for 0.x. Each epoch keeps the training
# set's length.
_base_ = ['../skeleton/posec3d/posec3d_slowonly_mg36_joint_toy.py']

train_dataloader = dict(
    sampler=dict(_delete_=True, type='ClassBalancedSampler', power=0.5))
