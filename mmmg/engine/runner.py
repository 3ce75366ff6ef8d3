"""A Runner that works on torch >= 2.6 checkpoints and on CPU-only nodes.

Two things of the stock mmengine 0.10.7 Runner break on the stack mmmg
targets, and both are fixed here by subclassing, never by patching:

* ``torch.load`` defaults to ``weights_only=True`` since torch 2.6 and rejects
  the ``HistoryBuffer`` and numpy objects that the runner itself writes into
  checkpoints, so ``--resume`` fails. Loading happens inside
  :func:`checkpoint_safe_globals`, which allow-lists exactly those types for
  the duration of the load (arbitrary pickled code stays rejected); so do
  ``Pretrained`` weight initialisations.
* The ``pytorch``/``slurm`` launchers call ``torch.cuda.set_device`` and the
  default DDP wrapper passes ``device_ids``; on a machine without GPUs the
  process group is set up on gloo instead and DDP wraps the CPU module.
"""
import os
import pickle
import subprocess

import numpy as np
import torch
import torch.distributed as torch_dist
from mmengine.dist import is_distributed
from mmengine.logging.history_buffer import HistoryBuffer
from mmengine.runner import Runner

from mmaction.registry import RUNNERS


def _numpy_checkpoint_types() -> list:
    """Numpy callables and types that pickled scalars/arrays refer to."""
    core = getattr(np, '_core', None) or np.core
    types = [np.ndarray, np.dtype, core.multiarray._reconstruct,
             core.multiarray.scalar]
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
    return torch.serialization.safe_globals(
        [HistoryBuffer, (_history_buffer_getattr, 'builtins.getattr'),
         (_history_buffer_getattr, '__builtin__.getattr')] +
        _numpy_checkpoint_types())


def init_cpu_dist(launcher: str, backend: str = 'gloo') -> None:
    """Initialise ``torch.distributed`` from launcher environment variables
    without touching CUDA.

    Args:
        launcher: ``'pytorch'`` (torchrun variables) or ``'slurm'``.
        backend: Process-group backend; only gloo runs on CPU.
    """
    if launcher == 'slurm':
        # Mirror mmengine's slurm launcher: derive torchrun variables from
        # the SLURM allocation.
        proc_id = int(os.environ['SLURM_PROCID'])
        ntasks = int(os.environ['SLURM_NTASKS'])
        node_list = os.environ['SLURM_NODELIST']
        addr = subprocess.getoutput(
            f'scontrol show hostname {node_list} | head -n1')
        os.environ.setdefault('MASTER_ADDR', addr)
        os.environ.setdefault('MASTER_PORT', '29500')
        os.environ['WORLD_SIZE'] = str(ntasks)
        os.environ['RANK'] = str(proc_id)
        os.environ['LOCAL_RANK'] = os.environ.get('SLURM_LOCALID', '0')
    elif launcher != 'pytorch':
        raise ValueError(f'launcher {launcher!r} is not supported on CPU; '
                         "use 'pytorch' (torchrun) or 'slurm'")
    torch_dist.init_process_group(
        backend=backend,
        rank=int(os.environ['RANK']),
        world_size=int(os.environ['WORLD_SIZE']))


@RUNNERS.register_module()
class MGRunner(Runner):
    """mmengine ``Runner`` with checkpoint loading that works on torch >= 2.6
    and distributed training/testing on CPU-only machines (gloo).

    On CUDA machines the distributed path is the stock one (NCCL by default,
    as set in ``env_cfg.dist_cfg``).
    """

    def setup_env(self, env_cfg: dict) -> None:
        if (self.distributed and not is_distributed()
                and not torch.cuda.is_available()):
            init_cpu_dist(self.launcher)
        super().setup_env(env_cfg)

    def wrap_model(self, model_wrapper_cfg, model):
        if self.distributed and not torch.cuda.is_available():
            # DDP must get device_ids=None for a CPU module.
            model_wrapper_cfg = dict(model_wrapper_cfg or {})
            model_wrapper_cfg.setdefault('type', 'MMDistributedDataParallel')
            model_wrapper_cfg.setdefault('broadcast_buffers', False)
            model_wrapper_cfg.setdefault(
                'find_unused_parameters',
                self.cfg.get('find_unused_parameters', False))
            model_wrapper_cfg['device_ids'] = None
        return super().wrap_model(model_wrapper_cfg, model)

    def load_checkpoint(self, filename, *args, **kwargs):
        with checkpoint_safe_globals():
            return super().load_checkpoint(filename, *args, **kwargs)

    def _init_model_weights(self) -> None:
        # ``init_cfg=dict(type='Pretrained', ...)`` loads mmengine
        # checkpoints too (a pre-trained encoder for fine-tuning).
        with checkpoint_safe_globals():
            super()._init_model_weights()


def shutdown_dist() -> None:
    """Leave the process group once a distributed run is done.

    A torchrun child that exits with the gloo process group still alive
    can abort in its C++ destructors ("terminate called without an active
    exception"), which torchrun reports as a failed run after a finished
    one; tearing the group down first exits cleanly.
    """
    if torch_dist.is_available() and torch_dist.is_initialized():
        torch_dist.barrier()
        torch_dist.destroy_process_group()
