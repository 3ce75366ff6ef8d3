"""Fusion presets in configs/fusion/ applied by tools/fuse_scores.py --load."""
import csv
import importlib.util
import json
import os.path as osp
import pickle

import numpy as np
import pytest

from mmmg.evaluation import load_scores
from mmmg.fusion.ensemble import Ensemble
from ..conftest import REPO

PRESET = osp.join(REPO, 'configs', 'fusion', 'mm_gesture_miga2025.json')
NUM_CLASSES = 32
SWIN = ('swin_base_rgb', 'swin_small_rgb_ma52', 'swin_base_taylor',
        'swin_base_depth', 'swin_base_flow')
RGBPOSE = ('rgbpose_joint', 'rgbpose_limb')


def load_tool():
    spec = importlib.util.spec_from_file_location(
        'fuse_scores', osp.join(REPO, 'tools', 'fuse_scores.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def probabilities(rng, n, labels, quality):
    z = rng.normal(size=(n, NUM_CLASSES))
    z[np.arange(n), labels] += quality
    e = np.exp(z - z.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


def anchor_fusion(scores):
    """momiji-bit/MM-Gesture ensemble/ensemble.py, written out in numpy:
    0.2 x each Swin stream + 0.5 x each RGBPose model, whose score is
    0.5 rgb + 0.5 pose."""
    fused = sum(0.2 * scores[name] for name in SWIN)
    for model in RGBPOSE:
        fused = fused + 0.5 * (0.5 * scores[f'{model}.rgb'] +
                               0.5 * scores[f'{model}.pose'])
    return fused


@pytest.fixture(scope='module')
def anchor_dumps(tmp_path_factory):
    """Stock MMAction2 1.2.0 test dumps (``pred_score``, ``gt_label``), the
    files the anchor's script reads, all in the order of one test list."""
    root = tmp_path_factory.mktemp('preset')
    rng = np.random.default_rng(0)
    n = 60
    ids = [f'{50 + i // 6:04d}_{i % 6}' for i in range(n)]
    labels = rng.integers(0, NUM_CLASSES, n)
    scores = {}
    for i, name in enumerate(SWIN):
        scores[name] = probabilities(rng, n, labels, 0.5 + 0.3 * i)
    for model in RGBPOSE:
        for part, quality in (('rgb', 1.0), ('pose', 1.8)):
            scores[f'{model}.{part}'] = probabilities(rng, n, labels, quality)
    specs = []
    for name in SWIN:
        records = [
            dict(pred_score=s, gt_label=np.array([y]))
            for s, y in zip(scores[name], labels)
        ]
        path = root / f'{name}.pkl'
        path.write_bytes(pickle.dumps(records))
        specs.append(f'{name}={path}')
    for model in RGBPOSE:
        records = [
            dict(pred_score=dict(rgb=r, pose=p),
                 gt_label=np.array([y])) for r, p, y in zip(
                     scores[f'{model}.rgb'], scores[f'{model}.pose'], labels)
        ]
        path = root / f'{model}.pkl'
        path.write_bytes(pickle.dumps(records))
        specs.append(f'{model}={path}')
    test_list = root / 'test_list.txt'
    test_list.write_text(''.join(f'{i}.mp4 0\n' for i in ids))
    return root, specs, str(test_list), ids, labels, scores


def test_preset_holds_the_anchor_weights():
    ensemble = Ensemble.load(PRESET)
    assert ensemble.method == 'mean'
    assert ensemble.temperatures == [1.] * 9
    weights = dict(zip(ensemble.streams, ensemble.weights))
    # ensemble.py's weights (0.2 per Swin stream, 0.5 x 0.5 per RGBPose
    # head) sum to 2; the preset stores them divided by 2.
    assert sorted(weights) == sorted(
        list(SWIN) + [f'{m}.{p}' for m in RGBPOSE for p in ('rgb', 'pose')])
    for name, w in weights.items():
        assert w == pytest.approx((0.2 if name in SWIN else 0.25) / 2), name
    meta = json.load(open(PRESET))['meta']
    assert 'momiji-bit/MM-Gesture ensemble/ensemble.py' in meta['source']
    for config in meta['configs'].values():
        assert osp.isfile(osp.join(REPO, config)), config


def test_load_applies_the_anchor_weights(anchor_dumps):
    root, specs, test_list, ids, labels, scores = anchor_dumps
    out = root / 'out'
    report = load_tool().main([
        '--load', PRESET, '--test', *specs, '--test-ids', test_list,
        '--test-list', test_list, '--target', 'index', '--out-dir',
        str(out)
    ])
    expected = anchor_fusion(scores)
    fused = {
        s['id']: s['scores']['fused']
        for s in load_scores(str(out / 'fused_test.pkl'))['samples']
    }
    assert sorted(fused) == sorted(ids)
    got = np.stack([fused[i] for i in ids])
    # The anchor's scores divided by the sum of its weights (2); score
    # files store float32.
    np.testing.assert_allclose(got, expected / 2, rtol=1e-6, atol=1e-8)
    with open(out / 'submission.csv') as f:
        rows = list(csv.reader(f))[1:]
    assert [r[0] for r in rows] == ids
    assert [int(r[1]) for r in rows] == expected.argmax(1).tolist()
    fused_row = report['splits']['test'][-1]
    assert fused_row['stream'] == 'fused'
    assert fused_row['top1'] == pytest.approx(
        (expected.argmax(1) == labels).mean())


def test_load_names_missing_streams(anchor_dumps, capsys):
    root, specs, test_list, *_ = anchor_dumps
    tool = load_tool()
    with pytest.raises(SystemExit) as exc:
        tool.cli_main(tool.main, [
            '--load', PRESET, '--test', *specs[1:], '--test-ids', test_list,
            '--out-dir',
            str(root / 'missing')
        ])
    assert exc.value.code == 2
    assert "missing ['swin_base_rgb']" in capsys.readouterr().err
