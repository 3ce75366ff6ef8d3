import numpy as np
import pytest

from mmmg.emotion.bags import build_bags, join_streams, read_video_labels


def write(tmp_path, text, name='labels.csv'):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def stream(ids, dims, offset=0.):
    ids = list(ids)
    return dict(
        features=np.arange(len(ids) * dims, dtype=np.float32).reshape(
            len(ids), dims) + offset,
        sample_ids=np.array(ids),
        videos=np.array([i.rsplit('_', 1)[0] for i in ids]))


def test_labels(tmp_path):
    path = write(tmp_path, 'video,outcome\nv1,win\nv2,LOSE\nv3,1\n\nv4,0\n')
    assert read_video_labels(path) == dict(v1=1, v2=0, v3=1, v4=0)


@pytest.mark.parametrize('text, message', [
    ('v1,win\n', 'header'),
    ('video,outcome\nv1,draw\n', 'line 2'),
    ('video,outcome\nv1,win\nv1,lose\n', 'line 3.*twice'),
])
def test_bad_labels_name_file_and_line(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(ValueError, match=message) as info:
        read_video_labels(path)
    assert 'labels.csv' in str(info.value)


def test_join_keeps_common_ids_in_natural_order():
    a = stream(['v_10', 'v_2', 'v_1', 'w_1'], 2)
    b = stream(['v_1', 'v_2', 'v_10'], 3, offset=100.)
    feats, ids, videos = join_streams([a, b])
    assert ids == ['v_1', 'v_2', 'v_10']
    assert videos == ['v', 'v', 'v']
    assert feats.shape == (3, 5)
    np.testing.assert_array_equal(feats[0, :2], a['features'][2])
    np.testing.assert_array_equal(feats[0, 2:], b['features'][0])
    with pytest.raises(ValueError, match='no sample id'):
        join_streams([a, stream(['x_1'], 2)])


def test_bags_pad_mask_and_subsample():
    ids = [f'a_{i}' for i in range(10)] + ['b_0', 'b_1', 'c_0']
    bags = build_bags([stream(ids, 2)], dict(a=1, b=0), max_clips=4)
    assert bags.videos == ['a', 'b']  # c: no label
    assert bags.features.shape == (2, 4, 2)
    assert bags.mask.tolist() == [[True] * 4, [True, True, False, False]]
    assert bags.labels.tolist() == [1, 0]
    # a's 10 clips -> 4 spread evenly: clips 0, 3, 6, 9 in id order.
    expected = stream(ids, 2)['features'][[0, 3, 6, 9]]
    np.testing.assert_array_equal(bags.features[0], expected)
    assert not bags.features[1, 2:].any()
    with pytest.raises(KeyError, match='no outcome'):
        build_bags([stream(ids, 2)], dict(a=1, b=0), strict=True)
