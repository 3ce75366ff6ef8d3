"""sharding: --shard, torchrun and SLURM arrays split videos disjointly."""
import pytest

from mmmg.pose_extraction.sharding import (local_device, parse_shard,
                                           resolve_shard, select_shard,
                                           shard_from_env)


def test_parse_shard():
    assert parse_shard('0/4') == (0, 4)
    assert parse_shard('3/4') == (3, 4)
    for bad in ('4/4', '-1/2', '1', 'a/b', '1/0'):
        with pytest.raises(ValueError, match='i/n'):
            parse_shard(bad)


def test_launcher_variables_in_order_of_precedence():
    assert shard_from_env({}) is None
    assert shard_from_env({
        'RANK': '2',
        'WORLD_SIZE': '4',
        'SLURM_ARRAY_TASK_ID': '1',
        'SLURM_ARRAY_TASK_COUNT': '3'
    }) == (2, 4, 'torchrun')
    # Arrays starting at 1 (--array=1-3) give shards 0..2.
    assert shard_from_env({
        'SLURM_ARRAY_TASK_ID': '3',
        'SLURM_ARRAY_TASK_MIN': '1',
        'SLURM_ARRAY_TASK_COUNT': '3'
    })[:2] == (2, 3)
    assert shard_from_env({'SLURM_PROCID': '1', 'SLURM_NTASKS': '2'})[:2] \
        == (1, 2)
    with pytest.raises(ValueError, match='out of range'):
        shard_from_env({
            'SLURM_ARRAY_TASK_ID': '3',
            'SLURM_ARRAY_TASK_COUNT': '3'
        })
    with pytest.raises(ValueError, match='RANK'):
        shard_from_env({'RANK': 'x', 'WORLD_SIZE': '2'})
    # --shard wins over the environment.
    assert resolve_shard('1/2', {
        'RANK': '0',
        'WORLD_SIZE': '4'
    }) == (1, 2, '--shard')
    assert resolve_shard(None, {}) == (0, 1, 'single process')


def test_shards_are_disjoint_and_cover_everything():
    items = [f'v{i}' for i in range(11)]
    shards = [select_shard(items, i, 3) for i in range(3)]
    assert sorted(sum(shards, [])) == sorted(items)
    assert sum(len(s) for s in shards) == len(items)
    assert max(map(len, shards)) - min(map(len, shards)) <= 1


def test_local_device():
    assert local_device('cuda', {'LOCAL_RANK': '3'}) == 'cuda:3'
    assert local_device('cuda', {}) == 'cuda'
    assert local_device('cuda:1', {'LOCAL_RANK': '3'}) == 'cuda:1'
    assert local_device('cpu', {'LOCAL_RANK': '3'}) == 'cpu'
