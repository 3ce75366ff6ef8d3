"""A Runner that works on torch >= 2.6 checkpoints and on CPU-only nodes,
refuses checkpoints that do not fit, and resumes exactly.

What the stock mmengine 0.10.7 Runner lacks is added by subclassing, never
by patching:

* Checkpoints load under ``torch.load(weights_only=True)`` with the types
  the runner itself saves allow-listed (:mod:`.checkpoint`); a checkpoint
  whose keys or shapes differ from the model is refused unless the config
  allows those keys (``allow_partial_keys``; a resume allows none), and
  ``--resume`` without a path skips a truncated latest checkpoint.
* Every checkpoint carries the random state, restored on resume
  (:class:`RandomStateHook`).
* The ``pytorch``/``slurm`` launchers call ``torch.cuda.set_device`` and the
  default DDP wrapper passes ``device_ids``; on a machine without GPUs the
  process group is set up on gloo instead and DDP wraps the CPU module.
"""
import os
import re
import subprocess

import torch
import torch.distributed as torch_dist
from mmaction.registry import RUNNERS
from mmengine.dist import is_distributed
from mmengine.model import is_model_wrapper
from mmengine.runner import Runner
from mmengine.runner.checkpoint import _load_checkpoint_to_model

from .checkpoint import (check_checkpoint_fits, checkpoint_safe_globals,
                         latest_complete_checkpoint, read_checkpoint)
from .random_state import RandomStateHook, restore_random_state, train_sampler

_REFIT = ("pass this config's own checkpoint, or allow the differing keys: "
          "allow_partial_keys=['cls_head.*'] in the config, or "
          '--allow-partial for all')
_REFIT_RESUME = ('resume from a checkpoint of this config (another work '
                 'dir?), or start afresh with load_from')


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
    """mmengine ``Runner`` with safe and strict checkpoint loading, exact
    resumes, and distributed training/testing on CPU-only machines (gloo).

    A checkpoint must fit the model: keys that may be missing, unexpected or
    of another shape in ``load_from`` are listed in the config as
    ``allow_partial_keys`` (``fnmatch`` patterns); a resume allows none.
    On CUDA machines the distributed path is the stock one (NCCL by default,
    as set in ``env_cfg.dist_cfg``).
    """
    # The random state of the checkpoint being resumed, restored once
    # mmengine's resume has reseeded.
    _resumed_random_state = None

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

    def register_hooks(self, default_hooks=None, custom_hooks=None) -> None:
        super().register_hooks(default_hooks, custom_hooks)
        self.register_hook(RandomStateHook())

    def load_or_resume(self) -> None:
        if self._resume and self._load_from is None and not self._has_loaded:
            self._load_from = latest_complete_checkpoint(self.work_dir)
            if self._load_from is None:
                self.logger.info(f'no checkpoint in {self.work_dir} to '
                                 'resume from; training from the start')
                self._resume = False
        super().load_or_resume()

    def load_checkpoint(self,
                        filename: str,
                        map_location='cpu',
                        strict: bool = False,
                        revise_keys: list = [(r'^module\.', '')]):
        """Load ``filename`` into the model if it fits (see
        :func:`check_checkpoint_fits`); ``strict`` allows no key even when
        the config does."""
        checkpoint = read_checkpoint(filename, map_location)
        self.call_hook('after_load_checkpoint', checkpoint=checkpoint)
        model = self.model.module if is_model_wrapper(self.model) \
            else self.model
        weights = checkpoint.get('state_dict', checkpoint)
        for pattern, replacement in revise_keys:
            weights = {
                re.sub(pattern, replacement, k): v
                for k, v in weights.items()
            }
        allow = () if strict or self._resume else \
            self.cfg.get('allow_partial_keys') or ()
        check_checkpoint_fits(model, weights, filename, allow,
                              _REFIT_RESUME if self._resume else _REFIT)
        _load_checkpoint_to_model(model, checkpoint, revise_keys=revise_keys)
        self._has_loaded = True
        self._resumed_random_state = checkpoint.get('rng_state')
        self.logger.info(f'Load checkpoint from {filename}')
        return checkpoint

    def resume(self, filename: str, *args, **kwargs) -> None:
        super().resume(filename, *args, **kwargs)
        if self._resumed_random_state is not None:
            restore_random_state(self._resumed_random_state,
                                 train_sampler(self))

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
