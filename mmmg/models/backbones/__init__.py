from .skeleton_transformer import (DualStreamSkeletonTransformer,
                                   sinusoidal_positions)

__all__ = ['DualStreamSkeletonTransformer', 'sinusoidal_positions']
