from .layouts import LAYOUTS, KeypointLayout, get_layout

__all__ = ['KeypointLayout', 'LAYOUTS', 'get_layout']
