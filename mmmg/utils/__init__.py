from .config import (add_common_args, enable_amp, load_config, read_config,
                     use_pseudo_labels)
from .io import atomic_open

__all__ = ['add_common_args', 'atomic_open', 'enable_amp', 'load_config',
           'read_config', 'use_pseudo_labels']
