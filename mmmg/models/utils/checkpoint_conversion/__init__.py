"""Released checkpoints of other code bases as MMAction2 1.x checkpoints
for our configs (``tools/convert_checkpoint.py``, ``docs/checkpoints.md``).
One module per source layout."""
from .layout import (ConversionError, ConversionReport, Layout, Rule,
                     convert_state_dict, detect_layout, strip_wrapper)
from .pyskl import PYSKL_POSEC3D, PYSKL_RGBPOSECONV3D
from .swin import MMACTION0X_SWIN, MMACTION1X_SWIN
from .videomae import MMMG_VIDEOMAE, VIDEOMAE_FINETUNE, VIDEOMAE_PRETRAIN

LAYOUTS = {
    layout.name: layout
    for layout in (PYSKL_POSEC3D, PYSKL_RGBPOSECONV3D, MMACTION0X_SWIN,
                   MMACTION1X_SWIN, VIDEOMAE_FINETUNE, VIDEOMAE_PRETRAIN,
                   MMMG_VIDEOMAE)
}

__all__ = [
    'ConversionError', 'ConversionReport', 'LAYOUTS', 'Layout', 'Rule',
    'convert_state_dict', 'detect_layout', 'strip_wrapper'
]
