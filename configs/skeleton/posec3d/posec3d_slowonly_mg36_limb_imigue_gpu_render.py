# posec3d_slowonly_mg36_limb_imigue.py with the heatmaps drawn on the
# model's device: the loader ships keypoints (a few KB a sample
# instead of MBs of maps) and HeatmapDataPreprocessor draws the
# same maps in batch (docs/recipes.md).
_base_ = ['./posec3d_slowonly_mg36_limb_imigue.py']
from mmmg.utils.gpu_render import render_on_device

model, train_dataloader, val_dataloader, test_dataloader = render_on_device(
    _base_)
