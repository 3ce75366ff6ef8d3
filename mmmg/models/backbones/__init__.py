from .ctrgcn import CTRGCN
from .skeleton_transformer import (DualStreamSkeletonTransformer,
                                   sinusoidal_positions)

__all__ = ['CTRGCN', 'DualStreamSkeletonTransformer', 'sinusoidal_positions']
