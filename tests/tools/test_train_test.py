"""tools/train.py, --resume, tools/test.py --dump and the dist scripts."""
import glob
import json
import os.path as osp
import pickle

import numpy as np
import pytest
import torch

from mmmg.engine import checkpoint_safe_globals
from mmmg.evaluation import load_scores

from ..conftest import TOY_CONFIG, run_tool, tiny_cfg_options


def _losses(work_dir):
    """Training losses in logging order, from the runner's scalar log."""
    [scalars] = sorted(glob.glob(osp.join(work_dir, '*', 'vis_data',
                                          'scalars.json')))[-1:]
    with open(scalars) as f:
        rows = [json.loads(line) for line in f]
    return [r['loss'] for r in rows if 'loss' in r]


def _ckpt_epoch(path):
    with checkpoint_safe_globals():
        return torch.load(path, map_location='cpu')['meta']['epoch']


def _check_ok(proc):
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]


@pytest.fixture(scope='module')
def trained(tiny_pose_ann, tmp_path_factory):
    work_dir = str(tmp_path_factory.mktemp('train'))
    proc = run_tool(['tools/train.py', TOY_CONFIG, '--work-dir', work_dir,
                     '--cfg-options'] +
                    tiny_cfg_options(tiny_pose_ann, epochs=3))
    _check_ok(proc)
    return work_dir


def test_train_loss_falls(trained):
    losses = _losses(trained)
    assert len(losses) >= 12
    first, last = np.mean(losses[:3]), np.mean(losses[-3:])
    assert last < first, losses
    assert _ckpt_epoch(osp.join(trained, 'epoch_3.pth')) == 3


def test_resume_continues_from_checkpoint(trained, tiny_pose_ann, tmp_path):
    # Resume epoch 2 of the finished run into a fresh work dir for 4 epochs.
    proc = run_tool(['tools/train.py', TOY_CONFIG, '--work-dir',
                     str(tmp_path), '--resume',
                     osp.join(trained, 'epoch_2.pth'), '--cfg-options'] +
                    tiny_cfg_options(tiny_pose_ann, epochs=4))
    _check_ok(proc)
    log = proc.stdout + proc.stderr
    assert 'resumed epoch: 2' in log
    # Epochs 3 and 4 were trained here; 1 and 2 were not repeated.
    assert not osp.exists(tmp_path / 'epoch_1.pth')
    assert not osp.exists(tmp_path / 'epoch_2.pth')
    assert _ckpt_epoch(tmp_path / 'epoch_4.pth') == 4
    assert 'Epoch(train) [3]' in log and 'Epoch(train) [1]' not in log


def test_resume_auto_finds_latest(trained, tiny_pose_ann):
    # --resume with no path picks the latest checkpoint of the work dir; one
    # more epoch on top of the finished 3.
    proc = run_tool(['tools/train.py', TOY_CONFIG, '--work-dir', trained,
                     '--resume', '--cfg-options'] +
                    tiny_cfg_options(tiny_pose_ann, epochs=4))
    _check_ok(proc)
    assert 'resumed epoch: 3' in proc.stdout + proc.stderr
    assert _ckpt_epoch(osp.join(trained, 'epoch_4.pth')) == 4


def _expected_test_ids(ann_file):
    with open(ann_file, 'rb') as f:
        ann = pickle.load(f)
    labels = {a['frame_dir']: a['label'] for a in ann['annotations']}
    return {i: labels[i] for i in ann['split']['test']}


def _check_dump(path, ann_file, stream):
    scores = load_scores(path)
    expected = _expected_test_ids(ann_file)
    ids = [s['id'] for s in scores['samples']]
    assert sorted(ids) == sorted(expected) and len(ids) == len(set(ids))
    assert scores['streams'] == [stream]
    assert scores['num_classes'] == 32 and len(scores['classes']) == 32
    for s in scores['samples']:
        assert s['label'] == expected[s['id']]
        prob = s['scores'][stream]
        assert prob.shape == (32, ) and prob.dtype == np.float32
        assert abs(prob.sum() - 1) < 1e-4 and prob.min() >= 0
    return scores


def test_test_dump(trained, tiny_pose_ann, tmp_path):
    out = str(tmp_path / 'scores' / 'joint.pkl')
    proc = run_tool(['tools/test.py', TOY_CONFIG,
                     osp.join(trained, 'epoch_3.pth'), '--work-dir',
                     str(tmp_path), '--dump', out, '--stream', 'joint',
                     '--cfg-options'] + tiny_cfg_options(tiny_pose_ann))
    _check_ok(proc)
    scores = _check_dump(out, tiny_pose_ann, 'joint')
    assert scores['meta']['checkpoint'].endswith('epoch_3.pth')
    assert 'acc/top1' in proc.stdout + proc.stderr
    # Every test run adds the F1 metric and its confusion-matrix files.
    assert 'mg/macro_f1' in proc.stdout + proc.stderr
    assert glob.glob(str(tmp_path / '*' / 'mg_confusion_matrix.png'))
    assert glob.glob(str(tmp_path / '*' / 'mg_per_class.csv'))


@pytest.mark.parametrize('argv, message', [
    (['tools/train.py', 'no/such/config.py'], 'not found'),
    (['tools/train.py', TOY_CONFIG, '--launcher', 'bogus'], 'invalid choice'),
    (['tools/test.py', TOY_CONFIG, 'missing.pth'], 'not found'),
    (['tools/test.py', TOY_CONFIG, TOY_CONFIG, '--dump', 'x.json'], '.pkl'),
])
def test_bad_arguments(argv, message):
    proc = run_tool(argv)
    assert proc.returncode != 0
    assert message in proc.stderr


def test_help():
    for tool in ('tools/train.py', 'tools/test.py'):
        proc = run_tool([tool, '--help'])
        _check_ok(proc)
        assert '--cfg-options' in proc.stdout and '--launcher' in proc.stdout


def test_dist_train_and_test_two_cpu_processes(tiny_pose_ann, tmp_path):
    env = dict(PORT='29517')
    work_dir = str(tmp_path / 'dist')
    proc = run_tool(['bash', 'tools/dist_train.sh', TOY_CONFIG, '2',
                     '--work-dir', work_dir, '--cfg-options'] +
                    tiny_cfg_options(tiny_pose_ann, epochs=2), env=env)
    _check_ok(proc)
    log = proc.stdout + proc.stderr
    assert 'world_size: 2' in log or "'world_size': 2" in log or \
        'Distributed launcher: pytorch' in log
    assert _ckpt_epoch(osp.join(work_dir, 'epoch_2.pth')) == 2

    out = str(tmp_path / 'dist_scores.pkl')
    proc = run_tool(['bash', 'tools/dist_test.sh', TOY_CONFIG,
                     osp.join(work_dir, 'epoch_2.pth'), '2', '--work-dir',
                     work_dir, '--dump', out, '--stream', 'joint',
                     '--cfg-options'] + tiny_cfg_options(tiny_pose_ann),
                    env=env)
    _check_ok(proc)
    # 15 test samples over 2 processes: the sampler pads one; the dump must
    # still hold every sample exactly once.
    _check_dump(out, tiny_pose_ann, 'joint')
