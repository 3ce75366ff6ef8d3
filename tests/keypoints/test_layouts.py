"""Keypoint layouts are mirror-consistent and index the right points."""
import numpy as np
import pytest

from mmmg.keypoints import LAYOUTS, get_layout
from mmmg.keypoints.layouts import MG36_FROM_OPENPOSE137, convert_keypoints


@pytest.mark.parametrize('name', sorted(LAYOUTS))
def test_mirror_consistency(name):
    layout = get_layout(name)
    flip = layout.flip_index
    n = layout.num_keypoints
    assert sorted(flip) == list(range(n))
    assert all(flip[flip[i]] == i for i in range(n))  # flip twice = identity
    edges = {tuple(sorted(e)) for e in layout.edges}
    for a, b in edges:
        assert tuple(sorted((flip[a], flip[b]))) in edges, (a, b)
    for i, j in layout.flip_pairs:
        a, b = layout.names[i], layout.names[j]
        if a.startswith(('left_', 'right_')):
            assert a.split('_', 1)[1] == b.split('_', 1)[1]
            assert {a.split('_')[0], b.split('_')[0]} == {'left', 'right'}


def test_mg36_semantics():
    mg = get_layout('mg36')
    assert mg.num_keypoints == 36
    assert mg.names[:2] == ('nose', 'neck')
    assert mg.names[24] == 'left_hand_wrist'
    assert mg.names[30] == 'right_hand_wrist'
    assert mg.flip_index[24] == 30 and mg.flip_index[14] == 14  # chin
    # Every point is reachable from the nose: the limb graph is connected.
    seen, todo = {0}, [0]
    while todo:
        p = todo.pop()
        for a, b in mg.edges:
            for u, v in ((a, b), (b, a)):
                if u == p and v not in seen:
                    seen.add(v)
                    todo.append(v)
    assert seen == set(range(36))


def test_convert_keypoints():
    kp = np.arange(137 * 2, dtype=np.float32).reshape(137, 2)[None, None]
    out = convert_keypoints(kp, 'openpose137', 'mg36')
    assert out.shape == (1, 1, 36, 2)
    np.testing.assert_array_equal(out[0, 0, :, 0],
                                  np.array(MG36_FROM_OPENPOSE137) * 2)
    # T == V must not confuse the axes.
    score = np.ones((1, 137, 137), dtype=np.float32)
    assert convert_keypoints(score, 'openpose137', 'mg36',
                             axis=-1).shape == (1, 137, 36)
    with pytest.raises(ValueError, match='expected 137'):
        convert_keypoints(kp[..., :10, :], 'openpose137', 'mg36')
    with pytest.raises(KeyError, match='no conversion'):
        convert_keypoints(kp, 'mg36', 'openpose137')
