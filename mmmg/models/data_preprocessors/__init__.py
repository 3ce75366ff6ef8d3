from .heatmap_preprocessor import HeatmapDataPreprocessor
from .multimodal_heatmap_preprocessor import MultiModalHeatmapDataPreprocessor

__all__ = ['HeatmapDataPreprocessor', 'MultiModalHeatmapDataPreprocessor']
