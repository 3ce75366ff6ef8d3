# rgbposec3d_mg36_joint_imigue.py with the pose maps drawn on the model's
# device: the loader ships RGB frames and keypoints, and
# MultiModalHeatmapDataPreprocessor draws the same maps in batch
# (docs/recipes.md).
_base_ = ['./rgbposec3d_mg36_joint_imigue.py']
from mmmg.utils.gpu_render import render_on_device

model, train_dataloader, val_dataloader, test_dataloader = render_on_device(
    _base_)
