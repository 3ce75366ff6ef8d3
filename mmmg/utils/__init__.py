from .config import add_common_args, enable_amp, load_config, read_config

__all__ = ['add_common_args', 'enable_amp', 'load_config', 'read_config']
