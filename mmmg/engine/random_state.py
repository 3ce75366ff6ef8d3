"""Random state that makes a resumed run equal to an uninterrupted one."""
import random
from typing import Optional

import numpy as np
import torch
from mmaction.registry import HOOKS
from mmengine.hooks import Hook


def capture_random_state(sampler=None) -> dict:
    """Python, numpy and torch (CPU and CUDA) generator states, and the
    seed of a ``DefaultSampler`` (its order is ``seed + epoch``)."""
    state = dict(
        python=random.getstate(),
        numpy=np.random.get_state(),
        torch=torch.get_rng_state())
    if torch.cuda.is_available():
        state['cuda'] = torch.cuda.get_rng_state_all()
    if getattr(sampler, 'seed', None) is not None:
        state['sampler_seed'] = sampler.seed
    return state


def restore_random_state(state: dict, sampler=None) -> None:
    """Undo everything drawn since :func:`capture_random_state`."""
    random.setstate(state['python'])
    np.random.set_state(state['numpy'])
    torch.set_rng_state(state['torch'])
    if 'cuda' in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state['cuda'])
    if 'sampler_seed' in state and hasattr(sampler, 'seed'):
        sampler.seed = state['sampler_seed']


def train_sampler(runner):
    """The sampler of the runner's training loader, once built."""
    loop = getattr(runner, '_train_loop', None)
    loader = getattr(loop, 'dataloader', None)
    return getattr(loader, 'sampler', None)


@HOOKS.register_module()
class RandomStateHook(Hook):
    """Save the random state in every checkpoint and keep validation from
    drawing on the training generators.

    A checkpoint is written at the end of a training epoch, before that
    epoch's validation; validation draws random numbers (and MMAction2's
    test-mode frame sampler reseeds numpy), so without isolation the next
    epoch would depend on whether the run was resumed. :class:`MGRunner`
    restores the saved state on resume, so a run killed mid-epoch and
    resumed reaches the same weights as one never stopped (exact with
    ``num_workers=0`` or non-persistent workers, whose seeds are fixed).
    """
    priority = 'VERY_HIGH'

    def __init__(self) -> None:
        self._train_state: Optional[dict] = None

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        # CheckpointHook also saves during validation (``save_best``): keep
        # the state training goes on with, not validation's.
        checkpoint['rng_state'] = self._train_state or capture_random_state(
            train_sampler(runner))

    def before_val(self, runner) -> None:
        self._train_state = capture_random_state(train_sampler(runner))

    def after_val(self, runner) -> None:
        if self._train_state is not None:
            restore_random_state(self._train_state)
            self._train_state = None
