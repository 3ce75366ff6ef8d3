"""The score pickle format: validation, ordering, atomic save, load."""
import pickle

import numpy as np
import pytest

from mmmg.evaluation import (ScoreFileError, build_score_file, label_vector,
                             load_scores, save_scores, score_matrix)


def _rec(sid, label=1, c=4, stream='joint', value=None):
    p = np.full(c, 1 / c) if value is None else value
    return dict(id=sid, label=label, scores={stream: p})


def test_build_sorts_by_video_then_clip_number():
    sf = build_score_file([_rec('0054_10'), _rec('0054_2'), _rec('0001_0')])
    assert [s['id'] for s in sf['samples']] == ['0001_0', '0054_2', '0054_10']
    assert sf['num_classes'] == 4 and sf['streams'] == ['joint']


def test_unknown_labels_become_none():
    sf = build_score_file(
        [_rec('a', label=-1),
         _rec('b', label=None),
         _rec('c', label=2)])
    np.testing.assert_array_equal(label_vector(sf), [-1, -1, 2])


@pytest.mark.parametrize('records, message', [
    ([_rec('a'), _rec('a')], "duplicate sample id 'a'"),
    ([_rec('a'), _rec('b', c=5)], "'b' stream 'joint' has 5 classes"),
    ([_rec('a', value=np.array([np.nan, 1, 0, 0]))], 'NaN or infinite'),
    ([_rec('a', value=np.array([np.inf, 1, 0, 0]))], 'NaN or infinite'),
    ([_rec('a', label=4)], 'label 4'),
    ([_rec('a'), _rec('b', stream='rgb')], "'b' has streams"),
    ([], 'no samples'),
])
def test_bad_records_name_the_sample(records, message):
    with pytest.raises(ScoreFileError, match='x.pkl') as err:
        build_score_file(records, source='x.pkl')
    assert message in str(err.value)


def test_save_load_roundtrip_is_atomic(tmp_path):
    path = tmp_path / 'sub' / 's.pkl'
    sf = build_score_file([_rec('a', value=np.array([.1, .2, .3, .4]))],
                          classes=list('wxyz'),
                          meta=dict(config='c.py'))
    save_scores(str(path), sf)
    assert sorted(p.name for p in path.parent.iterdir()) == ['s.pkl']
    back = load_scores(str(path))
    assert back['classes'] == list('wxyz') and back['meta']['config'] == 'c.py'
    np.testing.assert_allclose(score_matrix(back, 'joint'), [[.1, .2, .3, .4]])


def test_load_rejects_foreign_pickle(tmp_path):
    path = tmp_path / 'stock.pkl'
    with open(path, 'wb') as f:
        pickle.dump([{'pred_scores': {}}], f)
    with pytest.raises(ScoreFileError, match='not an mmmg score file'):
        load_scores(str(path))
