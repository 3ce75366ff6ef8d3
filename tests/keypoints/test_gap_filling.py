"""fill_keypoint_gaps against a frame-by-frame reference written here."""
import numpy as np
import pytest

from mmmg.keypoints.gap_filling import fill_keypoint_gaps


def reference(kp, score, max_gap, min_score, scale):
    """Walk every track frame by frame: find the last seen frame before a
    missing one and the next seen after it; fill when both exist and the
    gap between them is short enough."""
    kp, score = kp.copy(), score.copy()
    M, T, V = score.shape
    orig = score.copy()
    for m in range(M):
        for v in range(V):
            for t in range(T):
                if orig[m, t, v] > min_score:
                    continue
                seen_before = [
                    i for i in range(t) if orig[m, i, v] > min_score
                ]
                seen_after = [
                    i for i in range(t + 1, T) if orig[m, i, v] > min_score
                ]
                if not seen_before or not seen_after:
                    continue
                a, b = seen_before[-1], seen_after[0]
                if b - a - 1 > max_gap:
                    continue
                w = (t - a) / (b - a)
                kp[m, t, v] = (1 - w) * kp[m, a, v] + w * kp[m, b, v]
                score[m, t, v] = scale * min(orig[m, a, v], orig[m, b, v])
    return kp, score


@pytest.mark.parametrize('max_gap', [1, 3, 6])
def test_matches_the_reference_on_random_gaps(max_gap):
    rng = np.random.default_rng(max_gap)
    kp = rng.normal(size=(2, 40, 5, 2)).astype(np.float32)
    score = rng.uniform(0.2, 1, size=(2, 40, 5)).astype(np.float32)
    # Random runs of missing frames, some at the ends of the clip.
    for _ in range(25):
        m, v = rng.integers(2), rng.integers(5)
        t = rng.integers(0, 40)
        n = rng.integers(1, 9)
        score[m, t:t + n, v] = 0
        kp[m, t:t + n, v] = 0
    got_kp, got_score, filled = fill_keypoint_gaps(kp, score, max_gap, 0., 0.5)
    ref_kp, ref_score = reference(kp, score, max_gap, 0., 0.5)
    np.testing.assert_allclose(got_kp, ref_kp, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got_score, ref_score, rtol=1e-6)
    assert filled == int(((score == 0) & (ref_score > 0)).sum())
    assert filled > 0
    assert got_kp.dtype == np.float32 and got_score.dtype == np.float32


def test_long_gaps_and_edges_stay_missing_and_inputs_are_untouched():
    kp = np.ones((1, 10, 1, 2), np.float32)
    score = np.ones((1, 10, 1), np.float32)
    score[0, :2] = 0  # leading gap: no frame before it
    score[0, 4:8] = 0  # 4 frames
    before = score.copy()
    _, out, filled = fill_keypoint_gaps(kp, score, max_gap=3)
    assert filled == 0
    np.testing.assert_array_equal(out, before)
    np.testing.assert_array_equal(score, before)
    _, out, filled = fill_keypoint_gaps(kp, score, max_gap=4)
    assert filled == 4 and (out[0, 4:8, 0] == 0.5).all()
    assert (out[0, :2, 0] == 0).all()


def test_bad_shapes_are_refused():
    with pytest.raises(ValueError, match=r'not \[\.\.\., T, V, C\]'):
        fill_keypoint_gaps(np.zeros((4, 3, 2)), np.zeros((4, 2)), 2)
