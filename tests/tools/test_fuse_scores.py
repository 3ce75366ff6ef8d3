import csv
import importlib.util
import json
import os.path as osp
import pickle
import zipfile

import numpy as np
import pytest
import torch
from mmaction.structures import ActionDataSample
from mmengine.structures import LabelData

from mmmg.classes import MA52_ACTION_TO_BODY
from mmmg.evaluation import build_score_file, load_scores, save_scores
from mmmg.fusion.ensemble import Ensemble
from tests.cli_helpers import WITHOUT_TORCH
from tests.conftest import REPO, run_tool

NUM_CLASSES = 32


def load_tool():
    spec = importlib.util.spec_from_file_location(
        'fuse_scores', osp.join(REPO, 'tools', 'fuse_scores.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def split_ids(split, n):
    first = 1 if split == 'val' else 50
    return [f'{first + i // 5:04d}_{i % 5}' for i in range(n)]


def make_streams(rng, n, labels):
    """Four streams of different quality, as probabilities."""
    streams = {}
    for name, quality, sharp in (('joint', 2.0, 1.), ('limb', 1.5, 3.),
                                 ('rgb', 1.0, 1.), ('pose', 0.5, 1.)):
        z = rng.normal(size=(n, NUM_CLASSES))
        z[np.arange(n), labels] += quality
        z *= sharp
        e = np.exp(z - z.max(1, keepdims=True))
        streams[name] = e / e.sum(1, keepdims=True)
    return streams


def stock_110_dump(path, rgb, pose, labels):
    """What MMAction2 1.1.0's DumpResults writes for an RGBPoseConv3D: the
    data samples' ``to_dict()``, in dataset order, without sample ids."""
    records = []
    for r, p, y in zip(rgb, pose, labels):
        sample = ActionDataSample(metainfo=dict(img_shape=(56, 56)))
        sample.pred_scores = LabelData(
            rgb=torch.from_numpy(r).float(), pose=torch.from_numpy(p).float())
        sample.pred_labels = LabelData(
            rgb=torch.tensor([int(r.argmax())]),
            pose=torch.tensor([int(p.argmax())]))
        sample.gt_labels = LabelData(item=torch.tensor([int(y)]))
        records.append(sample.to_dict())
    with open(path, 'wb') as f:
        pickle.dump(records, f)


@pytest.fixture(scope='module')
def score_files(tmp_path_factory):
    root = tmp_path_factory.mktemp('fuse')
    rng = np.random.default_rng(0)
    files = {}
    for split, n in (('val', 150), ('test', 120)):
        ids = split_ids(split, n)
        labels = rng.integers(0, NUM_CLASSES, n)
        streams = make_streams(rng, n, labels)
        for name in ('joint', 'limb'):
            # mmmg files are joined by id: store them in another order.
            order = rng.permutation(n)
            records = [
                dict(
                    id=ids[i],
                    label=int(labels[i]),
                    scores={name: streams[name][i]}) for i in order
            ]
            path = str(root / f'{split}_{name}.pkl')
            save_scores(path, build_score_file(records))
            files[split, name] = path
        # The stock dump is in the order of its test list.
        order = rng.permutation(n)
        list_path = root / f'{split}_list.txt'
        list_path.write_text(''.join(f'{ids[i]}.mp4 {labels[i]}\n'
                                     for i in order))
        files[split, 'list'] = str(list_path)
        files[split, 'rgbpose'] = str(root / f'{split}_rgbpose.pkl')
        stock_110_dump(files[split, 'rgbpose'], streams['rgb'][order],
                       streams['pose'][order], labels[order])
        files[split, 'truth'] = dict(ids=ids, labels=labels, streams=streams)
    return root, files


def specs(files, split):
    return [
        f'joint={files[split, "joint"]}', f'limb={files[split, "limb"]}',
        f'rgbpose={files[split, "rgbpose"]}'
    ]


def test_fit_apply_and_submission(score_files):
    root, files = score_files
    out = root / 'out'
    proc = run_tool([
        'tools/fuse_scores.py', '--val', *specs(files, 'val'), '--test',
        *specs(files, 'test'), '--val-ids', files['val', 'list'], '--test-ids',
        files['test', 'list'], '--test-list', files['test', 'list'],
        '--search', 'macro_f1', '--out-dir',
        str(out)
    ])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert 'macro-F1' in proc.stdout and 'fused' in proc.stdout
    for name in ('fusion.json', 'fused_val.pkl', 'fused_test.pkl',
                 'submission.csv', 'report.md', 'report.json', 'report.png'):
        assert (out / name).is_file(), name

    ensemble = Ensemble.load(str(out / 'fusion.json'))
    assert sorted(
        ensemble.streams) == ['joint', 'limb', 'rgbpose.pose', 'rgbpose.rgb']
    assert ensemble.metric == 'macro_f1'
    assert all(0.05 <= t <= 20 for t in ensemble.temperatures)

    # The fused test scores are the fitted ensemble applied to the streams
    # joined by id (here: by construction, in the truth's order).
    truth = files['test', 'truth']
    by_name = dict(
        joint='joint',
        limb='limb',
        **{
            'rgbpose.rgb': 'rgb',
            'rgbpose.pose': 'pose'
        })
    stack = np.stack([truth['streams'][by_name[s]] for s in ensemble.streams])
    expected = ensemble.fuse(stack)
    fused = load_scores(str(out / 'fused_test.pkl'))
    got = {s['id']: s for s in fused['samples']}
    for i, sid in enumerate(truth['ids']):
        np.testing.assert_allclose(
            got[sid]['scores']['fused'], expected[i], atol=1e-6)
        assert got[sid]['label'] == truth['labels'][i]

    # Submission rows follow the test list, with raw MiGA labels.
    with open(out / 'submission.csv') as f:
        table = list(csv.reader(f))
    listed = [
        line.split()[0][:-4]
        for line in open(files['test', 'list']).read().splitlines()
    ]
    assert table[0] == ['Id', 'Target']
    assert [row[0] for row in table[1:]] == listed
    pred = dict(zip(truth['ids'], expected.argmax(1)))
    for sid, target in table[1:]:
        raw = 99 if pred[sid] == NUM_CLASSES - 1 else pred[sid] + 1
        assert int(target) == raw

    report = json.load(open(out / 'report.json'))
    test_rows = report['splits']['test']
    assert [r['stream'] for r in test_rows][-1] == 'fused'
    assert test_rows[-1]['top1'] == pytest.approx(
        (expected.argmax(1) == truth['labels']).mean())

    # A saved ensemble applied to the same test files gives the same.
    again = load_tool().main([
        '--load',
        str(out / 'fusion.json'), '--test', *specs(files, 'test'),
        '--test-ids', files['test', 'list'], '--out-dir',
        str(root / 'again')
    ])
    assert again['splits']['test'] == report['splits']['test']


def test_streams_of_one_file_can_be_taken_alone(score_files):
    root, files = score_files
    report = load_tool().main([
        '--val', f'pose_only={files["val", "rgbpose"]}#pose',
        f'joint={files["val", "joint"]}', '--val-ids', files['val', 'list'],
        '--method', 'mean', '--search', 'none', '--out-dir',
        str(root / 'one')
    ])
    assert report['ensemble']['streams'] == ['pose_only', 'joint']
    assert report['ensemble']['weights'] == [0.5, 0.5]
    assert report['ensemble']['temperatures'] == [1., 1.]


def test_bad_inputs(score_files, tmp_path):
    root, files = score_files
    tool = load_tool()
    # A stock dump without ids and no id list.
    with pytest.raises(ValueError, match='val_rgbpose.pkl'):
        tool.main(['--val', *specs(files, 'val'), '--out-dir', str(tmp_path)])
    # The test streams must be the fitted ones.
    ensemble = Ensemble(['joint', 'limb', 'rgb'], [.4, .3, .3], [1, 1, 1])
    ensemble.save(str(tmp_path / 'fusion.json'))
    with pytest.raises(ValueError, match=r"missing \['rgb'\]"):
        tool.main([
            '--load',
            str(tmp_path / 'fusion.json'), '--test',
            f'joint={files["test", "joint"]}', f'limb={files["test", "limb"]}',
            '--out-dir',
            str(tmp_path)
        ])
    # Validation and test from different samples of one stream: ids of
    # the val joint file are absent from the test limb file.
    with pytest.raises(ValueError, match='test_limb.pkl|val_joint.pkl'):
        tool.main([
            '--val', f'joint={files["val", "joint"]}',
            f'limb={files["test", "limb"]}', '--out-dir',
            str(tmp_path)
        ])
    with pytest.raises(FileNotFoundError, match='nope.pkl'):
        tool.main(['--val', 'joint=nope.pkl', '--out-dir', str(tmp_path)])


def test_fusion_and_pseudo_labels_run_without_torch(score_files, tmp_path):
    root, files = score_files
    mmmg_specs = {
        split: [f'{n}={files[split, n]}' for n in ('joint', 'limb')]
        for split in ('val', 'test')
    }
    out = tmp_path / 'fusion'
    proc = run_tool([
        '-c', WITHOUT_TORCH, 'tools/fuse_scores.py', '--val',
        *mmmg_specs['val'], '--test', *mmmg_specs['test'], '--test-list',
        files['test', 'list'], '--search', 'macro_f1', '--out-dir',
        str(out)
    ])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (out / 'submission.csv').is_file()
    # Pseudo-labels on the fused test scores, into a pose annotation.
    truth = files['test', 'truth']
    ann = tmp_path / 'ann.pkl'
    with open(ann, 'wb') as f:
        pickle.dump(
            dict(
                split=dict(train=['0001_0']),
                annotations=[
                    dict(frame_dir=i, label=0)
                    for i in ['0001_0'] + truth['ids']
                ]), f)
    proc = run_tool([
        '-c', WITHOUT_TORCH, 'tools/pseudo_label.py',
        str(out / 'fused_test.pkl'), '--ann-file',
        str(ann), '--min-confidence', '0', '--out',
        str(tmp_path / 'pseudo.pkl')
    ])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (tmp_path / 'pseudo.pkl').is_file()
    # And into a video list.
    (tmp_path / 'train.txt').write_text('0001_0.mp4 0\n')
    proc = run_tool([
        '-c', WITHOUT_TORCH, 'tools/pseudo_label.py',
        str(out / 'fused_test.pkl'), '--train-list',
        str(tmp_path / 'train.txt'), '--unlabelled-list',
        files['test', 'list'], '--min-confidence', '0', '--out',
        str(tmp_path / 'pseudo.txt')
    ])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (tmp_path / 'pseudo.txt').is_file()


def provenance_file(path, truth, stream='joint', scores=None, **meta):
    scores = truth['streams'][stream] if scores is None else scores
    records = [
        dict(id=i, label=int(y), scores={stream: p})
        for i, y, p in zip(truth['ids'], truth['labels'], scores)
    ]
    save_scores(str(path), build_score_file(records, meta=meta))
    return f'{stream}={path}'


def snapshot(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_bad_inputs_change_nothing(score_files, tmp_path):
    """Each bad input: one line naming the file and what differs, exit
    status 2, and the earlier run's output set left as it was."""
    _, files = score_files
    val, test = files['val', 'truth'], files['test', 'truth']
    model = dict(config='configs/joint.py', checkpoint_sha256='a' * 64)
    val_spec = provenance_file(tmp_path / 'val.pkl', val, split='val', **model)
    out = tmp_path / 'out'
    proc = run_tool([
        'tools/fuse_scores.py', '--val', val_spec, '--test',
        provenance_file(tmp_path / 'test.pkl', test, split='test', **model),
        '--out-dir',
        str(out)
    ])
    assert proc.returncode == 0, proc.stderr
    assert 'probabilities' in proc.stdout
    before = snapshot(out)
    assert 'submission.csv' in before

    other = dict(model, checkpoint_sha256='b' * 64)
    logits = test['streams']['joint'].copy()
    logits[3] = np.log(logits[3]) - 1  # one row is not a probability
    cases = [
        (provenance_file(tmp_path / 'other.pkl', test, split='test',
                         **other), "other.pkl (stream 'joint') has "
         "checkpoint_sha256 bbbbbbbbbbbb..."),
        (provenance_file(
            tmp_path / 'again_val.pkl', test, split='val',
            **model), "again_val.pkl (stream 'joint') scores "
         "the data"),
        (provenance_file(
            tmp_path / 'mixed.pkl', test, scores=logits, split='test',
            **model),
         'mixed.pkl: mixes probabilities and other scores: 1 of 120'),
    ]
    for spec, message in cases:
        proc = run_tool([
            'tools/fuse_scores.py', '--val', val_spec, '--test', spec,
            '--out-dir',
            str(out)
        ])
        assert proc.returncode == 2, proc.stderr
        assert message in proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
        assert snapshot(out) == before
    # A saved ensemble refuses test scores of another class count.
    fewer = test['streams']['joint'][:, :10]
    proc = run_tool([
        'tools/fuse_scores.py', '--load',
        str(out / 'fusion.json'), '--test',
        provenance_file(
            tmp_path / 'ten.pkl',
            dict(test, labels=test['labels'] % 10),
            scores=fewer / fewer.sum(1, keepdims=True),
            split='test',
            **model), '--out-dir',
        str(out)
    ])
    assert proc.returncode == 2
    assert "ten.pkl (stream 'joint') has num_classes 10 but" in proc.stderr
    assert snapshot(out) == before
    # A run that succeeds replaces the whole set: no test outputs are
    # left from the earlier run.
    proc = run_tool(
        ['tools/fuse_scores.py', '--val', val_spec, '--out-dir',
         str(out)])
    assert proc.returncode == 0, proc.stderr
    assert sorted(snapshot(out)) == [
        'fused_val.pkl', 'fusion.json', 'report.json', 'report.md',
        'report.png'
    ]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith('.')]


def test_ma52_submission_zip(tmp_path):
    """--target ma52 writes MAC 2024's zip from fused 52-class scores."""
    rng = np.random.default_rng(3)
    args = []
    for split, n in (('val', 60), ('test', 20)):
        labels = rng.integers(0, 52, n)
        specs = []
        for name in ('rgb', 'flow'):
            logits = rng.normal(size=(n, 52))
            logits[np.arange(n), labels] += 3
            probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
            ids = [f'{split}{i:04d}' for i in range(n)]
            path = str(tmp_path / f'{split}_{name}.pkl')
            save_scores(
                path,
                build_score_file([
                    dict(
                        id=i,
                        label=int(y),
                        scores={name: p.astype(np.float32)})
                    for i, y, p in zip(ids, labels, probs)
                ]))
            specs.append(f'{name}={path}')
        args += [f'--{split}'] + specs
    out = tmp_path / 'fusion'
    proc = run_tool(['tools/fuse_scores.py'] + args +
                    ['--target', 'ma52', '--out-dir',
                     str(out)])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert not (out / 'submission.csv').exists()
    with zipfile.ZipFile(out / 'submission.zip') as archive:
        rows = archive.read('prediction.csv').decode().splitlines()
    assert rows[0] == 'id,pred_label_1,pred_label_2'
    assert rows[1].startswith('test0000.mp4,') and len(rows) == 21
    fused = load_scores(str(out / 'fused_test.pkl'))
    by_id = {s['id']: s for s in fused['samples']}
    for row in rows[1:]:
        clip, body, action = row.split(',')
        [probs] = by_id[clip[:-4]]['scores'].values()
        assert int(action) == int(np.argmax(probs))
        assert int(body) == MA52_ACTION_TO_BODY[int(action)]
