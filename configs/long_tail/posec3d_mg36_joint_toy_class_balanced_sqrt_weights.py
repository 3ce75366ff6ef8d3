# The toy PoseConv3D joint stream with both long-tail remedies: square-root
# class weights in the loss (posec3d_mg36_joint_toy_sqrt_weights.py) and
# square-root class-balanced resampling of the training set
# (posec3d_mg36_joint_toy_class_balanced.py). Together a class's share of
# the loss becomes about uniform (sqrt(n_c) draws x n_c^-1/2 weight).
# mmengine refuses two bases that define the same keys, so the sampler of
# the class-balanced config is restated here (a test checks they agree).
_base_ = ['./posec3d_mg36_joint_toy_sqrt_weights.py']

train_dataloader = dict(
    sampler=dict(_delete_=True, type='ClassBalancedSampler', power=0.5))
