"""A training run killed mid-epoch and resumed equals the uninterrupted run
(same weights, same loss curve), through tools/train.py."""
import glob
import json
import os.path as osp
import signal

import pytest
import torch

from mmmg.engine import checkpoint_safe_globals
from ..conftest import TOY_CONFIG, train_toy_joint


def _losses(work_dir):
    """``{iteration: loss}`` of each run in ``work_dir``, oldest first."""
    runs = []
    for scalars in sorted(
            glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))):
        with open(scalars) as f:
            runs.append({
                row['iter']: row['loss']
                for row in map(json.loads, f) if 'loss' in row
            })
    return runs


def _weights(path):
    with checkpoint_safe_globals():
        return torch.load(path, map_location='cpu')['state_dict']


@pytest.mark.slow
def test_killed_and_resumed_run_equals_uninterrupted(tiny_pose_ann,
                                                     toy_joint_run, tmp_path):
    # The uninterrupted run is the session's shared toy run: same command.
    killing = tmp_path / 'killing.py'
    killing.write_text(
        f'_base_ = [{TOY_CONFIG!r}]\n'
        "custom_imports = dict(imports=['mmmg', "
        "'tests.engine.interrupt_hook'], allow_failed_imports=False)\n"
        'custom_hooks = [dict(type="KillMidEpochHook", epoch=1, '
        'iter_in_epoch=2)]\n')
    work_dir = tmp_path / 'resumed'
    killed = train_toy_joint(work_dir, tiny_pose_ann, config=str(killing))
    assert killed.returncode == -signal.SIGKILL
    assert osp.exists(work_dir / 'epoch_1.pth')
    assert not osp.exists(work_dir / 'epoch_2.pth')

    resumed = train_toy_joint(work_dir, tiny_pose_ann, '--resume')
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert 'resumed epoch: 1' in resumed.stdout + resumed.stderr

    [expected] = _losses(toy_joint_run)
    before, after = _losses(work_dir)
    # 6 iterations an epoch: the killed run logged epoch 1 and 2 iterations
    # of epoch 2, the resumed one epoch 2.
    assert sorted(before) == list(range(1, 9))
    assert sorted(after) == list(range(7, 13))
    assert {**before, **after} == expected
    want, have = (_weights(osp.join(toy_joint_run, 'epoch_2.pth')),
                  _weights(work_dir / 'epoch_2.pth'))
    assert want.keys() == have.keys()
    for key in want:
        assert torch.equal(want[key], have[key]), key
