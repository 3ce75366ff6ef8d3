"""tools/train.py, --resume, tools/test.py --dump and the dist scripts."""
import glob
import importlib.util
import json
import os.path as osp
import pickle
import shutil
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from mmmg.engine import checkpoint_safe_globals
from mmmg.evaluation import build_score_file, load_scores, save_scores
from mmmg.utils.cli import cli_main
from mmmg.utils.config import (LOADERS, inner_dataset, read_config,
                               set_data_roots)
from ..conftest import REPO, TOY_CONFIG, run_tool, tiny_cfg_options


def _losses(work_dir):
    """Training losses in logging order, from the runner's scalar log."""
    [scalars] = sorted(
        glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json')))[-1:]
    with open(scalars) as f:
        rows = [json.loads(line) for line in f]
    return [r['loss'] for r in rows if 'loss' in r]


def _ckpt_epoch(path):
    with checkpoint_safe_globals():
        return torch.load(path, map_location='cpu')['meta']['epoch']


def _check_ok(proc):
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]


def test_train_loss_falls(toy_joint_run):
    # The session's shared toy run (conftest.py): read, never written to.
    losses = _losses(toy_joint_run)
    assert len(losses) == 12
    first, last = np.mean(losses[:3]), np.mean(losses[-3:])
    assert last < first, losses
    assert _ckpt_epoch(osp.join(toy_joint_run, 'epoch_2.pth')) == 2


@pytest.mark.slow
def test_resume_continues_from_checkpoint(toy_joint_run, tiny_pose_ann,
                                          tmp_path):
    # Resume epoch 1 of the finished run into a fresh work dir for 3 epochs.
    proc = run_tool([
        'tools/train.py', TOY_CONFIG, '--work-dir',
        str(tmp_path), '--resume',
        osp.join(toy_joint_run, 'epoch_1.pth'), '--cfg-options'
    ] + tiny_cfg_options(tiny_pose_ann, epochs=3))
    _check_ok(proc)
    log = proc.stdout + proc.stderr
    assert 'resumed epoch: 1' in log
    # Epochs 2 and 3 were trained here; epoch 1 was not repeated.
    assert not osp.exists(tmp_path / 'epoch_1.pth')
    assert _ckpt_epoch(tmp_path / 'epoch_3.pth') == 3
    assert 'Epoch(train) [2]' in log and 'Epoch(train) [1]' not in log


def _copy_run(run_dir, work_dir, truncate_last=False):
    """The shared run's checkpoints in ``work_dir`` with ``last_checkpoint``
    naming the copy of the last one (cut to a third if ``truncate_last``)."""
    shutil.copy(osp.join(run_dir, 'epoch_1.pth'), work_dir)
    with open(osp.join(run_dir, 'epoch_2.pth'), 'rb') as f:
        data = f.read()
    last = work_dir / 'epoch_2.pth'
    last.write_bytes(data[:len(data) // 3] if truncate_last else data)
    (work_dir / 'last_checkpoint').write_text(str(last))


@pytest.mark.slow
def test_resume_auto_finds_latest(toy_joint_run, tiny_pose_ann, tmp_path):
    # --resume with no path picks the latest checkpoint of the work dir; one
    # more epoch on top of the finished 2.
    _copy_run(toy_joint_run, tmp_path)
    proc = run_tool([
        'tools/train.py', TOY_CONFIG, '--work-dir',
        str(tmp_path), '--resume', '--cfg-options'
    ] + tiny_cfg_options(tiny_pose_ann, epochs=3))
    _check_ok(proc)
    assert 'resumed epoch: 2' in proc.stdout + proc.stderr
    assert _ckpt_epoch(tmp_path / 'epoch_3.pth') == 3


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


def test_test_dump(toy_joint_run, tiny_pose_ann, tmp_path):
    out = str(tmp_path / 'scores' / 'joint.pkl')
    proc = run_tool([
        'tools/test.py', TOY_CONFIG,
        osp.join(toy_joint_run, 'epoch_2.pth'), '--work-dir',
        str(tmp_path), '--dump', out, '--stream', 'joint', '--cfg-options'
    ] + tiny_cfg_options(tiny_pose_ann))
    _check_ok(proc)
    scores = _check_dump(out, tiny_pose_ann, 'joint')
    assert scores['meta']['checkpoint'].endswith('epoch_2.pth')
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
def test_bad_arguments(argv, message, capsys, monkeypatch):
    # Refused before any model is built: in this interpreter (the
    # subprocess path of the same convention is tested below).
    proc = _run_in_process(argv, capsys, monkeypatch)
    assert proc.returncode != 0
    assert message in proc.stderr


def test_help(capsys, monkeypatch):
    for tool in ('tools/train.py', 'tools/test.py'):
        proc = _run_in_process([tool, '--help'], capsys, monkeypatch)
        assert proc.returncode == 0, proc.stderr
        assert '--cfg-options' in proc.stdout and '--launcher' in proc.stdout


@pytest.mark.slow
def test_dist_train_and_test_two_cpu_processes(tiny_pose_ann, tmp_path):
    env = dict(PORT='29517')
    work_dir = str(tmp_path / 'dist')
    proc = run_tool(
        [
            'bash', 'tools/dist_train.sh', TOY_CONFIG, '2', '--work-dir',
            work_dir, '--cfg-options'
        ] + tiny_cfg_options(tiny_pose_ann, epochs=2),
        env=env)
    _check_ok(proc)
    log = proc.stdout + proc.stderr
    assert 'world_size: 2' in log or "'world_size': 2" in log or \
        'Distributed launcher: pytorch' in log
    assert _ckpt_epoch(osp.join(work_dir, 'epoch_2.pth')) == 2

    out = str(tmp_path / 'dist_scores.pkl')
    proc = run_tool(
        [
            'bash', 'tools/dist_test.sh', TOY_CONFIG,
            osp.join(work_dir, 'epoch_2.pth'), '2', '--work-dir', work_dir,
            '--dump', out, '--stream', 'joint', '--cfg-options'
        ] + tiny_cfg_options(tiny_pose_ann),
        env=env)
    _check_ok(proc)
    # 15 test samples over 2 processes: the sampler pads one; the dump must
    # still hold every sample exactly once.
    _check_dump(out, tiny_pose_ann, 'joint')


# Known errors: exit status 2, one line naming the file/option and the fix,
# nothing half-written (see docs/errors.md).

RGB_TOY_CONFIG = osp.join(REPO, 'configs', 'recognition', 'swin',
                          'swin_tiny_rgb_toy.py')


def _check_error(proc, tool, *messages):
    assert proc.returncode == 2, proc.stdout[-2000:] + proc.stderr[-3000:]
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith(f'{tool}: error: '), proc.stderr[-3000:]
    for message in messages:
        assert message in last, last
    assert 'Traceback' not in proc.stderr
    # MMCV-lite's expected warning is filtered in every tool.
    assert 'MultiScaleDeformableAttention' not in proc.stderr


def _run_in_process(argv, capsys, monkeypatch):
    """Run a tool's main under the error convention in this interpreter:
    for errors caught before any model is built, without a start-up."""
    path = osp.join(REPO, argv[0])
    spec = importlib.util.spec_from_file_location(
        'tool_' + osp.splitext(osp.basename(path))[0], path)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    monkeypatch.setattr('sys.argv', [path])
    with pytest.raises(SystemExit) as exit_info:
        cli_main(tool.main, argv[1:])
    out = capsys.readouterr()
    return SimpleNamespace(
        returncode=exit_info.value.code, stdout=out.out, stderr=out.err)


def _write_ann(path, tiny_pose_ann, **split_changes):
    with open(tiny_pose_ann, 'rb') as f:
        ann = pickle.load(f)
    ann['split'].update(split_changes)
    with open(path, 'wb') as f:
        pickle.dump(ann, f)
    return str(path)


@pytest.fixture(scope='module')
def bad_inputs(tiny_pose_ann, tmp_path_factory):
    root = tmp_path_factory.mktemp('bad')
    with open(tiny_pose_ann, 'rb') as f:
        data = f.read()
    (root / 'truncated.pkl').write_bytes(data[:len(data) // 2])
    (root / 'text.pkl').write_text('frame_dir label\n')
    (root / 'syntax.py').write_text("_base_ = ['x.py'\nmodel = dict(\n")
    (root / 'a_file').write_text('')
    (root / 'garbage.pth').write_bytes(b'\x00garbage' * 64)
    return dict(
        root=root,
        empty_test=_write_ann(root / 'empty_test.pkl', tiny_pose_ann, test=[]))


@pytest.mark.parametrize('case, split, messages', [
    ('missing.pkl', 'train', ['missing.pkl', 'not found']),
    ('truncated.pkl', 'train', ['truncated.pkl', 'not a readable']),
    ('text.pkl', 'train', ['text.pkl', 'not a readable']),
    ('tiny', 'valid', ["no split 'valid'", "'train', 'val', 'test'"]),
])
def test_train_refuses_bad_annotations(case, split, messages, bad_inputs,
                                       tiny_pose_ann, tmp_path):
    ann = tiny_pose_ann if case == 'tiny' else str(bad_inputs['root'] / case)
    proc = run_tool([
        'tools/train.py', TOY_CONFIG, '--work-dir',
        str(tmp_path), '--ann-file', ann, '--cfg-options'
    ] + tiny_cfg_options(tiny_pose_ann)[3:] +
                    [f'train_dataloader.dataset.split={split}'])
    _check_error(proc, 'train.py', *messages)
    assert not glob.glob(str(tmp_path / '*.pth'))


def test_test_refuses_empty_split(toy_joint_run, bad_inputs, tiny_pose_ann,
                                  tmp_path):
    out = tmp_path / 'scores.pkl'
    proc = run_tool([
        'tools/test.py', TOY_CONFIG,
        osp.join(toy_joint_run, 'epoch_2.pth'), '--work-dir',
        str(tmp_path), '--dump',
        str(out), '--cfg-options'
    ] + tiny_cfg_options(bad_inputs['empty_test']))
    _check_error(proc, 'test.py', "split 'test' has no samples",
                 'test_dataloader')
    assert not out.exists()


@pytest.fixture(scope='module')
def other_model_ckpt(toy_joint_run, tmp_path_factory):
    """The trained checkpoint with a first layer for 17 keypoints."""
    with checkpoint_safe_globals():
        ckpt = torch.load(osp.join(toy_joint_run, 'epoch_2.pth'))
    ckpt['state_dict']['backbone.conv1.conv.weight'] = torch.zeros(
        8, 17, 1, 7, 7)
    path = str(tmp_path_factory.mktemp('other') / 'other.pth')
    torch.save(ckpt, path)
    return path


@pytest.mark.slow
def test_test_refuses_checkpoint_that_does_not_fit(other_model_ckpt,
                                                   tiny_pose_ann, tmp_path):
    out = tmp_path / 'scores.pkl'
    argv = [
        'tools/test.py', TOY_CONFIG, other_model_ckpt, '--work-dir',
        str(tmp_path), '--dump',
        str(out), '--ann-file', tiny_pose_ann, '--cfg-options'
    ] + tiny_cfg_options(tiny_pose_ann)[3:]
    proc = run_tool(argv)
    _check_error(
        proc, 'test.py', other_model_ckpt,
        'backbone.conv1.conv.weight (8, 17, 1, 7, 7) vs '
        '(8, 36, 1, 7, 7)', '--allow-partial')
    assert not out.exists()
    # Loosened explicitly: tested, and the score file says so.
    proc = run_tool(argv + ['--allow-partial'])
    _check_ok(proc)
    assert 'keys differ from the model and are allowed' in proc.stdout
    assert load_scores(str(out))['meta']['allow_partial'] is True


@pytest.mark.slow
def test_resume_and_load_from_refuse_another_models_checkpoint(
        other_model_ckpt, tiny_pose_ann, tmp_path):
    proc = run_tool([
        'tools/train.py', TOY_CONFIG, '--work-dir',
        str(tmp_path), '--resume', other_model_ckpt, '--cfg-options'
    ] + tiny_cfg_options(tiny_pose_ann))
    _check_error(proc, 'train.py', 'does not fit the model',
                 'resume from a checkpoint of this config')
    assert not glob.glob(str(tmp_path / '*.pth'))
    # Fine-tuning from it (load_from) names the config key to allow.
    proc = run_tool([
        'tools/train.py', TOY_CONFIG, '--work-dir',
        str(tmp_path), '--cfg-options', f'load_from={other_model_ckpt}'
    ] + tiny_cfg_options(tiny_pose_ann))
    _check_error(proc, 'train.py', 'backbone.conv1.conv.weight',
                 'allow_partial_keys')
    assert not glob.glob(str(tmp_path / '*.pth'))


@pytest.mark.slow
def test_resume_skips_truncated_latest_checkpoint(toy_joint_run, tiny_pose_ann,
                                                  tmp_path):
    _copy_run(toy_joint_run, tmp_path, truncate_last=True)
    proc = run_tool([
        'tools/train.py', TOY_CONFIG, '--work-dir',
        str(tmp_path), '--resume', '--cfg-options'
    ] + tiny_cfg_options(tiny_pose_ann, epochs=2))
    _check_ok(proc)
    log = proc.stdout + proc.stderr
    assert 'epoch_2.pth is truncated or unreadable' in log
    assert 'resumed epoch: 1' in log
    assert _ckpt_epoch(tmp_path / 'epoch_2.pth') == 2


@pytest.mark.parametrize('argv, tool, messages', [
    (['tools/test.py', TOY_CONFIG, '{root}/garbage.pth'
      ], 'test.py', ['garbage.pth', 'not a PyTorch checkpoint']),
    (['tools/train.py', '{root}/syntax.py'
      ], 'train.py', ['syntax.py', 'syntax error', 'line 1']),
    (['tools/train.py', TOY_CONFIG, '--work-dir', '{root}/a_file'
      ], 'train.py', ['--work-dir', 'a_file', 'is a file']),
    (['tools/train.py', TOY_CONFIG, '--work-dir', '{root}/a_file/sub'
      ], 'train.py', ['--work-dir', 'a_file', 'is a file']),
    (['tools/test.py', TOY_CONFIG, '{ckpt}', '--dump', '{root}/a_file/x.pkl'
      ], 'test.py', ['--dump', 'a_file', 'is a file']),
    (['tools/test.py', TOY_CONFIG, '{ckpt}', '--dump', '{root}/dir.pkl'
      ], 'test.py', ['--dump', 'dir.pkl', 'is a folder']),
    (['tools/train.py', TOY_CONFIG, '--pseudo-labels', '{scores}'
      ], 'train.py', ['is a score pickle', 'tools/pseudo_label.py']),
])
def test_refused_before_the_work(argv, tool, messages, bad_inputs,
                                 toy_joint_run, tmp_path, capsys, monkeypatch):
    root = bad_inputs['root']
    (root / 'dir.pkl').mkdir(exist_ok=True)
    scores = tmp_path / 'scores.pkl'
    save_scores(
        str(scores),
        build_score_file(
            [dict(id='a', label=0, scores=dict(joint=np.ones(32) / 32))]))
    fill = dict(
        root=root, ckpt=osp.join(toy_joint_run, 'epoch_2.pth'), scores=scores)
    argv = [a.format(**fill) for a in argv]
    if '--work-dir' not in argv:
        argv += ['--work-dir', str(tmp_path / 'work')]
    proc = _run_in_process(argv, capsys, monkeypatch)
    _check_error(proc, tool, *messages)
    # Refused before the runner made its work dir.
    assert not osp.exists(tmp_path / 'work')


def test_debug_shows_the_traceback(bad_inputs, capsys, monkeypatch):
    proc = _run_in_process(
        ['tools/train.py',
         str(bad_inputs['root'] / 'syntax.py'), '--debug'], capsys,
        monkeypatch)
    assert proc.returncode == 2
    assert 'Traceback' in proc.stderr and 'SyntaxError' in proc.stderr


def test_data_roots_set_every_loader():
    rgb = read_config(
        osp.join(REPO, 'configs', 'recognition', 'swin',
                 'swin_tiny_rgb_imigue.py'))
    set_data_roots(
        rgb,
        ann_file='mine.pkl',
        list_dir='mine/lists',
        video_root='mine/videos')
    for loader, split in zip(LOADERS, ('train', 'val', 'test')):
        dataset = inner_dataset(rgb[loader].dataset)
        assert dataset.ann_file == f'mine/lists/rgb_{split}.txt'
        assert dataset.data_prefix.video == 'mine/videos'
    pose = read_config(TOY_CONFIG)
    set_data_roots(pose, ann_file='mine.pkl', list_dir='mine/lists')
    for loader, split in zip(LOADERS, ('train', 'val', 'test')):
        dataset = inner_dataset(pose[loader].dataset)
        assert dataset.ann_file == 'mine.pkl' and dataset.split == split


def test_train_names_undecodable_video(tmp_path):
    (tmp_path / 'bad.mp4').write_bytes(b'\x00not a video' * 50)
    for split in ('train', 'val', 'test'):
        (tmp_path / f'rgb_{split}.txt').write_text('bad.mp4 1\n')
    proc = run_tool([
        'tools/train.py', RGB_TOY_CONFIG, '--work-dir',
        str(tmp_path / 'work'), '--list-dir',
        str(tmp_path), '--video-root',
        str(tmp_path)
    ])
    _check_error(proc, 'train.py', "rgb_train.txt: sample 'bad'", 'bad.mp4',
                 'skip_bad_videos=True')
    assert not glob.glob(str(tmp_path / 'work' / '*.pth'))
