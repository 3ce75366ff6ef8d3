"""tools/pseudo_label.py on a tiny pose annotation, then a real retraining
run of the toy PoseConv3D on the written annotation."""
import json
import os.path as osp
import pickle
import re

import numpy as np
import pytest

from mmmg.evaluation import build_score_file, save_scores
from mmmg.utils.cli import ToolError
from mmmg.utils.config import read_config, use_pseudo_labels
from tests.conftest import REPO, TOY_CONFIG, run_tool, tiny_cfg_options

NUM_CLASSES = 32


@pytest.fixture(scope='module')
def fused_test_scores(tiny_pose_ann, tmp_path_factory):
    """Fused scores of the tiny annotation's test split: mostly right and
    confident, the last sample of each class wrong and unsure."""
    with open(tiny_pose_ann, 'rb') as f:
        data = pickle.load(f)
    labels = {a['frame_dir']: a['label'] for a in data['annotations']}
    rng = np.random.default_rng(0)
    records = []
    for i, sid in enumerate(data['split']['test']):
        probs = rng.dirichlet(np.ones(NUM_CLASSES)) * 0.1
        if sid.endswith('_4'):
            probs[(labels[sid] + 1) % NUM_CLASSES] += 0.05
        else:
            probs[labels[sid]] += 0.6 + 0.03 * (i % 5)
        records.append(
            dict(
                id=sid,
                label=labels[sid],
                scores=dict(fused=probs / probs.sum())))
    path = str(tmp_path_factory.mktemp('pseudo') / 'fused_test.pkl')
    save_scores(path, build_score_file(records))
    return path, data


@pytest.mark.slow
def test_cli_and_retraining(fused_test_scores, tiny_pose_ann, tmp_path):
    scores, data = fused_test_scores
    out = str(tmp_path / 'tiny_pseudo.pkl')
    proc = run_tool([
        'tools/pseudo_label.py', scores, '--ann-file', tiny_pose_ann, '--out',
        out, '--keep-ratio', '0.5', '--min-confidence', '0.4'
    ])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # Per class: 4 predicted right and confident, the more confident half
    # kept; the wrong prediction (as the next class) is unsure and falls
    # below the floor.
    assert 'selected 6 of 15 samples; pseudo-label accuracy 100.00%' in \
        proc.stdout, proc.stdout
    assert re.search(r'10  class 10\s+4\s+2\s+0\.\d+\s+100\.00%', proc.stdout)
    assert re.search(r'11  class 11\s+1\s+0\s+0\.4000', proc.stdout)
    report = json.load(open(str(tmp_path / 'tiny_pseudo_report.json')))
    assert report['training_samples'] == 36 + 6
    assert report['per_class']['selected'][16] == 2
    with open(str(tmp_path / 'tiny_pseudo_report.png'), 'rb') as f:
        assert f.read(4) == b'\x89PNG'

    work = str(tmp_path / 'work')
    proc = run_tool([
        'tools/train.py', TOY_CONFIG, '--work-dir', work, '--pseudo-labels',
        out, '--cfg-options', *tiny_cfg_options(tiny_pose_ann, epochs=2)
    ])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # 42 training samples in batches of 6: 7 iterations, against 6 for the
    # 36 labelled ones alone.
    log = proc.stdout + proc.stderr
    assert 'Epoch(train) [1][7/7]' in log, log[-3000:]
    assert osp.isfile(osp.join(work, 'epoch_2.pth'))


def test_bad_inputs(fused_test_scores, tiny_pose_ann, tmp_path):
    scores, _ = fused_test_scores
    proc = run_tool(
        ['tools/pseudo_label.py', scores, '--out',
         str(tmp_path / 'x.pkl')])
    assert proc.returncode == 2 and '--ann-file' in proc.stderr
    proc = run_tool([
        'tools/pseudo_label.py', scores, '--ann-file', tiny_pose_ann, '--out',
        str(tmp_path / 'x.pkl'), '--min-confidence', '0.99'
    ])
    assert proc.returncode == 2
    assert 'fused_test.pkl: no sample reaches its class threshold' in \
        proc.stderr
    # Pseudo-labelling the training split itself is refused.
    with open(tiny_pose_ann, 'rb') as f:
        data = pickle.load(f)
    sid = data['split']['train'][0]
    path = str(tmp_path / 'train_scores.pkl')
    probs = np.full(NUM_CLASSES, 0.001)
    probs[3] = 1
    save_scores(
        path,
        build_score_file(
            [dict(id=sid, label=None,
                  scores=dict(fused=probs / probs.sum()))]))
    proc = run_tool([
        'tools/pseudo_label.py', path, '--ann-file', tiny_pose_ann, '--out',
        str(tmp_path / 'x.pkl')
    ])
    assert proc.returncode == 2
    assert f"in the 'train' split already: 1 ids ('{sid}')" in proc.stderr
    # A score file given as the annotation: named, nothing written.
    proc = run_tool([
        'tools/pseudo_label.py', scores, '--ann-file', scores,
        '--min-confidence', '0', '--out',
        str(tmp_path / 'y.pkl')
    ])
    assert proc.returncode == 2
    assert 'an mmmg score file, not a pose annotation pickle' in proc.stderr
    assert not (tmp_path / 'y.pkl').exists()


def test_switch_redirects_dataset_and_class_weights(tmp_path):
    ann = tmp_path / 'pseudo.pkl'
    ann.write_bytes(
        pickle.dumps(
            dict(
                split=dict(train_pseudo=['0001_0']),
                annotations=[dict(frame_dir='0001_0', label=0)])))
    cfg = read_config(
        osp.join(REPO, 'configs', 'long_tail',
                 'posec3d_mg36_joint_toy_sqrt_weights.py'))
    use_pseudo_labels(cfg, str(ann))
    dataset = cfg.train_dataloader.dataset
    while 'ann_file' not in dataset:
        dataset = dataset.dataset
    assert (dataset.ann_file, dataset.split) == (str(ann), 'train_pseudo')
    weight = cfg.model.cls_head.loss_cls.class_weight
    assert (weight.ann_file, weight.split) == (str(ann), 'train_pseudo')

    # A video list has no split.
    lst = tmp_path / 'rgb_train_pseudo.txt'
    lst.write_text('')
    cfg = read_config(
        osp.join(REPO, 'configs', 'recognition', 'swin',
                 'swin_tiny_rgb_toy.py'))
    use_pseudo_labels(cfg, str(lst))
    dataset = cfg.train_dataloader.dataset
    while 'ann_file' not in dataset:
        dataset = dataset.dataset
    assert dataset.ann_file == str(lst) and 'split' not in dataset
    with pytest.raises(ToolError, match='nope.pkl'):
        use_pseudo_labels(cfg, str(tmp_path / 'nope.pkl'))
