import re

import numpy as np
import pytest

from mmmg.spotting import windows_to_frame_scores


def plain_frame_scores(scores, starts, ends, num_frames, triangular):
    """Frame by frame, window by window: the weighted mean of the windows
    covering each frame."""
    out = np.full((num_frames, scores.shape[1]), np.nan)
    for t in range(num_frames):
        total, weight = np.zeros(scores.shape[1]), 0.
        for row, s, e in zip(scores, starts, ends):
            if s <= t < e:
                w = min(t - s + 1, e - t) if triangular else 1.
                total += w * row
                weight += w
        if weight:
            out[t] = total / weight
    return out


def test_hand_example():
    # Window A covers 0-3 with class 0, window B 2-5 with class 1; frame 6
    # has no window.
    scores = np.array([[1., 0.], [0., 1.]])
    starts, ends = np.array([0, 2]), np.array([4, 6])
    uniform = windows_to_frame_scores(scores, starts, ends, 7)
    np.testing.assert_allclose(uniform[:6],
                               [[1, 0], [1, 0], [.5, .5], [.5, .5], [0, 1],
                                [0, 1]])
    assert np.isnan(uniform[6]).all()
    # Tent weights: A gives 1,2,2,1 at frames 0-3, B 1,2,2,1 at frames 2-5.
    tri = windows_to_frame_scores(scores, starts, ends, 7, 'triangular')
    np.testing.assert_allclose(tri[2], [2 / 3, 1 / 3])
    np.testing.assert_allclose(tri[3], [1 / 3, 2 / 3])
    np.testing.assert_allclose(tri[[0, 1, 4, 5]], uniform[[0, 1, 4, 5]])


@pytest.mark.parametrize('weighting', ['uniform', 'triangular'])
def test_matches_plain_implementation(weighting):
    rng = np.random.default_rng(0)
    num_frames, num_windows = 90, 25
    # Frames 0-9 and 89 are never covered.
    starts = rng.integers(10, 60, num_windows)
    ends = starts + rng.integers(1, 30, num_windows)
    logits = rng.normal(size=(num_windows, 5))
    scores = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    got = windows_to_frame_scores(scores, starts, ends, num_frames, weighting)
    want = plain_frame_scores(scores, starts, ends, num_frames,
                              weighting == 'triangular')
    np.testing.assert_allclose(got, want, equal_nan=True, atol=1e-12)
    covered = ~np.isnan(got).any(axis=1)
    assert covered.sum() < num_frames  # some frames are left uncovered
    np.testing.assert_allclose(got[covered].sum(axis=1), 1.)


def test_no_windows_gives_nan_rows():
    out = windows_to_frame_scores(
        np.zeros((0, 3)), np.zeros(0, int), np.zeros(0, int), 4)
    assert out.shape == (4, 3) and np.isnan(out).all()


@pytest.mark.parametrize('starts,ends,scores,message', [
    ([0, 5], [4, 11], None, 'window 1 covers frames 5-11'),
    ([3], [3], None, 'window 0 covers frames 3-3'),
    ([-1], [2], None, 'window 0 covers frames -1-2'),
    ([0], [4], [[np.nan, 1.]], 'window 0 (0-4) has a non-finite score'),
    ([0.], [4.], None, 'integer frames'),
    ([0, 1], [4], None, 'one per window'),
])
def test_bad_windows(starts, ends, scores, message):
    if scores is None:
        scores = np.full((len(starts), 2), .5)
    with pytest.raises(ValueError, match=re.escape(message)):
        windows_to_frame_scores(scores, np.array(starts), np.array(ends), 10)


def test_bad_weighting():
    with pytest.raises(ValueError, match='weighting'):
        windows_to_frame_scores(
            np.ones((1, 2)), np.array([0]), np.array([2]), 2, 'gauss')
