import json
import os
import os.path as osp
import runpy
import subprocess
import sys

import pytest

from mmmg.utils.cli import cli_main
from tests.cli_helpers import assert_known_error, run_cli
from tests.conftest import REPO

TOOL = 'tools/eval_spotting.py'


@pytest.fixture
def folders(tmp_path):
    """The hand-computed example of tests/spotting/test_metrics.py as
    label tables (raw 4 = touch face, 6 = cover face, 99 = non-MG), the
    ground truth in a release-like tree."""
    gt = tmp_path / 'gt' / 'imigue_skeleton_validate'
    pred = tmp_path / 'pred'
    for vid, text in (('0001', '4,0,99\n4,200,299\n6,400,499\n99,600,649\n'),
                      ('0002', '4,0,9\n')):
        (gt / vid).mkdir(parents=True)
        (gt / vid / f'{vid}_label.csv').write_text(text)
    pred.mkdir()
    (pred /
     '0001_pred.csv').write_text('4,0,59\n4,10,109\n4,230,329\n6,440,559\n')
    (pred / '0009_pred.csv').write_text('6,0,9\n')
    return str(pred), str(tmp_path / 'gt')


def test_cli_run(folders, tmp_path):
    out = str(tmp_path / 'reports' / 'report.json')
    result = subprocess.run(
        [sys.executable, '-X', 'importtime', TOOL, *folders, '--out', out],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120)
    assert result.returncode == 0, result.stderr
    # numpy only: no torch or MMEngine start-up.
    imported = [
        line.split('|')[-1].strip() for line in result.stderr.splitlines()
        if line.startswith('import time:')
    ]
    assert 'numpy' in imported
    assert not {'torch', 'mmengine', 'mmaction', 'matplotlib'} & set(imported)
    lines = result.stdout.splitlines()
    # 0001 as in the hand example, plus 0002's segment missed (an FN of
    # touch face). At 0.3: touch face TP 2, FP 1, FN 1 (F1 4/6), cover face
    # TP 1 (F1 1): macro-F1 0.833.
    assert lines[0] == ('2 videos, 4 ground-truth and 4 predicted segments '
                        "(1 / 0 'illustrative' left out)")
    assert lines[2].split() == [
        'overall', '0.3', '3', '1', '1', '0.750', '0.750', '0.750', 'macro-F1',
        '0.833'
    ]
    assert lines[3].split()[:8] == [
        'overall', '0.5', '2', '2', '2', '0.500', '0.500', '0.500'
    ]
    assert lines[5].split() == [
        'cover', 'face', '0.5', '0', '1', '1', '0.000', '0.000', '0.000'
    ]
    assert lines[-2:] == [
        '1 ground-truth video(s) without a prediction (counted as missed): '
        '0002', '1 prediction(s) without ground truth (left out): 0009'
    ]
    report = json.load(open(out))
    assert report['overall']['0.7'] == dict(
        tp=1, fp=3, fn=3, precision=0.25, recall=0.25, f1=0.25)
    assert report['missing_predictions'] == ['0002']
    assert report['predictions_without_ground_truth'] == ['0009']
    assert report['per_video']['0002']['frame_accuracy'] == 0.


def test_options(folders, capsys):
    main = runpy.run_path(osp.join(REPO, TOOL), run_name='tool')['main']
    main(
        [*folders, '--only-predicted', '--iou', '0.5', '--background', 'none'])
    lines = capsys.readouterr().out.splitlines()
    # 0001 alone, the non-MG segment counted as a missed ground truth.
    assert lines[0] == '1 videos, 4 ground-truth and 4 predicted segments'
    assert lines[2].split()[:5] == ['overall', '0.5', '2', '2', '2']
    assert len([line for line in lines if line.startswith('overall')]) == 1
    assert '(left out): 0002' in lines[-2]


def _bad_row(pred, gt):
    path = osp.join(gt, 'imigue_skeleton_validate', '0002', '0002_label.csv')
    with open(path, 'w') as f:
        f.write('4,0,9\n4,abc,20\n')
    return [pred, gt], ['0002_label.csv', 'line 2', "'4,abc,20'"]


def _no_common(pred, gt):
    os.remove(osp.join(pred, '0001_pred.csv'))
    return [pred, gt], ['no video has both', '0009_pred.csv']


@pytest.mark.parametrize('case', [
    _bad_row,
    _no_common,
    lambda p, g: ([p, g + '/nope'], ['GT_DIR', 'nope', 'is not a folder']),
    lambda p, g: ([g, g], ['PRED_DIR', 'no <vid>_pred.csv']),
    lambda p, g: ([p, g, '--iou', '0.5', '1.5'], ['--iou 1.5', '(0, 1]']),
    lambda p, g: ([p, g, '--per-class-iou', '0'], ['--per-class-iou 0.0']),
    lambda p, g: ([p, g, '--background', 'waving'], ["'waving'"]),
    lambda p, g: ([p, g, '--out', g], ['--out', 'is a folder']),
])
def test_bad_input_is_one_line(folders, capsys, monkeypatch, case):
    argv, names = case(*folders)
    result = run_cli(TOOL, argv, capsys, monkeypatch)
    assert_known_error(result, TOOL, *names)
    assert result.stdout == ''


def test_scores_json_orders_matching_and_gives_frames(tmp_path, capsys):
    """g0 = 0-99, g1 = 90-199 (touch face); P = 40-139, Q = 0-99.
    Without scores Q (best IoU 1) goes first and takes g0, P takes g1
    (IoU 50/160 = 0.31): 2 TP at 0.3. With the spotting tool's scores
    (P 0.9, Q 0.5) P goes first and takes g0 (IoU 60/140 = 0.43), Q is left
    with g1 (IoU 10/200 = 0.05): 1 TP. Frame accuracy: P and Q cover
    0-139, g0 and g1 0-199: 140 of 200 frames right, or 940 of the
    video's 1000."""
    main = runpy.run_path(osp.join(REPO, TOOL), run_name='tool')['main']
    (tmp_path / 'gt').mkdir()
    (tmp_path / 'gt' / '0005_label.csv').write_text('4,0,99\n4,90,199\n')
    (tmp_path / 'pred').mkdir()
    (tmp_path / 'pred' / '0005_pred.csv').write_text('4,40,139\n4,0,99\n')
    out = str(tmp_path / 'report.json')
    argv = [str(tmp_path / 'pred'), str(tmp_path / 'gt'), '--out', out]
    main(argv)
    report = json.load(open(out))
    assert report['overall']['0.3']['tp'] == 2
    assert report['frame_accuracy'] == 0.7

    saved = dict(
        num_frames=1000,
        segments=[
            dict(label='touch face', start=40, end=140, score=0.9),
            dict(label='touch face', start=0, end=100, score=0.5)
        ])
    scores = tmp_path / 'pred' / '0005_scores.json'
    scores.write_text(json.dumps(saved))
    main(argv)
    report = json.load(open(out))
    assert report['overall']['0.3']['tp'] == 1
    assert report['frame_accuracy'] == 0.94
    assert report['per_video']['0005']['frames'] == 1000
    capsys.readouterr()

    scores.write_text('{"segments": []}')
    with pytest.raises(SystemExit):
        cli_main(main, argv)
    line = capsys.readouterr().err.strip()
    assert str(scores) in line and "KeyError: 'num_frames'" in line
