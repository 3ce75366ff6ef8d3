"""benchmarks/gpu_acceptance.sh --dry-run: every step of the GPU acceptance
run on the CPU, and the content of its JSON report."""
import json
import os.path as osp
import subprocess
import sys

import pytest
import torch
from mmaction.registry import MODELS

from mmmg.utils.config import read_config
from ..conftest import REPO

SCRIPT = osp.join(REPO, 'benchmarks', 'gpu_acceptance.sh')
sys.path.insert(0, osp.join(REPO, 'benchmarks'))
import gpu_acceptance  # noqa: E402

TEACHER_TOY = osp.join(REPO, 'configs', 'ssl', 'videomae',
                       'videomae_vit_base_p16_16x4_interviews_teacher_toy.py')
# The tests marked slow read the one dry run of the whole script.
slow = pytest.mark.slow


@pytest.fixture(scope='module')
def dry_run(tmp_path_factory):
    root = tmp_path_factory.mktemp('gpu_acceptance')
    out = root / 'report.json'
    proc = subprocess.run([
        'bash', SCRIPT, '--dry-run', '--out',
        str(out), '--work-dir',
        str(root / 'work')
    ],
                          cwd=REPO,
                          capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    with open(out) as f:
        return json.load(f), proc.stdout


@slow
def test_every_step_passes(dry_run):
    report, stdout = dry_run
    assert report['dry_run'] and report['environment']['device'] == 'cpu'
    assert list(report['steps']) == list(gpu_acceptance.STEPS)
    for name, step in report['steps'].items():
        assert step['status'] == 'passed', (name, step)
    assert 'samples/s' in stdout


@slow
def test_toy_training_loss_goes_down(dry_run):
    step = dry_run[0]['steps']['toy_training']
    assert step['iterations'] == 12  # 4 epochs x 3 batches of 2
    assert step['last_third_mean'] < step['first_third_mean']


@slow
def test_heatmaps_match_transform(dry_run):
    step = dry_run[0]['steps']['heatmaps']
    assert set(step['cases']) == {
        'joints_56', 'limbs_56', 'joints_scaling_0.25', 'limbs_double_2clips'
    }
    for case in step['cases'].values():
        assert case['max_abs_diff'] <= gpu_acceptance.HEATMAP_ATOL
    # Doubling: original + flip, 2 clips each.
    assert step['cases']['limbs_double_2clips']['shape'][1] == 4


@slow
def test_every_full_config_timed_or_reported(dry_run):
    rows = dry_run[0]['steps']['config_timing']['configs']
    configs = gpu_acceptance.full_configs()
    assert configs and sorted(rows) == configs
    assert not any('_toy' in p for p in rows)
    timed = 0
    for path, row in rows.items():
        if 'samples_per_s' in row:
            assert row['samples_per_s'] > 0 and row['batch_size'] == 2, path
            timed += 1
        elif 'skipped' in row:
            # The pipeline ran; the batch is too big for the CPU, or a model
            # of the same type was timed.
            values = gpu_acceptance.count_values(row['input_shape'])
            assert (values > gpu_acceptance.DRY_RUN_MAX_VALUES
                    or 'was timed' in row['skipped']), path
        assert 'error' not in row, (path, row)
    assert timed >= 1
    # The online SSL configs read the synthetic one-interview release
    # through their own pipelines (clips drawn from its index).
    skeleton = rows['configs/ssl/skeleton/'
                    'usdrl_upper59_joint_pretrain_online.py']
    assert skeleton['input_shape'] == [2, 4, 64, 59, 3]  # 4 views
    rgb = rows['configs/ssl/videomae/'
               'videomae_vit_base_p16_16x4_interviews_online.py']
    assert rgb['input_shape'] == [2, 1, 3, 16, 224, 224]


@slow
def test_videomae_and_pose_extraction(dry_run):
    steps = dry_run[0]['steps']
    mae = steps['videomae_pretrain']
    assert mae['with_cp'] and mae['iterations'] >= 2 and mae['finite']
    pose = steps['pose_extraction']
    assert pose['session_providers'].startswith('CPUExecutionProvider')
    assert pose['frames'] == 16 and pose['max_center_error_px'] <= 4


def test_missing_teacher_checkpoint_becomes_random(tmp_path):
    cfg = read_config(TEACHER_TOY)
    missing = str(tmp_path / 'teacher.pth')
    cfg.model.target.checkpoint = missing
    sources = gpu_acceptance.SyntheticSources(str(tmp_path / 'synthetic'))
    note = sources.teacher_checkpoint(cfg.model)
    assert note.startswith('random teacher (timing only)') and missing in note
    written = cfg.model.target.checkpoint
    assert written != missing
    # The config's own loader takes it (strictly), and the teacher holds
    # the file's weights.
    model = MODELS.build(cfg.model)
    model.load_teacher()
    saved = torch.load(written)['state_dict']
    teacher = model.teacher.state_dict()
    assert saved.keys() == {'backbone.' + k for k in teacher}
    for k, v in teacher.items():
        assert torch.equal(v, saved['backbone.' + k]), k
    # A checkpoint that exists, and a pixel target, are left alone.
    assert sources.teacher_checkpoint(cfg.model) is None
    assert cfg.model.target.checkpoint == written
    pixel = read_config(TEACHER_TOY.replace('_teacher_toy', '_toy'))
    assert sources.teacher_checkpoint(pixel.model) is None
