"""Spread a video set over processes, GPUs and nodes.

Every process plans the same sorted job list and takes every ``n``-th job
from its index ``i`` (``jobs[i::n]``), so shards are disjoint, cover all
videos and need no coordination. Sharding happens before finished videos
are skipped, so a rerun gives each shard the same videos.

The shard comes from, in this order:

1. ``--shard i/n`` (0-based ``i``);
2. torchrun / ``torch.distributed`` launchers: ``RANK`` and ``WORLD_SIZE``;
3. SLURM job arrays: ``SLURM_ARRAY_TASK_ID`` (minus
   ``SLURM_ARRAY_TASK_MIN``, so arrays may start at 1) and
   ``SLURM_ARRAY_TASK_COUNT``;
4. several SLURM tasks of one step (``srun --ntasks``): ``SLURM_PROCID``
   and ``SLURM_NTASKS``;
5. otherwise one shard, ``0/1``.

On a GPU node launched by torchrun, ``LOCAL_RANK`` picks the GPU
(:func:`local_device`).
"""
import os
from typing import Mapping, Optional, Sequence, Tuple, TypeVar

T = TypeVar('T')
Shard = Tuple[int, int]


def parse_shard(text: str) -> Shard:
    """``'i/n'`` as ``(i, n)`` with ``0 <= i < n``.

    Raises:
        ValueError: Not of that form.
    """
    index, sep, count = text.partition('/')
    try:
        i, n = int(index), int(count)
    except ValueError:
        i, n = -1, 0
    if not sep or not 0 <= i < n:
        raise ValueError(f'shard {text!r} is not "i/n" with 0 <= i < n '
                         '(e.g. 0/4 for the first of four)')
    return i, n


def _env_int(env: Mapping[str, str], name: str) -> int:
    try:
        return int(env[name])
    except ValueError:
        raise ValueError(f'environment variable {name}={env[name]!r} is '
                         'not an integer') from None


def _checked(index: int, count: int, source: str) -> Shard:
    if not 0 <= index < count:
        raise ValueError(f'shard {index}/{count} from {source} is out of '
                         'range')
    return index, count


def shard_from_env(env: Optional[Mapping[str, str]] = None
                   ) -> Optional[Tuple[int, int, str]]:
    """The shard a launcher assigned, as ``(i, n, source)``, or None."""
    env = os.environ if env is None else env
    if 'WORLD_SIZE' in env and 'RANK' in env:
        return _checked(
            _env_int(env, 'RANK'), _env_int(env, 'WORLD_SIZE'),
            'RANK/WORLD_SIZE') + ('torchrun', )
    if 'SLURM_ARRAY_TASK_ID' in env and 'SLURM_ARRAY_TASK_COUNT' in env:
        first = _env_int(env, 'SLURM_ARRAY_TASK_MIN') \
            if 'SLURM_ARRAY_TASK_MIN' in env else 0
        return _checked(
            _env_int(env, 'SLURM_ARRAY_TASK_ID') - first,
            _env_int(env, 'SLURM_ARRAY_TASK_COUNT'),
            'SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT') + ('slurm array', )
    if 'SLURM_PROCID' in env and 'SLURM_NTASKS' in env:
        return _checked(
            _env_int(env, 'SLURM_PROCID'), _env_int(env, 'SLURM_NTASKS'),
            'SLURM_PROCID/SLURM_NTASKS') + ('slurm tasks', )
    return None


def resolve_shard(shard: Optional[str] = None,
                  env: Optional[Mapping[str,
                                        str]] = None) -> Tuple[int, int, str]:
    """The shard of this process: ``--shard``, else the launcher's, else 0/1.

    Returns:
        tuple[int, int, str]: Index, count and where they came from.
    """
    if shard:
        return parse_shard(shard) + ('--shard', )
    return shard_from_env(env) or (0, 1, 'single process')


def select_shard(items: Sequence[T], index: int, count: int) -> list:
    """Items ``index, index + count, ...``: disjoint shards covering all."""
    _checked(index, count, 'the arguments')
    return list(items[index::count])


def local_device(device: str, env: Optional[Mapping[str, str]] = None) -> str:
    """``'cuda'`` made ``'cuda:LOCAL_RANK'`` under a launcher; else as is."""
    env = os.environ if env is None else env
    if device == 'cuda' and 'LOCAL_RANK' in env:
        return f'cuda:{_env_int(env, "LOCAL_RANK")}'
    return device
