"""tools/extract_features.py -> tools/retrieve.py and
tools/emotion_recognition.py on a tiny annotation file and encoder."""
import importlib.util
import json
import os.path as osp

import pytest

from mmmg.evaluation.features import load_features
from tests.cli_helpers import assert_known_error, run_cli
from tests.conftest import REPO
from tests.skeleton_helpers import (TOY_CONFIG, save_pretrainer_checkpoint,
                                    write_upper_body_ann)


def load_tool(name):
    spec = importlib.util.spec_from_file_location(
        name, osp.join(REPO, 'tools', f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def features(tmp_path_factory):
    root = tmp_path_factory.mktemp('ssl_tools')
    ann = str(root / 'ann.pkl')
    anns = write_upper_body_ann(ann, splits=dict(train=4, test=2))
    ckpt = str(root / 'pre.pth')
    save_pretrainer_checkpoint(ckpt)
    tool = load_tool('extract_features')
    paths = {}
    for split in ('train', 'test'):
        paths[split] = str(root / f'{split}.npz')
        code = tool.main([
            osp.join(REPO, TOY_CONFIG), ckpt, '--split', split, '--out',
            paths[split], '--no-progress', '--cfg-options',
            f'test_dataloader.dataset.ann_file={ann}'
        ])
        assert code == 0
    return root, paths, anns


def test_extracted_files(features):
    _, paths, anns = features
    train = load_features(paths['train'])
    assert train['features'].shape == (16, 128)
    assert set(train['videos'].tolist()) == {
        a['video']
        for a in anns if a['video'].startswith('tr')
    }


def test_retrieval(features):
    root, paths, _ = features
    out = str(root / 'retrieval' / 'r.json')
    assert load_tool('retrieve').main(
        ['--gallery', paths['train'], '--query', paths['test'], '--out',
         out]) == 0
    result = json.load(open(out))
    assert 0 <= result['top1'] <= result['top5'] <= 1
    assert result['queries'] == 8 and result['gallery'] == 16
    assert all(len(n) == 5 for n in result['neighbours'].values())


def test_emotion(features, tmp_path):
    root, paths, _ = features
    labels = tmp_path / 'labels.csv'
    labels.write_text('video,outcome\ntr00,win\ntr01,lose\ntr02,win\n'
                      'tr03,lose\nte00,win\nte01,lose\n')
    out = tmp_path / 'emotion'
    tool = load_tool('emotion_recognition')
    code = tool.main([
        '--train', paths['train'], paths['train'], '--test', paths['test'],
        paths['test'], '--labels',
        str(labels), '--out-dir',
        str(out), '--epochs', '5'
    ])
    assert code == 0
    for name in ('metrics.json', 'predictions.csv', 'loss.png',
                 'aggregator.pth'):
        assert (out / name).is_file()
    metrics = json.load(open(out / 'metrics.json'))
    assert metrics['train_videos'] == 4 and metrics['test_videos'] == 2
    assert 0 <= metrics['accuracy'] <= 1


def test_emotion_errors(features, tmp_path, capsys, monkeypatch):
    _, paths, _ = features
    labels = tmp_path / 'labels.csv'
    labels.write_text('video,outcome\ntr00,win\n')
    tool = 'tools/emotion_recognition.py'
    common = ['--labels', str(labels), '--out-dir', str(tmp_path / 'o')]
    assert_known_error(
        run_cli(tool, [
            '--train', paths['train'], paths['train'], '--test', paths['test']
        ] + common, capsys, monkeypatch), tool, 'same streams')
    assert_known_error(
        run_cli(
            tool,
            ['--train', tmp_path / 'missing.npz', '--test', paths['test']] +
            common, capsys, monkeypatch), tool, 'missing.npz')
    assert not (tmp_path / 'o').exists()


def test_feature_tools_refuse_bad_inputs(features, tmp_path, capsys,
                                         monkeypatch):
    """A missing or garbage input file or an output below a file: one line
    naming it, exit status 2, nothing written."""
    _, paths, _ = features
    junk = tmp_path / 'junk.bin'
    junk.write_bytes(b'garbage')
    below_file = junk / 'out.json'
    ckpt = tmp_path / 'ckpt.pth'
    ckpt.write_bytes(b'garbage')
    config = osp.join(REPO, TOY_CONFIG)
    for tool, argv, names in [
        ('tools/retrieve.py',
         ['--gallery', tmp_path / 'missing.npz', '--query',
          paths['test']], ['missing.npz']),
        ('tools/retrieve.py', ['--gallery', junk, '--query',
                               paths['test']], [junk, 'not a feature file']),
        ('tools/retrieve.py', [
            '--gallery', paths['train'], '--query', paths['test'], '--out',
            below_file
        ], ['out.json', 'is a file']),
        ('tools/extract_features.py',
         [config, ckpt, '--out',
          tmp_path / 'f.npz'], [ckpt, 'not a PyTorch checkpoint']),
        ('tools/summarize_scores.py', [junk], [junk, 'score pickle']),
    ]:
        assert_known_error(
            run_cli(tool, argv, capsys, monkeypatch), tool, *names)
    assert sorted(p.name
                  for p in tmp_path.iterdir()) == ['ckpt.pth', 'junk.bin']
