"""benchmarks/gpu_acceptance.sh --dry-run: every step of the GPU acceptance
run on the CPU, and the content of its JSON report."""
import json
import os.path as osp
import subprocess
import sys

import pytest

from ..conftest import REPO

SCRIPT = osp.join(REPO, 'benchmarks', 'gpu_acceptance.sh')
sys.path.insert(0, osp.join(REPO, 'benchmarks'))
import gpu_acceptance  # noqa: E402

# Every test reads the one dry run of the whole script.
pytestmark = pytest.mark.slow


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


def test_every_step_passes(dry_run):
    report, stdout = dry_run
    assert report['dry_run'] and report['environment']['device'] == 'cpu'
    assert list(report['steps']) == list(gpu_acceptance.STEPS)
    for name, step in report['steps'].items():
        assert step['status'] == 'passed', (name, step)
    assert 'samples/s' in stdout


def test_toy_training_loss_goes_down(dry_run):
    step = dry_run[0]['steps']['toy_training']
    assert step['iterations'] == 12  # 4 epochs x 3 batches of 2
    assert step['last_third_mean'] < step['first_third_mean']


def test_heatmaps_match_transform(dry_run):
    step = dry_run[0]['steps']['heatmaps']
    assert set(step['cases']) == {
        'joints_56', 'limbs_56', 'joints_scaling_0.25', 'limbs_double_2clips'
    }
    for case in step['cases'].values():
        assert case['max_abs_diff'] <= gpu_acceptance.HEATMAP_ATOL
    # Doubling: original + flip, 2 clips each.
    assert step['cases']['limbs_double_2clips']['shape'][1] == 4


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
        else:
            assert row['error'] and row['stage'], path
    assert timed >= 1


def test_videomae_and_pose_extraction(dry_run):
    steps = dry_run[0]['steps']
    mae = steps['videomae_pretrain']
    assert mae['with_cp'] and mae['iterations'] >= 2 and mae['finite']
    pose = steps['pose_extraction']
    assert pose['session_providers'].startswith('CPUExecutionProvider')
    assert pose['frames'] == 16 and pose['max_center_error_px'] <= 4
