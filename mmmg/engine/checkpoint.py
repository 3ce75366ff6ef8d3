"""Reading checkpoints safely, and refusing ones that do not fit the model.

* ``torch.load`` defaults to ``weights_only=True`` since torch 2.6 and rejects
  the ``HistoryBuffer`` and numpy objects that the runner itself writes into
  checkpoints. Loading happens inside :func:`checkpoint_safe_globals`, which
  allow-lists exactly those types for the duration of the load (arbitrary
  pickled code stays rejected).
* A checkpoint whose keys or shapes differ from the model is refused
  (mmengine would load what fits, log the rest and go on with freshly
  initialised layers), unless the differing keys are allowed explicitly.
* An unreadable file is one clear error; torch's advice to set
  ``weights_only=False`` is not repeated: it would run the file's code.
"""
import fnmatch
import glob
import logging
import os.path as osp
import pickle
import re
import zipfile
from typing import List, Optional, Sequence

import numpy as np
import torch
from mmengine.logging import HistoryBuffer, print_log
from mmengine.runner.checkpoint import _load_checkpoint

from ..utils.cli import ToolError


def _numpy_checkpoint_types() -> list:
    """Numpy callables and types that pickled scalars/arrays refer to."""
    core = getattr(np, '_core', None) or np.core
    types = [
        np.ndarray, np.dtype, core.multiarray._reconstruct,
        core.multiarray.scalar
    ]
    # numpy >= 1.25 pickles dtypes as instances of per-type classes.
    types += [type(np.dtype(t)) for t in np.sctypeDict.values()]
    return types


def _history_buffer_getattr(obj, name):
    """Stand-in for ``getattr`` while unpickling.

    A ``HistoryBuffer`` pickles its statistics methods as
    ``getattr(HistoryBuffer, 'mean')``; allowing the real ``getattr`` would
    let a checkpoint reach any attribute, so only those lookups pass.
    """
    public_method = (not name.startswith('_')
                     and callable(vars(HistoryBuffer).get(name)))
    if obj is HistoryBuffer and public_method:
        return getattr(obj, name)
    raise pickle.UnpicklingError(
        f'checkpoint asks for getattr({obj!r}, {name!r}), which mmmg does '
        'not allow while loading')


def checkpoint_safe_globals():
    """Context manager allow-listing the objects mmengine saves in a
    checkpoint, for ``torch.load(weights_only=True)``."""
    return torch.serialization.safe_globals([
        HistoryBuffer, (_history_buffer_getattr, 'builtins.getattr'),
        (_history_buffer_getattr, '__builtin__.getattr')
    ] + _numpy_checkpoint_types())


def is_complete_checkpoint(path: str) -> bool:
    """Whether ``path`` is a whole zip-format torch file (a truncated one
    has no central directory); cheap, nothing is unpickled."""
    try:
        with zipfile.ZipFile(path):
            return True
    except (OSError, zipfile.BadZipFile):
        return False


def read_checkpoint(filename: str, map_location='cpu') -> dict:
    """Load a checkpoint; a missing, truncated or unsafe file is a
    :class:`ToolError` naming it."""
    local = '://' not in filename
    if local and not osp.isfile(filename):
        raise ToolError(f'checkpoint {filename!r} not found; check the path')
    try:
        with checkpoint_safe_globals():
            return _load_checkpoint(filename, map_location=map_location)
    except Exception as e:  # torch reports bad files in many ways
        if not local:
            raise
        error = e
    if not is_complete_checkpoint(filename):
        raise ToolError(
            f'{filename} is not a PyTorch checkpoint, or is truncated (not a '
            'complete zip archive); pass a .pth written by tools/train.py or '
            'torch.save, or copy it again') from error
    unsupported = re.search(r'Unsupported global: GLOBAL (\S+)', str(error))
    if unsupported:
        raise ToolError(
            f'{filename} holds Python objects besides weights '
            f'({unsupported.group(1)}), which mmmg does not unpickle because '
            'that could run code from the file; re-save its state_dict with '
            'torch.save where you trust it') from error
    reason = str(error).strip().split('\n')[0][:200]
    raise ToolError(f'{filename}: cannot read this checkpoint ({reason}); '
                    'pass a .pth written by tools/train.py') from error


def _some(keys: Sequence[str], most: int = 3) -> str:
    more = f', ... ({len(keys)} in all)' if len(keys) > most else ''
    return ', '.join(keys[:most]) + more


def check_checkpoint_fits(model: torch.nn.Module,
                          state_dict: dict,
                          source: str,
                          allow: Sequence[str] = (),
                          fix: str = '') -> List[str]:
    """Refuse a state dict whose keys or shapes differ from the model's.

    Args:
        model: The model to load into.
        state_dict: The checkpoint's weights, keys as the model's.
        source: The checkpoint, for messages.
        allow: ``fnmatch`` patterns of keys that may be missing,
            unexpected or of another shape (``'cls_head.*'``); ``'*'``
            allows all.
        fix: How to get past the error, appended to the message.

    Returns:
        The allowed differing keys, which stay as initialised (or unused).

    Raises:
        ToolError: A differing key outside ``allow``.
    """
    own = model.state_dict()
    mismatched = [
        f'{k} {tuple(v.shape)} vs {tuple(own[k].shape)}'
        for k, v in state_dict.items()
        if k in own and hasattr(v, 'shape') and v.shape != own[k].shape
    ]
    problems = dict(
        missing=sorted(set(own) - set(state_dict)),
        unexpected=sorted(set(state_dict) - set(own)),
        **{'of another shape (checkpoint vs model)': mismatched})
    allowed, refused = [], []
    for kind, keys in problems.items():
        keys_ok = [
            k for k in keys if any(
                fnmatch.fnmatchcase(k.split(' ')[0], p) for p in allow)
        ]
        allowed += keys_ok
        bad = [k for k in keys if k not in keys_ok]
        if bad:
            refused.append(f'{len(bad)} {kind}: {_some(bad)}')
    if refused:
        raise ToolError(f'{source} does not fit the model of this config: '
                        f'{"; ".join(refused)}; {fix}')
    if allowed:
        print_log(
            f'{source}: {len(allowed)} keys differ from the model and '
            f'are allowed (left as initialised): {_some(allowed, 10)}',
            logger='current',
            level=logging.WARNING)
    return allowed


def _checkpoint_number(path: str) -> int:
    digits = re.findall(r'\d+', osp.basename(path))
    return int(digits[-1]) if digits else -1


def latest_complete_checkpoint(work_dir: str) -> Optional[str]:
    """The newest checkpoint of ``work_dir`` that is complete.

    ``last_checkpoint`` names the newest; when that file was cut short (the
    run was killed while saving, the disk filled) the previous
    ``epoch_*.pth`` / ``iter_*.pth`` is taken, with a warning.
    """
    record = osp.join(work_dir, 'last_checkpoint')
    candidates = []
    if osp.isfile(record):
        with open(record) as f:
            candidates.append(f.read().strip())
    saved = glob.glob(osp.join(work_dir, 'epoch_*.pth')) + glob.glob(
        osp.join(work_dir, 'iter_*.pth'))
    candidates += sorted(saved, key=_checkpoint_number, reverse=True)
    for path in candidates:
        if is_complete_checkpoint(path):
            return path
        print_log(
            f'checkpoint {path} is truncated or unreadable; resuming '
            'from the previous one',
            logger='current',
            level=logging.WARNING)
    return None
