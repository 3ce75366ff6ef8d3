"""MGPoseDataset: sample ids, label checks, packing of the id."""
import pickle

import numpy as np
import pytest

from mmmg.datasets import IMIGUE_CLASSES, MGPoseDataset
from mmmg.datasets.transforms import PackMGInputs
from mmmg.utils.cli import DataFileError


def _ann(path, labels, ids=None):
    ids = ids or [f'0001_{i}' for i in range(len(labels))]
    anns = [
        dict(
            frame_dir=i,
            label=l,
            total_frames=4,
            img_shape=(8, 8),
            keypoint=np.zeros((1, 4, 36, 2), np.float32),
            keypoint_score=np.ones((1, 4, 36), np.float32))
        for i, l in zip(ids, labels)
    ]
    with open(path, 'wb') as f:
        pickle.dump(dict(split=dict(test=ids), annotations=anns), f)
    return str(path)


def test_sample_id_and_classes(tmp_path):
    ds = MGPoseDataset(
        _ann(tmp_path / 'a.pkl', [3, -1]), pipeline=[], split='test')
    assert ds.metainfo['classes'] == IMIGUE_CLASSES
    info = ds.get_data_info(1)
    assert info['sample_id'] == '0001_1' and info['label'] == -1
    packed = PackMGInputs()(
        dict(
            keypoint=info['keypoint'],
            label=info['label'],
            sample_id=info['sample_id']))
    assert packed['data_samples'].metainfo['sample_id'] == '0001_1'


def test_bad_label_and_duplicate_id(tmp_path):
    with pytest.raises(ValueError, match="'0001_0' has label 32"):
        MGPoseDataset(
            _ann(tmp_path / 'b.pkl', [32]), pipeline=[], split='test')
    with pytest.raises(ValueError, match="'x' appears twice"):
        MGPoseDataset(
            _ann(tmp_path / 'c.pkl', [1, 2], ids=['x', 'x']),
            pipeline=[],
            split='test')


def test_unreadable_annotations_name_file_and_fix(tmp_path):
    good = _ann(tmp_path / 'good.pkl', [1, 2])
    with open(good, 'rb') as f:
        (tmp_path / 'cut.pkl').write_bytes(f.read()[:100])
    with open(tmp_path / 'scores.pkl', 'wb') as f:
        pickle.dump(dict(format='mmmg-scores', samples=[]), f)
    cases = [
        ('missing.pkl', 'test', "'.*missing.pkl' not found"),
        ('cut.pkl', 'test', 'cut.pkl: not a readable annotation pickle'),
        ('scores.pkl', 'test', 'scores.pkl is a score pickle'),
        ('good.pkl', 'valid', "no split 'valid'; it has 'test'"),
    ]
    for name, split, message in cases:
        with pytest.raises(DataFileError, match=message):
            MGPoseDataset(str(tmp_path / name), pipeline=[], split=split)
    with open(tmp_path / 'empty.pkl', 'wb') as f:
        pickle.dump(dict(split=dict(test=[]), annotations=[]), f)
    with pytest.raises(DataFileError, match="split 'test' has no samples"):
        MGPoseDataset(str(tmp_path / 'empty.pkl'), pipeline=[], split='test')


# --- labelled_fraction / subset_seed ---------------------------------------


def _subset_ids(path, fraction, seed=0):
    ds = MGPoseDataset(
        path,
        pipeline=[],
        split='test',
        labelled_fraction=fraction,
        subset_seed=seed)
    return [ds.get_data_info(i)['sample_id'] for i in range(len(ds))]


def test_labelled_fraction_keeps_a_seeded_share(tmp_path):
    n = 40
    ids = [f'clip_{i:03d}' for i in range(n)]
    path = _ann(tmp_path / 'f.pkl', [i % 32 for i in range(n)], ids=ids)
    full = _subset_ids(path, 1.0)
    assert full == ids
    kept = _subset_ids(path, 0.1, seed=0)
    assert len(kept) == round(0.1 * n) == 4
    assert len(set(kept)) == 4 and set(kept) <= set(ids)
    assert kept == sorted(kept, key=ids.index)  # original order kept
    assert _subset_ids(path, 0.1, seed=0) == kept  # reproducible
    assert _subset_ids(path, 0.1, seed=1) != kept  # seed matters
    assert len(_subset_ids(path, 0.25, seed=1)) == 10
    # Labels and ids still travel with the kept samples.
    ds = MGPoseDataset(
        path, pipeline=[], split='test', labelled_fraction=0.1, subset_seed=0)
    for i in range(len(ds)):
        info = ds.get_data_info(i)
        assert info['label'] == int(info['sample_id'][5:]) % 32


def test_labelled_fraction_keeps_at_least_one(tmp_path):
    path = _ann(tmp_path / 'g.pkl', [0, 1, 2])
    assert len(_subset_ids(path, 0.1)) == 1  # round(0.3) = 0 -> 1
    assert len(_subset_ids(path, 0.5)) == 2  # round(1.5) = 2


@pytest.mark.parametrize('fraction', [0, -0.1, 1.5])
def test_invalid_labelled_fraction_raises(tmp_path, fraction):
    path = _ann(tmp_path / 'h.pkl', [0, 1])
    with pytest.raises(ValueError, match='labelled_fraction'):
        MGPoseDataset(
            path, pipeline=[], split='test', labelled_fraction=fraction)
