"""MGClassificationMetric against plain numpy, its files, and inside a real
tools/test.py run."""
import csv
import glob
import json
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.logging import MMLogger

from mmmg.classes import IMIGUE_CLASSES
from mmmg.evaluation import load_scores
from mmmg.evaluation.metrics import MGClassificationMetric
from mmmg.evaluation.metrics.classification import classification_report
from ...conftest import REPO, run_tool, tiny_cfg_options

PROTO_POSE_CONFIG = osp.join(REPO, 'configs', 'long_tail',
                             'posec3d_mg36_joint_toy_prototype.py')


def np_reference(scores, labels):
    """Per-class scores by counting, sample by sample."""
    num_classes = scores.shape[1]
    preds = scores.argmax(1)
    out = dict(precision=[], recall=[], f1=[])
    for k in range(num_classes):
        tp = sum(1 for y, p in zip(labels, preds) if y == k and p == k)
        fp = sum(1 for y, p in zip(labels, preds) if y != k and p == k)
        fn = sum(1 for y, p in zip(labels, preds) if y == k and p != k)
        prec = tp / (tp + fp) if tp + fp else 0.
        rec = tp / (tp + fn) if tp + fn else 0.
        out['precision'].append(prec)
        out['recall'].append(rec)
        out['f1'].append(2 * prec * rec / (prec + rec) if prec + rec else 0.)
    out = {k: np.array(v) for k, v in out.items()}
    occurring = sorted(set(labels) | set(preds))
    out['macro_f1'] = np.mean([out['f1'][k] for k in occurring])
    out['mean1'] = np.mean([out['recall'][k] for k in sorted(set(labels))])
    for k in (1, 5):
        hits = [
            y in np.argsort(-s, kind='stable')[:k]
            for s, y in zip(scores, labels)
        ]
        out[f'top{k}'] = np.mean(hits)
    out['confusion'] = np.zeros((num_classes, num_classes), int)
    for y, p in zip(labels, preds):
        out['confusion'][y, p] += 1
    return out


def _sample(scores, label, stream=None):
    pred = {stream or 'item': torch.as_tensor(scores)} \
        if not isinstance(scores, dict) else \
        {k: torch.as_tensor(v) for k, v in scores.items()}
    return dict(pred_scores=pred, gt_labels=dict(item=torch.tensor([label])))


def _read_csv(path):
    with open(path, newline='') as f:
        return list(csv.reader(f))


@pytest.fixture
def run_logger(tmp_path):
    """A logger with a log file, as the runner makes one: the metric's
    default output directory."""
    log_dir = tmp_path / 'work' / '20250101_000000'
    log_dir.mkdir(parents=True)
    name = f'mgcls_{tmp_path.name}'
    logger = MMLogger.get_instance(name, log_file=str(log_dir / 'run.log'))
    yield str(log_dir)
    for handler in list(logger.handlers):
        handler.close()


def test_report_matches_numpy():
    rng = np.random.default_rng(0)
    # 9 classes; class 7 never occurs and is never predicted, class 8 is
    # predicted but never occurs.
    labels = rng.choice([0, 1, 2, 3, 4, 5, 6],
                        size=80,
                        p=[.4, .2, .1, .1, .1, .05, .05])
    scores = rng.normal(size=(80, 9))
    scores[np.arange(80), labels] += 1.2
    scores[:, 7] -= 10
    scores[:3, 8] += 10
    ref = np_reference(scores, labels)
    report = classification_report(scores, labels)
    for key in ('precision', 'recall', 'f1'):
        np.testing.assert_allclose(report['per_class'][key], ref[key])
    for key in ('top1', 'top5', 'mean1', 'macro_f1'):
        assert report[key] == pytest.approx(ref[key]), key
    np.testing.assert_array_equal(report['confusion'], ref['confusion'])
    assert report['per_class']['f1'][8] == 0
    # Macro-F1 counts the predicted-but-absent class 8, not class 7.
    assert report['macro_f1'] == pytest.approx(
        np.mean(ref['f1'][[0, 1, 2, 3, 4, 5, 6, 8]]))


def test_single_stream_files_and_hidden_labels(run_logger):
    classes = ('a', 'b', 'c', 'd', 'e', 'f')
    rng = np.random.default_rng(2)
    labels = np.array([0, 0, 0, 1, 1, 2, 2, 2, 2, 4, 5, 5])
    scores = rng.random((12, 6)).astype(np.float32)
    scores[[0, 1, 3, 5, 6, 9], labels[[0, 1, 3, 5, 6, 9]]] += 1
    metric = MGClassificationMetric()
    metric.dataset_meta = dict(classes=classes)
    metric.process(None, [_sample(s, int(y)) for s, y in zip(scores, labels)])
    # Two test-list samples with hidden labels are skipped.
    metric.process(None, [_sample(scores[0], -1), _sample(scores[1], -1)])
    metrics = metric.evaluate(14)
    ref = np_reference(scores, labels)
    assert list(metrics) == ['mg/top1', 'mg/top5', 'mg/mean1', 'mg/macro_f1']
    for key in ('top1', 'top5', 'mean1', 'macro_f1'):
        assert metrics[f'mg/{key}'] == pytest.approx(ref[key])

    log = open(osp.join(run_logger, 'run.log')).read()
    assert 'skipped 2 of 14 samples with hidden labels (-1)' in log
    # The table names the classes; 'd' has no samples and no predictions.
    row_d = [line for line in log.splitlines() if line[5:].startswith('d ')]
    assert row_d and row_d[0].split()[2:] == [
        '0', '0', '0.0000', '0.0000', '0.0000'
    ]

    rows = _read_csv(osp.join(run_logger, 'mg_confusion_matrix.csv'))
    assert rows[0] == ['true \\ predicted'] + list(classes)
    assert [r[0] for r in rows[1:]] == list(classes)
    np.testing.assert_array_equal(
        np.array([r[1:] for r in rows[1:]], dtype=int), ref['confusion'])

    rows = _read_csv(osp.join(run_logger, 'mg_per_class.csv'))
    assert rows[0] == [
        'id', 'class', 'support', 'predicted', 'precision', 'recall', 'f1'
    ]
    for k, row in enumerate(rows[1:]):
        assert row[:2] == [str(k), classes[k]]
        assert int(row[2]) == (labels == k).sum()
        np.testing.assert_allclose(
            [float(v) for v in row[4:]],
            [ref['precision'][k], ref['recall'][k], ref['f1'][k]],
            atol=1e-6)

    png = osp.join(run_logger, 'mg_confusion_matrix.png')
    with open(png, 'rb') as f:
        assert f.read(8) == b'\x89PNG\r\n\x1a\n'
    assert not glob.glob(osp.join(run_logger, '*.tmp*'))


def test_png_is_readable_for_32_classes(tmp_path):
    import matplotlib.image as mpimg
    rng = np.random.default_rng(3)
    labels = rng.integers(0, 32, 200)
    scores = rng.normal(size=(200, 32))
    scores[np.arange(200), labels] += 2
    metric = MGClassificationMetric(out_dir=str(tmp_path / 'out'))
    metric.dataset_meta = dict(classes=IMIGUE_CLASSES)
    metric.process(None, [_sample(s, int(y)) for s, y in zip(scores, labels)])
    metric.evaluate(200)
    image = mpimg.imread(str(tmp_path / 'out' / 'mg_confusion_matrix.png'))
    # About 0.3 inch per class at 110 dpi: room for 32 names.
    assert image.shape[0] >= 32 * 30 and image.shape[1] >= 32 * 30
    rows = _read_csv(str(tmp_path / 'out' / 'mg_confusion_matrix.csv'))
    assert rows[0][1:] == list(IMIGUE_CLASSES) and len(rows) == 33


def test_rgbpose_streams_and_fused(tmp_path):
    rng = np.random.default_rng(4)
    labels = rng.integers(0, 4, 30)
    rgb = rng.random((30, 4))
    pose = rng.random((30, 4))
    pose[np.arange(30), labels] += 0.5
    metric = MGClassificationMetric(
        topk=(1, 3), out_dir=str(tmp_path), prefix='val')
    metric.process(None, [
        _sample(dict(rgb=r, pose=p), int(y))
        for r, p, y in zip(rgb, pose, labels)
    ])
    metrics = metric.evaluate(30)
    for name, scores in (('rgb', rgb), ('pose', pose), ('fused', rgb + pose)):
        ref = np_reference(scores, labels)
        assert metrics[f'val/{name}_top1'] == pytest.approx(ref['top1'])
        assert metrics[f'val/{name}_macro_f1'] == pytest.approx(
            ref['macro_f1'])
        assert f'val/{name}_top3' in metrics
        rows = _read_csv(str(tmp_path / f'val_confusion_matrix_{name}.csv'))
        # No dataset classes: indices name the classes.
        assert rows[0][1:] == ['0', '1', '2', '3']
        assert osp.isfile(tmp_path / f'val_confusion_matrix_{name}.png')
        assert osp.isfile(tmp_path / f'val_per_class_{name}.csv')


def test_120_convention_no_files_without_a_log_dir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    # The newest logger has no log file, as outside a runner.
    MMLogger.get_instance(f'nofile_{tmp_path.name}')
    metric = MGClassificationMetric()
    metric.process(None, [
        dict(pred_score=torch.tensor([0.1, 0.9]), gt_label=torch.tensor([1])),
        dict(pred_score=torch.tensor([0.8, 0.2]), gt_label=torch.tensor([1])),
    ])
    metrics = metric.evaluate(2)
    assert metrics['mg/top1'] == 0.5
    assert metrics['mg/macro_f1'] == pytest.approx((0 + 2 / 3) / 2)
    assert list(tmp_path.iterdir()) == []


def test_all_hidden_and_errors(tmp_path):
    metric = MGClassificationMetric(out_dir=str(tmp_path))
    metric.process(None, [_sample(np.array([0.5, 0.5]), -1)])
    assert metric.evaluate(1) == {}
    assert list(tmp_path.iterdir()) == []

    metric = MGClassificationMetric(save_files=False)
    metric.dataset_meta = dict(classes=('a', 'b', 'c'))
    metric.process(None, [_sample(np.array([0.5, 0.5]), 1)])
    with pytest.raises(ValueError, match='3 classes but the model scores 2'):
        metric.evaluate(1)
    with pytest.raises(ValueError, match='topk'):
        MGClassificationMetric(topk=(0, ))


def test_in_tools_test_run(tiny_pose_ann, tmp_path):
    """tools/test.py with the prototype toy config: the metric logs its
    table, writes its files into the run's log dir, and its numbers agree
    with a numpy reference on the scores that --dump saved."""
    from mmaction.registry import MODELS
    from mmaction.utils import register_all_modules

    from mmmg.utils.config import read_config

    register_all_modules()
    cfg = read_config(PROTO_POSE_CONFIG)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    ckpt = str(tmp_path / 'untrained.pth')
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), ckpt)

    work_dir = tmp_path / 'work'
    dump = str(tmp_path / 'scores.pkl')
    proc = run_tool([
        'tools/test.py', PROTO_POSE_CONFIG, ckpt, '--work-dir',
        str(work_dir), '--dump', dump, '--stream', 'joint', '--cfg-options'
    ] + tiny_cfg_options(tiny_pose_ann))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    log = proc.stdout + proc.stderr
    assert 'acc/top1' in log and 'mg/macro_f1' in log
    assert 'touch chin' in log  # the per-class table, by name

    [log_dir] = [d for d in glob.glob(str(work_dir / '*')) if osp.isdir(d)]
    [json_log] = glob.glob(osp.join(log_dir, '*.json'))
    with open(json_log) as f:
        logged = json.loads(f.readlines()[-1])

    scores = load_scores(dump)
    probs = np.stack([s['scores']['joint'] for s in scores['samples']])
    labels = np.array([s['label'] for s in scores['samples']])
    ref = np_reference(probs, labels)
    for key in ('top1', 'top5', 'mean1', 'macro_f1'):
        assert logged[f'mg/{key}'] == pytest.approx(ref[key], abs=1e-4)

    rows = _read_csv(osp.join(log_dir, 'mg_confusion_matrix.csv'))
    assert rows[0][1:] == list(IMIGUE_CLASSES)
    counts = np.array([r[1:] for r in rows[1:]], dtype=int)
    np.testing.assert_array_equal(counts, ref['confusion'])
    assert counts.sum() == 15 and set(np.nonzero(
        counts.sum(1))[0]) == {10, 16, 22}
    assert osp.getsize(osp.join(log_dir, 'mg_confusion_matrix.png')) > 0
    assert osp.isfile(osp.join(log_dir, 'mg_per_class.csv'))
