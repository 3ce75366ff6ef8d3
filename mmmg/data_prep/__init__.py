"""Dataset preparation: converters of official releases and toy data."""
from .toy_imigue import (TOY_PRESETS, ToyImigueConfig, make_toy_imigue,
                         plan_toy_imigue, synthesize_video)

__all__ = [
    'TOY_PRESETS', 'ToyImigueConfig', 'make_toy_imigue', 'plan_toy_imigue',
    'synthesize_video'
]
