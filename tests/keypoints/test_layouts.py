"""Keypoint layouts are mirror-consistent and convert into each other."""
import numpy as np
import pytest

from mmmg.keypoints import LAYOUTS, get_layout
from mmmg.keypoints.layouts import (CANONICAL_NAMES, KINECT_V2_JOINTS,
                                    MG22_FROM_OPENPOSE137,
                                    MG36_FROM_OPENPOSE137, POINT_SOURCES,
                                    MissingKeypointsError, _mirror_name,
                                    conversion_table, conversion_targets,
                                    convert_keypoints, convert_pose,
                                    kinect_point_name, missing_keypoints)


@pytest.mark.parametrize('name', sorted(LAYOUTS))
def test_mirror_consistency(name):
    layout = get_layout(name)
    flip = layout.flip_index
    n = layout.num_keypoints
    assert sorted(flip) == list(range(n))
    assert all(flip[flip[i]] == i for i in range(n))  # flip twice = identity
    assert all(layout.names[flip[i]] == _mirror_name(layout.names[i])
               for i in range(n))
    edges = {tuple(sorted(e)) for e in layout.edges}
    assert len(edges) == len(layout.edges)  # no duplicates
    assert all(a != b and 0 <= a < n and 0 <= b < n for a, b in edges)
    for a, b in edges:
        assert tuple(sorted((flip[a], flip[b]))) in edges, (a, b)
    for i, j in layout.flip_pairs:
        a, b = layout.names[i], layout.names[j]
        if a.startswith(('left_', 'right_')):
            assert a.split('_', 1)[1] == b.split('_', 1)[1]
            assert {a.split('_')[0], b.split('_')[0]} == {'left', 'right'}
    left = [i for i, a in enumerate(layout.names) if a.startswith('left_')]
    right = [i for i, a in enumerate(layout.names) if a.startswith('right_')]
    assert sorted(flip[i] for i in left) == right


def _reachable(layout, start=0):
    seen, todo = {start}, [start]
    while todo:
        p = todo.pop()
        for a, b in layout.edges:
            for u, v in ((a, b), (b, a)):
                if u == p and v not in seen:
                    seen.add(v)
                    todo.append(v)
    return seen


@pytest.mark.parametrize(
    'name', ['openpose137', 'mg36', 'coco_wholebody133', 'kinect25'])
def test_limb_graph_connected(name):
    layout = get_layout(name)
    assert _reachable(layout) == set(range(layout.num_keypoints))


def test_mg36_semantics():
    mg = get_layout('mg36')
    assert mg.num_keypoints == 36
    assert mg.names[:2] == ('nose', 'neck')
    assert mg.names[24] == 'left_hand_wrist'
    assert mg.names[30] == 'right_hand_wrist'
    assert mg.flip_index[24] == 30 and mg.flip_index[14] == 14  # chin
    assert len(mg.edges) == 37


def test_coco_wholebody133_order():
    coco = get_layout('coco_wholebody133')
    assert coco.num_keypoints == 133
    assert coco.names[:3] == ('nose', 'left_eye', 'right_eye')
    assert coco.names[16] == 'right_ankle'
    assert coco.names[17:23] == ('left_big_toe', 'left_small_toe', 'left_heel',
                                 'right_big_toe', 'right_small_toe',
                                 'right_heel')
    assert coco.names[23] == 'face_00' and coco.names[90] == 'face_67'
    assert coco.names[91] == 'left_hand_wrist'
    assert coco.names[95] == 'left_hand_thumb4'
    assert coco.names[112] == 'right_hand_wrist'
    assert coco.names[132] == 'right_hand_pinky4'
    assert coco.flip_index[1] == 2  # eyes
    assert coco.flip_index[23] == 23 + 16  # jaw ends
    assert coco.flip_index[23 + 30] == 23 + 30  # nose tip stays
    assert coco.flip_index[91] == 112  # hands
    assert 'neck' not in coco.names
    # Shoulders and hips are linked directly instead of through neck/mid-hip.
    edges = {frozenset(coco.names[i] for i in e) for e in coco.edges}
    assert frozenset(('left_shoulder', 'right_shoulder')) in edges
    assert frozenset(('left_hip', 'right_hip')) in edges


def test_kinect25_order():
    kinect = get_layout('kinect25')
    assert len(KINECT_V2_JOINTS) == kinect.num_keypoints == 25
    assert kinect_point_name('HandTipLeft') == 'left_hand_tip'
    assert kinect_point_name('SpineShoulder') == 'spine_shoulder'
    assert kinect.names[:4] == ('spine_base', 'spine_mid', 'neck', 'head')
    assert kinect.names[4] == 'left_shoulder'
    assert kinect.names[8] == 'right_shoulder'
    assert kinect.names[20:] == ('spine_shoulder', 'left_hand_tip',
                                 'left_thumb', 'right_hand_tip', 'right_thumb')
    assert kinect.flip_index[21] == 23 and kinect.flip_index[22] == 24
    assert kinect.flip_index[7] == 11  # hands
    assert kinect.flip_index[20] == 20 and kinect.flip_index[3] == 3
    edges = {frozenset(kinect.names[i] for i in e) for e in kinect.edges}
    assert len(edges) == 24  # a tree on 25 joints
    assert frozenset(('left_wrist', 'left_thumb')) in edges


def test_point_sources_are_valid_and_mirrored():
    for source, table in POINT_SOURCES.items():
        names = set(get_layout(source).names)
        for target, points in table.items():
            assert target in CANONICAL_NAMES
            assert set(points) <= names, (source, target)
            mirrored = tuple(_mirror_name(p) for p in points)
            assert sorted(table[_mirror_name(target)]) == sorted(mirrored)


def synthetic_skeleton(seed=0):
    """Every OpenPose-137 point at a random position, with the neck and the
    mid-hip at the midpoints that COCO derives them from."""
    rng = np.random.default_rng(seed)
    xy = {
        n: rng.uniform(0, 100, 2).astype(np.float32)
        for n in get_layout('openpose137').names
    }
    xy['neck'] = (xy['left_shoulder'] + xy['right_shoulder']) / 2
    xy['mid_hip'] = (xy['left_hip'] + xy['right_hip']) / 2
    return xy


def layout_array(xy, layout, frames=3):
    """``[frames, V, 2]`` of the points of ``layout`` from a name dict,
    shifted by the frame index so frames differ."""
    one = np.stack([xy[n] for n in get_layout(layout).names])
    return np.stack([one + t for t in range(frames)]).astype(np.float32)


@pytest.mark.parametrize('target', ['mg36', 'mg22', 'openpose137'])
def test_coco_and_openpose_agree(target):
    xy = synthetic_skeleton()
    openpose = layout_array(xy, 'openpose137')
    coco = layout_array(xy, 'coco_wholebody133')
    missing = 'zero' if target == 'openpose137' else 'raise'
    from_openpose = convert_keypoints(openpose, 'openpose137', target)
    from_coco = convert_keypoints(
        coco, 'coco_wholebody133', target, missing=missing)
    names = get_layout(target).names
    expected = layout_array(xy, target)
    np.testing.assert_allclose(from_openpose, expected)
    for i, name in enumerate(names):
        if name in ('face_68', 'face_69'):  # pupils: not in COCO
            assert not from_coco[:, i].any()
        else:
            np.testing.assert_allclose(
                from_coco[:, i], expected[:, i], rtol=1e-6, err_msg=name)


def test_neck_is_shoulder_midpoint_with_min_confidence():
    coco = get_layout('coco_wholebody133')
    ls, rs = coco.names.index('left_shoulder'), coco.names.index(
        'right_shoulder')
    kp = np.zeros((2, 4, 133, 2), np.float32)
    score = np.full((2, 4, 133), 0.9, np.float32)
    kp[..., ls, :] = (10, 20)
    kp[..., rs, :] = (30, 24)
    score[..., rs] = 0.6
    score[1, 2, ls] = 0  # one shoulder missing in one frame
    out_kp, out_score = convert_pose(kp, score, 'coco_wholebody133', 'mg36')
    neck = get_layout('mg36').names.index('neck')
    assert out_kp.shape == (2, 4, 36, 2) and out_score.shape == (2, 4, 36)
    np.testing.assert_allclose(out_kp[0, :, neck], [[20, 22]] * 4)
    np.testing.assert_allclose(out_score[0, :, neck], [0.6] * 4)
    # A neck built from a missing shoulder is missing: (0, 0), score 0.
    assert out_score[1, 2, neck] == 0
    np.testing.assert_array_equal(out_kp[1, 2, neck], [0, 0])
    np.testing.assert_allclose(out_kp[1, 1, neck], [20, 22])
    # Plain copies keep their values: the shoulders themselves.
    mg_ls = get_layout('mg36').names.index('left_shoulder')
    np.testing.assert_array_equal(out_kp[1, 2, mg_ls], [10, 20])
    # Scores alone (axis=-1) also take the minimum, with T == V.
    square = np.ones((1, 133, 133), np.float32)
    square[0, :, rs] = 0.25
    out = convert_keypoints(square, 'coco_wholebody133', 'mg36', axis=-1)
    assert out.shape == (1, 133, 36)
    np.testing.assert_allclose(out[0, :, neck], 0.25)


def test_score_channel_for_xy_score_arrays():
    coco = get_layout('coco_wholebody133')
    lh, rh = coco.names.index('left_hip'), coco.names.index('right_hip')
    arr = np.zeros((2, 133, 3), np.float32)
    arr[:, lh] = (4, 8, 0.8)
    arr[:, rh] = (8, 12, 0.5)
    arr[1, rh, 2] = 0
    out = convert_keypoints(
        arr,
        'coco_wholebody133',
        'openpose137',
        missing='zero',
        score_channel=2)
    mid_hip = get_layout('openpose137').names.index('mid_hip')
    np.testing.assert_allclose(out[0, mid_hip], (6, 10, 0.5))
    np.testing.assert_array_equal(out[1, mid_hip], (0, 0, 0))
    # Without score_channel every channel is averaged.
    out = convert_keypoints(
        arr, 'coco_wholebody133', 'openpose137', missing='zero')
    np.testing.assert_allclose(out[0, mid_hip], (6, 10, 0.65))
    with pytest.raises(ValueError, match='score_channel'):
        convert_keypoints(
            arr[..., 0],
            'coco_wholebody133',
            'openpose137',
            axis=-1,
            missing='zero',
            score_channel=2)


def test_missing_points_raise_or_zero():
    kinect = get_layout('kinect25')
    rng = np.random.default_rng(1)
    kp = rng.uniform(1, 100, (5, 25, 2)).astype(np.float32)
    score = np.ones((5, 25), np.float32)
    with pytest.raises(MissingKeypointsError) as info:
        convert_keypoints(kp, 'kinect25', 'mg36')
    message = str(info.value)
    for name in ('nose', 'left_eye', 'face_02', 'left_hand_index4'):
        assert name in message
    assert "missing='zero'" in message and 'kinect25' in message
    assert 'left_hand_thumb4' not in info.value.names
    assert len(info.value.names) == 23
    assert missing_keypoints('kinect25', 'mg36') == list(info.value.names)

    out_kp, out_score = convert_pose(
        kp, score, 'kinect25', 'mg36', missing='zero')
    mg = get_layout('mg36')
    for i, name in enumerate(mg.names):
        if name in info.value.names:
            assert not out_kp[:, i].any() and not out_score[:, i].any()
        else:
            assert (out_score[:, i] == 1).all(), name
    pairs = {
        'neck': 'spine_shoulder',
        'left_shoulder': 'left_shoulder',
        'right_wrist': 'right_wrist',
        'left_hand_wrist': 'left_wrist',
        'right_hand_thumb4': 'right_thumb',
        'left_hand_middle4': 'left_hand_tip'
    }
    for mg_name, kinect_name in pairs.items():
        np.testing.assert_array_equal(out_kp[:, mg.names.index(mg_name)],
                                      kp[:, kinect.names.index(kinect_name)])
    # Kinect's own neck (above the shoulders) is not OpenPose's neck.
    assert not np.array_equal(out_kp[:, 1], kp[:, kinect.names.index('neck')])
    with pytest.raises(ValueError, match="missing='skip'"):
        convert_keypoints(kp, 'kinect25', 'mg36', missing='skip')


def test_round_trips():
    xy = synthetic_skeleton(seed=3)
    openpose = layout_array(xy, 'openpose137')
    coco = layout_array(xy, 'coco_wholebody133')
    # COCO -> OpenPose -> COCO: every COCO point survives unchanged.
    there = convert_keypoints(
        coco, 'coco_wholebody133', 'openpose137', missing='zero')
    back = convert_keypoints(there, 'openpose137', 'coco_wholebody133')
    np.testing.assert_array_equal(back, coco)
    # OpenPose -> COCO -> OpenPose: all but the pupils come back.
    back = convert_keypoints(
        convert_keypoints(openpose, 'openpose137', 'coco_wholebody133'),
        'coco_wholebody133',
        'openpose137',
        missing='zero')
    np.testing.assert_allclose(back[:, :93], openpose[:, :93], rtol=1e-6)
    np.testing.assert_array_equal(back[:, 95:], openpose[:, 95:])
    # Sub-layouts compose: OpenPose -> mg36 -> mg22 == OpenPose -> mg22.
    np.testing.assert_array_equal(
        convert_keypoints(
            convert_keypoints(openpose, 'openpose137', 'mg36'), 'mg36',
            'mg22'), convert_keypoints(openpose, 'openpose137', 'mg22'))
    kinect = np.arange(25 * 2, dtype=np.float32).reshape(25, 2)
    np.testing.assert_array_equal(
        convert_keypoints(kinect, 'kinect25', 'kinect25'), kinect)


def test_conversion_targets_and_tables():
    assert conversion_targets('kinect25') == [
        'coco_wholebody133', 'kinect25', 'mg22', 'mg36', 'openpose137',
        'upper_body59'
    ]
    assert 'kinect25' not in conversion_targets('openpose137')
    assert conversion_table('openpose137', 'mg36') == tuple(
        (i, ) for i in MG36_FROM_OPENPOSE137)
    coco = get_layout('coco_wholebody133').names
    neck = conversion_table('coco_wholebody133', 'mg36')[1]
    assert sorted(coco[i] for i in neck) == ['left_shoulder', 'right_shoulder']
    assert missing_keypoints('openpose137', 'coco_wholebody133') == []
    assert missing_keypoints('coco_wholebody133',
                             'openpose137') == ['face_68', 'face_69']


def test_convert_keypoints():
    kp = np.arange(137 * 2, dtype=np.float32).reshape(137, 2)[None, None]
    out = convert_keypoints(kp, 'openpose137', 'mg36')
    assert out.shape == (1, 1, 36, 2)
    np.testing.assert_array_equal(out[0, 0, :, 0],
                                  np.array(MG36_FROM_OPENPOSE137) * 2)
    # T == V must not confuse the axes.
    score = np.ones((1, 137, 137), dtype=np.float32)
    assert convert_keypoints(
        score, 'openpose137', 'mg36', axis=-1).shape == (1, 137, 36)
    # x, y, confidence arrays (the iMiGUE converter's) keep all channels.
    xyc = np.random.default_rng(0).uniform(size=(4, 137, 3))
    np.testing.assert_array_equal(
        convert_keypoints(xyc, 'openpose137', 'mg22'),
        xyc[:, list(MG22_FROM_OPENPOSE137)])
    with pytest.raises(ValueError, match='expected 137'):
        convert_keypoints(kp[..., :10, :], 'openpose137', 'mg36')
    with pytest.raises(MissingKeypointsError, match='cannot provide 101'):
        convert_keypoints(kp[..., :36, :], 'mg36', 'openpose137')
    with pytest.raises(KeyError, match='no conversion'):
        convert_keypoints(kp, 'openpose137', 'kinect25')
    with pytest.raises(KeyError, match='unknown keypoint layout'):
        convert_keypoints(kp, 'openpose135', 'mg36')
    with pytest.raises(ValueError, match='does not match'):
        convert_pose(kp, np.ones((1, 137)), 'openpose137', 'mg36')


# --- upper_body59 and bone_parents -------------------------------------


def test_upper_body59_layout():
    from mmmg.keypoints.layouts import (UPPER_BODY59,
                                        UPPER_BODY59_FROM_OPENPOSE137)
    ub = get_layout('upper_body59')
    assert ub is UPPER_BODY59
    assert ub.num_keypoints == 59
    assert len(set(ub.names)) == 59
    op = get_layout('openpose137')
    # A sub-layout of openpose137: same names in the same order.
    assert ub.names == tuple(op.names[i]
                             for i in UPPER_BODY59_FROM_OPENPOSE137)
    assert set(ub.names) <= CANONICAL_NAMES
    # Upper body only: no legs or feet.
    assert not any(
        w in n for n in ub.names
        for w in ('hip', 'knee', 'ankle', 'toe', 'heel'))
    for side in ('left', 'right'):
        assert f'{side}_shoulder' in ub.names
        assert sum(n.startswith(f'{side}_hand_') for n in ub.names) == 21
    # Edges are the openpose137 edges between kept points.
    pos = {src: dst for dst, src in enumerate(UPPER_BODY59_FROM_OPENPOSE137)}
    expected = {
        tuple(sorted((pos[a], pos[b])))
        for a, b in op.edges if a in pos and b in pos
    }
    assert {tuple(sorted(e)) for e in ub.edges} == expected
    assert 'upper_body59' in conversion_targets('openpose137')


@pytest.mark.parametrize('source', ['coco_wholebody133', 'openpose137'])
def test_upper_body59_from_sources(source):
    assert missing_keypoints(source, 'upper_body59') == []
    table = conversion_table(source, 'upper_body59')
    assert len(table) == 59 and all(t is not None for t in table)
    src = get_layout(source)
    ub = get_layout('upper_body59')
    for name, points in zip(ub.names, table):
        assert all(0 <= p < src.num_keypoints for p in points)
        if len(points) == 1:
            assert src.names[points[0]] == name
    # Converting a whole array gives every target point, no zero fill.
    kp = np.random.default_rng(0).uniform(
        1, 2, size=(2, src.num_keypoints, 2)).astype(np.float32)
    out = convert_keypoints(kp, source, 'upper_body59')
    assert out.shape == (2, 59, 2) and (out > 0).all()


def test_upper_body59_flip_pairs():
    ub = get_layout('upper_body59')
    pairs = ub.flip_pairs
    seen = [i for p in pairs for i in p]
    assert len(seen) == len(set(seen))  # each point in at most one pair
    for i, j in pairs:
        assert ub.flip_index[i] == j and ub.flip_index[j] == i
        assert _mirror_name(ub.names[i]) == ub.names[j]
    # All 21+21 hand points, 3+3 arm points, eyes, ears and the two
    # mirrored mouth corners are paired.
    assert len(pairs) == 21 + 3 + 2 + 1
    names = {ub.names[i]: ub.names[j] for i, j in pairs}
    assert names['left_hand_thumb4'] == 'right_hand_thumb4' or \
        names.get('right_hand_thumb4') == 'left_hand_thumb4'
    centre = [n for i, n in enumerate(ub.names) if ub.flip_index[i] == i]
    assert {'nose', 'neck'} <= set(centre)
    # Flipping twice is the identity.
    assert all(ub.flip_index[ub.flip_index[i]] == i for i in range(59))


def _edge_set(layout):
    return {frozenset(e) for e in layout.edges}


@pytest.mark.parametrize('name', ['upper_body59', 'mg36'])
def test_bone_parents_tree(name):
    from mmmg.keypoints import bone_parents
    layout = get_layout(name)
    parents = bone_parents(name)
    root = layout.names.index('neck')
    assert len(parents) == layout.num_keypoints
    assert parents[root] == root
    edges = _edge_set(layout)
    for i, p in enumerate(parents):
        if i == root:
            continue
        assert p != i, f'{layout.names[i]} is not connected to the root'
        assert frozenset((i, p)) in edges, (layout.names[i], layout.names[p])
    for i in range(layout.num_keypoints):
        j, steps = i, 0
        while j != root:
            j = parents[j]
            steps += 1
            assert steps <= layout.num_keypoints, f'cycle from {i}'
    # Breadth-first: a parent is one hop closer to the root.
    depth = {root: 0}

    def d(i):
        if i not in depth:
            depth[i] = d(parents[i]) + 1
        return depth[i]

    for i in range(layout.num_keypoints):
        if i != root:
            assert d(i) == d(parents[i]) + 1


def test_bone_parents_upper_body59_semantics():
    from mmmg.keypoints import bone_parents
    ub = get_layout('upper_body59')
    parents = bone_parents('upper_body59')
    name = dict(zip(ub.names, (ub.names[p] for p in parents)))
    assert name['neck'] == 'neck'
    assert name['right_shoulder'] == 'neck'
    assert name['right_elbow'] == 'right_shoulder'
    assert name['left_wrist'] == 'left_elbow'
    assert name['left_hand_thumb1'] == 'left_hand_wrist'


def test_bone_parents_other_root_and_unknown_root():
    from mmmg.keypoints import bone_parents
    ub = get_layout('upper_body59')
    nose = ub.names.index('nose')
    parents = bone_parents('upper_body59', root='nose')
    assert parents[nose] == nose
    assert parents[ub.names.index('neck')] == nose
    with pytest.raises(ValueError, match='no point'):
        bone_parents('upper_body59', root='left_knee')
    with pytest.raises(KeyError):
        bone_parents('no_such_layout')
