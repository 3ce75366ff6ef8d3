"""MGPoseDataset: sample ids, label checks, packing of the id."""
import pickle

import numpy as np
import pytest

from mmmg.datasets import IMIGUE_CLASSES, MGPoseDataset
from mmmg.datasets.transforms import PackMGInputs


def _ann(path, labels, ids=None):
    ids = ids or [f'0001_{i}' for i in range(len(labels))]
    anns = [dict(frame_dir=i, label=l, total_frames=4, img_shape=(8, 8),
                 keypoint=np.zeros((1, 4, 36, 2), np.float32),
                 keypoint_score=np.ones((1, 4, 36), np.float32))
            for i, l in zip(ids, labels)]
    with open(path, 'wb') as f:
        pickle.dump(dict(split=dict(test=ids), annotations=anns), f)
    return str(path)


def test_sample_id_and_classes(tmp_path):
    ds = MGPoseDataset(_ann(tmp_path / 'a.pkl', [3, -1]), pipeline=[],
                       split='test')
    assert ds.metainfo['classes'] == IMIGUE_CLASSES
    info = ds.get_data_info(1)
    assert info['sample_id'] == '0001_1' and info['label'] == -1
    packed = PackMGInputs()(dict(
        keypoint=info['keypoint'], label=info['label'],
        sample_id=info['sample_id']))
    assert packed['data_samples'].metainfo['sample_id'] == '0001_1'


def test_bad_label_and_duplicate_id(tmp_path):
    with pytest.raises(ValueError, match="'0001_0' has label 32"):
        MGPoseDataset(_ann(tmp_path / 'b.pkl', [32]), pipeline=[],
                      split='test')
    with pytest.raises(ValueError, match="'x' appears twice"):
        MGPoseDataset(_ann(tmp_path / 'c.pkl', [1, 2], ids=['x', 'x']),
                      pipeline=[], split='test')
