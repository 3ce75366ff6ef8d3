"""Helpers with no dependency beyond numpy; the torch/MMEngine-side config
helpers live in :mod:`mmmg.utils.config`."""
from .io import atomic_open

__all__ = ['atomic_open']
