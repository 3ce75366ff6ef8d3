"""mmmg: micro-gesture recognition on MMAction2.

Importing the package inside an MMEngine process registers its datasets,
transforms, models, metrics and runner into MMAction2's registries; configs
load it with ``custom_imports=dict(imports=['mmmg'],
allow_failed_imports=False)``, which imports it after MMEngine. A script that
imports ``mmmg`` before MMEngine or MMAction2 calls
:func:`register_all_modules` itself. Without MMEngine loaded, ``import mmmg``
stays numpy-only, so score fusion and the other numpy tools never pull in
torch.
"""
import sys

from .utils.cli import quiet_mmcv_lite
from .utils.mmaction_compat import stub_broken_models
from .version import __version__

# Before any mmmg module can import mmcv.cnn: MMCV-lite's expected warning
# about the one compiled op no mmmg model uses.
quiet_mmcv_lite()
# Before any mmmg module can import mmaction.models (MMAction2 1.2.0).
stub_broken_models()


def register_all_modules() -> None:
    """Register every mmmg module into MMAction2's registries (idempotent)."""
    from . import datasets, emotion, engine, models  # noqa: F401
    from .evaluation import metrics  # noqa: F401


if 'mmengine' in sys.modules:
    register_all_modules()

__all__ = ['__version__', 'register_all_modules']
