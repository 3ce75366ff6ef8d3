import os

import numpy as np
import pytest
import torch
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

from mmmg.evaluation.features import (FeatureFileError, extract_features,
                                      load_encoder, load_features,
                                      save_features)
from mmmg.utils.config import read_config
from tests.skeleton_helpers import (TOY_CONFIG, save_pretrainer_checkpoint,
                                    write_upper_body_ann)


def features(n=4, d=3):
    return dict(
        features=np.arange(n * d, dtype=np.float32).reshape(n, d),
        labels=np.arange(n),
        sample_ids=np.array([f'v_{i}' for i in range(n)]),
        videos=np.array(['v'] * n))


def test_round_trip_leaves_no_temporary_file(tmp_path):
    path = str(tmp_path / 'sub' / 'f.npz')
    save_features(path, features(), 'ckpt.pth')
    assert os.listdir(tmp_path / 'sub') == ['f.npz']
    out = load_features(path)
    for key, value in features().items():
        np.testing.assert_array_equal(out[key], value)
    assert str(out['checkpoint']) == 'ckpt.pth'


@pytest.mark.parametrize('damage, message', [
    (lambda f: f.pop('videos'), 'missing'),
    (lambda f: f['features'].__setitem__((0, 0), np.nan), 'NaN'),
    (lambda f: f['sample_ids'].__setitem__(1, 'v_0'), 'duplicate'),
    (lambda f: f.__setitem__('labels', np.arange(3)), r'\[N, D\]'),
])
def test_bad_files_are_named(tmp_path, damage, message):
    feats = features()
    damage(feats)
    path = str(tmp_path / 'bad.npz')
    np.savez(path, **feats)
    with pytest.raises(FeatureFileError, match=message) as info:
        load_features(path)
    assert 'bad.npz' in str(info.value)


def test_missing_and_foreign_files(tmp_path):
    with pytest.raises(FeatureFileError, match='nope.npz'):
        load_features(str(tmp_path / 'nope.npz'))
    other = tmp_path / 'text.npz'
    other.write_text('not numpy')
    with pytest.raises(FeatureFileError, match='text.npz'):
        load_features(str(other))


@pytest.fixture
def toy(tmp_path):
    ann = str(tmp_path / 'ann.pkl')
    anns = write_upper_body_ann(ann)
    ckpt = str(tmp_path / 'pre.pth')
    model = save_pretrainer_checkpoint(ckpt)
    cfg = read_config(TOY_CONFIG)
    cfg.test_dataloader.dataset.ann_file = ann
    return cfg, ckpt, model, anns


def test_extracted_features_are_the_checkpoint_encoder(toy):
    cfg, ckpt, pretrainer, anns = toy
    init_default_scope('mmaction')
    encoder = load_encoder(cfg, ckpt)
    loader = dict(cfg.test_dataloader, num_workers=0, persistent_workers=False)
    loader['dataset'] = dict(loader['dataset'], split='test')
    out = extract_features(encoder, loader, progress=False)
    test = [a for a in anns if a['video'].startswith('te')]
    assert out['features'].shape == (len(test), 128)
    assert sorted(out['sample_ids'].tolist()) == sorted(a['frame_dir']
                                                        for a in test)
    by_id = {a['frame_dir']: a for a in test}
    for sid, label, video in zip(out['sample_ids'], out['labels'],
                                 out['videos']):
        assert label == by_id[sid]['label']
        assert video == by_id[sid]['video']
    # The same clips through the pre-trainer's own encoder.
    batch = next(iter(Runner.build_dataloader(loader)))
    inputs = encoder.data_preprocessor(batch, False)['inputs']
    with torch.no_grad():
        expected = pretrainer.backbone(inputs.flatten(0, 1))
    np.testing.assert_allclose(
        out['features'][:len(expected)],
        expected.numpy(),
        rtol=1e-4,
        atol=1e-5)


def test_checkpoint_without_encoder_is_named(toy, tmp_path):
    cfg = toy[0]
    path = str(tmp_path / 'head_only.pth')
    torch.save({'state_dict': {
        'cls_head.fc_cls.weight': torch.zeros(1)
    }}, path)
    init_default_scope('mmaction')
    with pytest.raises(KeyError, match='head_only.pth'):
        load_encoder(cfg, path)
    with pytest.raises(FileNotFoundError, match='missing.pth'):
        load_encoder(cfg, str(tmp_path / 'missing.pth'))
