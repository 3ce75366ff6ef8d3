from .heatmap_preprocessor import HeatmapDataPreprocessor
from .multimodal_heatmap_preprocessor import MultiModalHeatmapDataPreprocessor

# The loader half of device rendering: registers PackPoseKeypoints with the
# preprocessors that read what it packs.
from mmmg.utils import gpu_render  # noqa: F401,E402  isort:skip

__all__ = ['HeatmapDataPreprocessor', 'MultiModalHeatmapDataPreprocessor']
