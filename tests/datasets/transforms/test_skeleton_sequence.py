"""NormalizeSkeleton, FixSkeletonLength, FormatSkeletonSequence."""
import numpy as np
import pytest

from mmmg.datasets.transforms import (FixSkeletonLength,
                                      FormatSkeletonSequence,
                                      NormalizeSkeleton)
from mmmg.keypoints import get_layout

NAMES = get_layout('upper_body59').names
LS, RS = NAMES.index('left_shoulder'), NAMES.index('right_shoulder')


def _pose(m=2, t=9, v=59, seed=0):
    rng = np.random.default_rng(seed)
    kp = rng.uniform(100, 500, (m, t, v, 2)).astype(np.float32)
    score = rng.uniform(0.3, 1.0, (m, t, v)).astype(np.float32)
    return kp, score


def _reference_normalize(kp, score, size, min_score=0.1):
    """Plain numpy: median shoulder midpoint and width over the confident
    frames; missing points (score 0) stay 0."""
    out = np.zeros_like(kp, dtype=np.float64)
    for m in range(kp.shape[0]):
        ok = (score[m, :, LS] >= min_score) & (score[m, :, RS] >= min_score)
        a, b = kp[m, ok, LS].astype(np.float64), kp[m, ok, RS]
        centre = np.median((a + b) / 2, axis=0)
        width = np.median(np.sqrt(((a - b)**2).sum(-1)))
        out[m] = (kp[m] - centre) * size / width
    out[score <= 0] = 0
    return out


def test_normalize_matches_numpy_reference():
    kp, score = _pose()
    # Frames whose shoulders are not confident enough must not count: put
    # their shoulders far away, where they would move the median.
    score[0, [1, 4], LS] = 0.05
    score[1, 2, RS] = 0.0
    kp[0, [1, 4], LS] = 10000
    kp[1, 2, RS] = -10000
    score[0, 3, 10:20] = 0  # missing points
    score[1, :, 30] = 0  # a point never seen
    res = NormalizeSkeleton(canonical_size=2.5)(
        dict(keypoint=kp.copy(), keypoint_score=score.copy()))
    out = res['keypoint']
    assert out.dtype == np.float32 and out.shape == kp.shape
    np.testing.assert_allclose(
        out, _reference_normalize(kp, score, 2.5), rtol=1e-4, atol=1e-4)
    assert (out[score == 0] == 0).all()
    assert (out[0, 3, 10:20] == 0).all() and (out[1, :, 30] == 0).all()
    np.testing.assert_array_equal(res['keypoint_score'], score)
    # In the result, the median shoulder midpoint is the origin and the
    # median shoulder width is canonical_size.
    for m in range(2):
        ok = (score[m, :, LS] >= 0.1) & (score[m, :, RS] >= 0.1)
        a, b = out[m, ok, LS], out[m, ok, RS]
        np.testing.assert_allclose(
            np.median((a + b) / 2, axis=0), 0, atol=1e-4)
        np.testing.assert_allclose(
            np.median(np.linalg.norm(a - b, axis=-1)), 2.5, rtol=1e-4)


def test_normalize_is_per_clip_not_per_frame():
    # A person leaning: the shoulders move over time; the normalised
    # shoulders must keep that motion (same offsets, scaled).
    kp, score = _pose(m=1, t=5)
    kp[0, :, LS] = [[300, 200]] * 5
    kp[0, :, RS] = [[200, 200]] * 5
    kp[0, :, [LS, RS]] += np.arange(5)[None, :, None] * 10  # sway by 10 px
    out = NormalizeSkeleton()(dict(keypoint=kp.copy(),
                                   keypoint_score=score))['keypoint']
    mid = (out[0, :, LS] + out[0, :, RS]) / 2
    np.testing.assert_allclose(np.diff(mid, axis=0), 0.1, atol=1e-5)
    np.testing.assert_allclose(mid[2], 0, atol=1e-5)


def test_normalize_fallback_without_shoulders():
    kp, score = _pose(m=1, t=6, seed=1)
    score[0, :, LS] = 0.05  # never confident enough
    score[0, ::2, 40:] = 0  # some missing points
    res = NormalizeSkeleton(canonical_size=1.0)(
        dict(keypoint=kp.copy(), keypoint_score=score.copy()))
    pts = kp[0][score[0] > 0].astype(np.float64)
    centre = pts.mean(axis=0)
    size = (pts.max(axis=0) - pts.min(axis=0)).max()
    expected = (kp[0] - centre) / size
    expected[score[0] <= 0] = 0
    np.testing.assert_allclose(
        res['keypoint'][0], expected, rtol=1e-4, atol=1e-5)
    # The box of the confident points now has a largest side of 1.
    valid = res['keypoint'][0][score[0] > 0]
    np.testing.assert_allclose(
        (valid.max(0) - valid.min(0)).max(), 1.0, rtol=1e-5)


def test_normalize_person_never_seen():
    kp, score = _pose(m=2, t=4)
    score[1] = 0
    out = NormalizeSkeleton()(dict(keypoint=kp.copy(),
                                   keypoint_score=score))['keypoint']
    assert np.isfinite(out).all()
    assert (out[1] == 0).all()
    np.testing.assert_allclose(
        out[0],
        _reference_normalize(kp[:1], score[:1], 1.0)[0],
        rtol=1e-4,
        atol=1e-4)


def test_normalize_bad_input_names_sample():
    kp, score = _pose(m=1, t=4)
    t = NormalizeSkeleton()
    with pytest.raises(ValueError, match='clip_042'):
        t(dict(keypoint=kp[0], keypoint_score=score[0], sample_id='clip_042'))
    with pytest.raises(ValueError, match='clip_7'):
        t(dict(keypoint=kp[..., :1], keypoint_score=score, frame_dir='clip_7'))
    with pytest.raises(ValueError, match='clip_8'):
        t(dict(keypoint=kp, keypoint_score=score[:, :3], sample_id='clip_8'))
    with pytest.raises(KeyError, match='clip_9'):
        t(dict(keypoint=kp, sample_id='clip_9'))
    with pytest.raises(ValueError, match='reference'):
        NormalizeSkeleton(reference=('left_shoulder', 'left_knee'))
    with pytest.raises(ValueError, match='reference'):
        NormalizeSkeleton(reference=('left_shoulder', ))


def test_fix_length_pads():
    kp, score = _pose(m=2, t=5)
    res = FixSkeletonLength(length=8)(
        dict(keypoint=kp.copy(), keypoint_score=score.copy(), total_frames=5))
    assert res['keypoint'].shape == (2, 8, 59, 2)
    assert res['keypoint_score'].shape == (2, 8, 59)
    assert res['valid_len'] == 5 and res['total_frames'] == 8
    np.testing.assert_array_equal(res['keypoint'][:, :5], kp)
    np.testing.assert_array_equal(res['keypoint_score'][:, :5], score)
    assert (res['keypoint'][:, 5:] == 0).all()
    assert (res['keypoint_score'][:, 5:] == 0).all()
    assert res['keypoint'].dtype == kp.dtype


def _frame_ids(t):
    """A clip whose frame i has every coordinate equal to i."""
    kp = np.repeat(
        np.arange(t, dtype=np.float32)[None, :, None, None], 59,
        axis=2).repeat(
            2, axis=3)
    return kp, np.ones(kp.shape[:3], np.float32)


def test_fix_length_truncates_centred_in_test_mode():
    kp, score = _frame_ids(11)
    res = FixSkeletonLength(
        length=4, test_mode=True)(
            dict(keypoint=kp, keypoint_score=score))
    assert res['valid_len'] == 4 and res['total_frames'] == 4
    np.testing.assert_array_equal(res['keypoint'][0, :, 0, 0], [3, 4, 5, 6])
    kp, score = _frame_ids(10)  # extra = 6: start 3
    res = FixSkeletonLength(
        length=4, test_mode=True)(
            dict(keypoint=kp, keypoint_score=score))
    np.testing.assert_array_equal(res['keypoint'][0, :, 0, 0], [3, 4, 5, 6])
    # Exactly the length: unchanged.
    kp, score = _frame_ids(4)
    res = FixSkeletonLength(
        length=4, test_mode=True)(
            dict(keypoint=kp.copy(), keypoint_score=score))
    np.testing.assert_array_equal(res['keypoint'], kp)
    assert res['valid_len'] == 4


def test_fix_length_random_window_in_train_mode():
    np.random.seed(0)
    t = FixSkeletonLength(length=4)
    starts = set()
    for _ in range(60):
        kp, score = _frame_ids(11)
        res = t(dict(keypoint=kp, keypoint_score=score))
        frames = res['keypoint'][0, :, 0, 0]
        assert res['keypoint'].shape == (1, 4, 59, 2)
        assert res['valid_len'] == 4
        # A contiguous window inside the clip.
        np.testing.assert_array_equal(np.diff(frames), 1)
        assert 0 <= frames[0] and frames[-1] <= 10
        starts.add(int(frames[0]))
    assert len(starts) > 3
    assert starts <= set(range(8))
    with pytest.raises(ValueError):
        FixSkeletonLength(length=0)


def test_format_skeleton_sequence():
    kp, score = _pose(m=3, t=6)
    kp = kp.astype(np.float64)
    res = FormatSkeletonSequence()(dict(keypoint=kp, keypoint_score=score))
    out = res['keypoint']
    assert out.shape == (3, 6, 59, 3) and out.dtype == np.float32
    np.testing.assert_allclose(out[..., :2], kp, rtol=1e-6)
    np.testing.assert_array_equal(out[..., 2], score)


def test_pipeline_end_to_end():
    kp, score = _pose(m=1, t=5)
    score[0, 1, 7] = 0
    res = dict(keypoint=kp, keypoint_score=score)
    for t in (NormalizeSkeleton(), FixSkeletonLength(8, test_mode=True),
              FormatSkeletonSequence()):
        res = t(res)
    out = res['keypoint']
    assert out.shape == (1, 8, 59, 3) and res['valid_len'] == 5
    assert (out[0, 5:] == 0).all()
    assert (out[0, 1, 7] == 0).all()
