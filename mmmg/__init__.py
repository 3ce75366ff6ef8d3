"""mmmg: micro-gesture recognition on MMAction2.

Importing the package registers its datasets, transforms, models, metrics and
runner into MMAction2's registries; configs load it with
``custom_imports=dict(imports=['mmmg'], allow_failed_imports=False)``.
"""
from . import datasets, engine, evaluation, models  # noqa: F401
from .version import __version__

__all__ = ['__version__']
