from .heatmap_preprocessor import HeatmapDataPreprocessor

__all__ = ['HeatmapDataPreprocessor']
