"""Make the MMAction2 1.2.0 that pip serves importable.

Two of its model packages break ``import mmaction.models`` for reasons
unrelated to mmmg:

- its wheel and sdist lack ``mmaction/models/localizers/drn`` while
  ``localizers/__init__.py`` still imports ``.drn.drn.DRN``
  (open-mmlab/mmaction2 #2714; the fix, PR #2721, is unmerged);
- whenever transformers is installed it imports its VindLU models, written
  for transformers 4 (``transformers.modeling_utils.
  apply_chunking_to_forward`` is gone in 5).

:func:`stub_broken_models` registers stand-in modules for exactly those
packages, before MMAction2 is imported, and only where they would fail;
nothing installed is edited. mmmg uses neither model: DRN's stand-in raises
when built, and the VindLU models are simply not registered.

This module needs the standard library only.
"""
import importlib.metadata
import importlib.util
import os.path as osp
import sys
import types

_DRN = 'mmaction.models.localizers.drn'
_VINDLU = 'mmaction.models.multimodal.vindlu'


class MissingDRN:
    """Stands in for DRN, which this MMAction2 install lacks."""

    def __init__(self, *args, **kwargs) -> None:
        raise ImportError(
            'DRN is missing from this MMAction2 install (the 1.2.0 wheel '
            'lacks mmaction/models/localizers/drn); install MMAction2 from '
            'source to use it')


def _mmaction_root():
    try:
        spec = importlib.util.find_spec('mmaction')
    except (ImportError, ValueError):  # e.g. a test that blocks it
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return list(spec.submodule_search_locations)[0]


def _imports(path: str, text: str) -> bool:
    if not osp.isfile(path):
        return False
    with open(path, encoding='utf-8') as f:
        return text in f.read()


def stub_missing_drn() -> bool:
    """Register stand-ins for MMAction2's missing DRN package, if missing.

    Returns:
        bool: Whether stand-ins were registered.
    """
    root = _mmaction_root()
    if _DRN in sys.modules or root is None:
        return False
    localizers = osp.join(root, 'models', 'localizers')
    if osp.isdir(osp.join(localizers, 'drn')) or not _imports(
            osp.join(localizers, '__init__.py'), 'from .drn'):
        return False
    package = types.ModuleType(_DRN)
    package.__path__ = []
    module = types.ModuleType(f'{_DRN}.drn')
    module.DRN = MissingDRN
    package.drn = module
    sys.modules[_DRN] = package
    sys.modules[f'{_DRN}.drn'] = module
    return True


def stub_incompatible_vindlu() -> bool:
    """Register an empty stand-in for MMAction2's VindLU package where it
    would be imported with a transformers it cannot import (>= 5).

    Returns:
        bool: Whether the stand-in was registered.
    """
    root = _mmaction_root()
    if _VINDLU in sys.modules or root is None or not _imports(
            osp.join(root, 'models', 'multimodal', '__init__.py'),
            'from .vindlu'):
        return False
    try:
        major = int(importlib.metadata.version('transformers').split('.')[0])
    except (importlib.metadata.PackageNotFoundError, ValueError):
        return False  # without transformers MMAction2 skips VindLU itself
    if major < 5:
        return False
    package = types.ModuleType(_VINDLU)
    package.__path__ = []
    package.__all__ = []
    sys.modules[_VINDLU] = package
    return True


def stub_broken_models() -> None:
    """Both stand-ins, where needed (see the module docstring)."""
    stub_missing_drn()
    stub_incompatible_vindlu()
