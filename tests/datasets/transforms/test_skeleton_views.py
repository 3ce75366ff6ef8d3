"""resample_clip and SkeletonViews (USDRL-style augmented views)."""
import itertools

import numpy as np
import pytest

from mmmg.datasets.transforms import SkeletonViews, resample_clip

NO_AUG = dict(
    drop_prob=0,
    corrupt_prob=0,
    max_rotation=0,
    scale_range=(1, 1),
    max_shift=0,
    speed_range=1,
    crop_ratio=(1, 1))


def _reference_resample(kp, score, positions):
    """Per output frame and point: linear interpolation when both
    neighbouring frames have the point, else the nearer frame."""
    t, v = score.shape
    out_kp = np.zeros((len(positions), v, 2))
    out_score = np.zeros((len(positions), v))
    for i, p in enumerate(positions):
        lo = min(max(int(np.floor(p)), 0), t - 1)
        hi = min(lo + 1, t - 1)
        w = p - lo
        for j in range(v):
            if score[lo, j] > 0 and score[hi, j] > 0:
                out_kp[i, j] = (1 - w) * kp[lo, j] + w * kp[hi, j]
                out_score[i, j] = (1 - w) * score[lo, j] + w * score[hi, j]
            else:
                near = hi if w >= 0.5 else lo
                out_kp[i, j] = kp[near, j]
                out_score[i, j] = score[near, j]
    return out_kp, out_score


def _clip(t=12, v=7, seed=0):
    rng = np.random.default_rng(seed)
    kp = rng.normal(0, 1, (t, v, 2)).astype(np.float32)
    score = rng.uniform(0.3, 1, (t, v)).astype(np.float32)
    return kp, score


def test_resample_clip_matches_reference():
    kp, score = _clip()
    score[3, 2] = 0
    score[4:7, 5] = 0
    kp[score == 0] = 0
    positions = np.array(
        [0, 0.25, 2.4, 2.6, 3.0, 3.5, 4.9, 6.5, 7.2, 10.99, 11.0])
    out_kp, out_score = resample_clip(kp, score, positions)
    ref_kp, ref_score = _reference_resample(kp, score, positions)
    assert out_kp.shape == (len(positions), 7, 2)
    assert out_score.shape == (len(positions), 7)
    np.testing.assert_allclose(out_kp, ref_kp, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out_score, ref_score, rtol=1e-5, atol=1e-6)
    # A point missing on one side is never blended towards (0, 0).
    np.testing.assert_array_equal(out_kp[2, 2], kp[2, 2])  # 2.4 -> 2
    np.testing.assert_array_equal(out_kp[3, 2], kp[3, 2])  # 2.6 -> 3
    np.testing.assert_array_equal(out_kp[7, 5], kp[7, 5])  # 6.5 -> 7
    # Integer positions reproduce the frames.
    idx = np.arange(12, dtype=float)
    k, s = resample_clip(kp, score, idx)
    np.testing.assert_allclose(k, kp)
    np.testing.assert_allclose(s, score)


def test_resample_clip_random_positions():
    kp, score = _clip(t=9, v=5, seed=3)
    rng = np.random.default_rng(1)
    score[rng.uniform(size=score.shape) < 0.3] = 0
    positions = rng.uniform(0, 8, 40)
    out = resample_clip(kp, score, positions)
    ref = _reference_resample(kp, score, positions)
    np.testing.assert_allclose(out[0], ref[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out[1], ref[1], rtol=1e-5, atol=1e-6)


def _results(m=1, t=20, v=9, seed=0):
    rng = np.random.default_rng(seed)
    base = rng.normal(0, 1, (v, 2))
    motion = np.sin(np.linspace(0, 3, t))[:, None, None] * \
        rng.normal(0, 0.5, (1, v, 2))
    kp = (base[None] + motion)[None].repeat(m, 0).astype(np.float32)
    score = rng.uniform(0.5, 1, (m, t, v)).astype(np.float32)
    return dict(keypoint=kp, keypoint_score=score)


def test_views_shapes_and_differences():
    np.random.seed(0)
    res = SkeletonViews(num_views=4, length=16)(_results(m=2))
    kp, score = res['keypoint'], res['keypoint_score']
    assert kp.shape == (4, 16, 9, 2) and score.shape == (4, 16, 9)
    assert kp.dtype == np.float32 and score.dtype == np.float32
    assert res['total_frames'] == 16
    for a, b in itertools.combinations(range(4), 2):
        assert not np.allclose(kp[a], kp[b])
    assert np.isfinite(kp).all()
    assert ((score >= 0) & (score <= 1)).all()


def test_missing_points_are_zero_with_zero_score():
    np.random.seed(1)
    data = _results()
    data['keypoint_score'][0, :, 3] = 0  # never seen
    data['keypoint'][0, :, 3] = 5  # garbage coordinates
    data['keypoint_score'][0, 5:8] = 0  # lost frames
    t = SkeletonViews(
        num_views=3,
        length=12,
        drop_prob=1,
        drop_rate=0.3,
        corrupt_prob=1,
        corrupt_rate=0.2,
        max_shift=0.5)
    res = t(data)
    kp, score = res['keypoint'], res['keypoint_score']
    assert (score[:, :, 3] == 0).all()
    assert (kp[score <= 0] == 0).all()
    assert (score == 0).any()  # dropping and corruption happened
    # Augmentations that remove everything leave only missing points.
    res = SkeletonViews(
        num_views=2, length=8, drop_prob=1, drop_rate=1.1)(
            _results())
    assert (res['keypoint_score'] == 0).all()
    assert (res['keypoint'] == 0).all()


def test_no_augmentation_is_uniform_resampling():
    np.random.seed(2)
    data = _results(t=15)
    kp, score = data['keypoint'][0].copy(), data['keypoint_score'][0].copy()
    res = SkeletonViews(num_views=2, length=10, **NO_AUG)(data)
    expect_kp, expect_score = _reference_resample(kp, score,
                                                  np.linspace(0, 14, 10))
    for v in range(2):
        np.testing.assert_allclose(
            res['keypoint'][v], expect_kp, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(
            res['keypoint_score'][v], expect_score, rtol=1e-5, atol=1e-6)


def test_trailing_empty_frames_are_not_resampled():
    np.random.seed(3)
    data = _results(t=15)
    data['keypoint_score'][0, 11:] = 0
    data['keypoint'][0, 11:] = 0
    data['keypoint_score'][0, :2] = 0
    data['keypoint'][0, :2] = 0
    kp, score = data['keypoint'][0, 2:11], data['keypoint_score'][0, 2:11]
    res = SkeletonViews(num_views=1, length=6, **NO_AUG)(data)
    expect_kp, expect_score = _reference_resample(kp, score,
                                                  np.linspace(0, 8, 6))
    np.testing.assert_allclose(res['keypoint'][0], expect_kp, atol=1e-5)
    np.testing.assert_allclose(
        res['keypoint_score'][0], expect_score, atol=1e-6)
    assert (res['keypoint_score'] > 0).all()


def _pairwise(x):
    return np.linalg.norm(x[:, None] - x[None], axis=-1)


def test_rigid_transform_preserves_distances_up_to_scale():
    data = _results(t=10, v=9)
    kp = data['keypoint'][0].copy()
    aug = dict(NO_AUG, max_rotation=30, scale_range=(0.8, 1.2), max_shift=0.3)
    t = SkeletonViews(num_views=3, length=10, **aug)
    np.random.seed(4)
    res = t(data)
    for v in range(3):
        view = res['keypoint'][v]
        assert not np.allclose(view, kp, atol=1e-3)  # it did move
        for f in range(10):
            ratio = _pairwise(view[f])[~np.eye(9, dtype=bool)] / \
                _pairwise(kp[f])[~np.eye(9, dtype=bool)]
            np.testing.assert_allclose(ratio, ratio[0], rtol=1e-4)
            assert 0.8 - 1e-6 <= ratio[0] <= 1.2 + 1e-6
    # The drawn scale itself: re-draw the rigid transform's numbers.
    frame = kp[0].astype(np.float64)
    np.random.seed(5)
    moved = frame.copy()
    t._rigid(moved)
    np.random.seed(5)
    np.random.uniform(-1, 1)  # angle
    scale = np.random.uniform(0.8, 1.2)
    off = ~np.eye(9, dtype=bool)
    np.testing.assert_allclose(
        _pairwise(moved)[off], scale * _pairwise(frame)[off], rtol=1e-6)

    # Rotation, not reflection: the orientation of triangles is kept.
    def cross(p):
        return np.cross(p[1] - p[0], p[2] - p[0])

    assert np.sign(cross(moved)) == np.sign(cross(frame))


@pytest.mark.parametrize('ratio', [(0, 1), (0.8, 0.5), (0.5, 1.2),
                                   (-0.1, 0.5)])
def test_invalid_crop_ratio_raises(ratio):
    with pytest.raises(ValueError, match='crop_ratio'):
        SkeletonViews(crop_ratio=ratio)


def test_invalid_speed_range_and_input():
    with pytest.raises(ValueError, match='speed_range'):
        SkeletonViews(speed_range=0.5)
    data = _results()
    with pytest.raises(ValueError, match='x1'):
        SkeletonViews()(
            dict(
                keypoint=data['keypoint'][0],
                keypoint_score=data['keypoint_score'][0],
                sample_id='x1'))


def test_crop_covers_a_share_of_the_frames():
    # A clip whose x coordinate is the frame index: the views' x range
    # tells which frames they sample.
    t_len = 41
    kp = np.zeros((1, t_len, 2, 2), np.float32)
    kp[0, :, :, 0] = np.arange(t_len)[:, None]
    score = np.ones((1, t_len, 2), np.float32)
    np.random.seed(6)
    res = SkeletonViews(
        num_views=8,
        length=20,
        **dict(NO_AUG, crop_ratio=(0.5, 0.75), speed_range=1.5))(
            dict(keypoint=kp, keypoint_score=score))
    x = res['keypoint'][..., 0, 0]
    for v in range(8):
        assert (np.diff(x[v]) >= -1e-5).all()  # monotone warp
        span = x[v, -1] - x[v, 0]
        assert 0.5 * 40 - 1e-3 <= span <= 0.75 * 40 + 1e-3
        assert x[v, 0] >= 0 and x[v, -1] <= 40
