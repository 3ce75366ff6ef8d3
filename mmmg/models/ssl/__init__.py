"""Self-supervised pre-training: VideoMAE-style masked video modelling and
USDRL-style skeleton feature decorrelation."""
from .mae_checkpoint import select_prefix
from .mae_decoder import VideoMAEDecoder
from .mae_targets import (patchify, teacher_feature_targets,
                          tubelet_pixel_targets, unnormalize)
from .skeleton_decorrelation import SkeletonDecorrelationPretrainer
from .tube_masking import TubeMaskGenerator, num_masked_per_slice, tube_mask
from .video_mae import VideoMAEPretrainer, count_tokens
from .vit_encoder import (VisionTransformerCP, embed_tokens, run_blocks,
                          token_grid)

__all__ = [
    'SkeletonDecorrelationPretrainer', 'TubeMaskGenerator', 'VideoMAEDecoder',
    'VideoMAEPretrainer', 'VisionTransformerCP', 'count_tokens',
    'embed_tokens', 'num_masked_per_slice', 'patchify', 'run_blocks',
    'select_prefix', 'teacher_feature_targets', 'token_grid', 'tube_mask',
    'tubelet_pixel_targets', 'unnormalize'
]
