import numpy as np
import pytest

from mmmg.spotting import (SPOTTING_DEFAULTS, Segment, evaluate_spotting,
                           naive_segments, spot_segments,
                           windows_to_frame_scores)
from mmmg.spotting.segments import smooth_scores

CLASSES = ('a', 'b', 'bg')
# Frame-exact settings: fps 10, so 0.1 s is one frame.
PLAIN = dict(
    smoothing_s=0,
    high=0.5,
    low=0.3,
    merge_gap_s=0,
    min_duration_s=0.1,
    max_duration_s=None)


def scores_of(num_frames, **tracks):
    """(T, 3) scores, 0.05 everywhere except the given class tracks."""
    out = np.full((num_frames, len(CLASSES)), 0.05)
    for name, track in tracks.items():
        out[:len(track), CLASSES.index(name)] = track
    return out


def spot(scores, **params):
    return spot_segments(scores, CLASSES, 'bg', fps=10, **{**PLAIN, **params})


def test_segment_checks_its_range():
    assert Segment('a', 3, 5).duration == 2
    with pytest.raises(ValueError, match='need 0 <= start < end'):
        Segment('a', 5, 5)


def test_hysteresis():
    a = [.1, .35, .6, .4, .35, .2, .1, .45, .45, .1]
    # 1-4 stay >= low and reach high; 7-8 never reach high.
    assert spot(scores_of(12, a=a)) == [
        Segment('a', 1, 5, pytest.approx((.35 + .6 + .4 + .35) / 4))
    ]
    # A per-class override lets the weak run in.
    got = spot(scores_of(12, a=a), class_thresholds={'a': (0.45, 0.4)})
    assert [(s.start, s.end) for s in got] == [(2, 4), (7, 9)]


def test_background_blocks_frames_and_is_never_emitted():
    a = [.8] * 10
    bg = [.1] * 4 + [.9] * 2 + [.1] * 4 + [.95] * 6
    got = spot(scores_of(16, a=a, bg=bg))
    assert [(s.label, s.start, s.end) for s in got] == [('a', 0, 4),
                                                        ('a', 6, 10)]
    # Without a background class, 'bg' is a class like the others.
    got = spot_segments(scores_of(16, a=a, bg=bg), CLASSES, fps=10, **PLAIN)
    assert ('bg', 10, 16) in [(s.label, s.start, s.end) for s in got]


def test_merge_gap():
    a = [.8] * 5 + [.1] * 2 + [.8] * 5
    assert [(s.start, s.end)
            for s in spot(scores_of(12, a=a), merge_gap_s=0.2)] == [(0, 12)]
    assert len(spot(scores_of(12, a=a), merge_gap_s=0.1)) == 2
    # Never across a background frame.
    bg = [.1] * 5 + [.9] + [.1] * 6
    assert len(spot(scores_of(12, a=a, bg=bg), merge_gap_s=0.2)) == 2


def test_uncovered_frames_split_and_never_merge():
    scores = scores_of(20, a=[.8] * 20)
    scores[8:10] = np.nan
    got = spot(scores, merge_gap_s=0.5)
    assert [(s.start, s.end) for s in got] == [(0, 8), (10, 20)]
    # Not even with low = 0.
    got = spot(scores, merge_gap_s=0.5, low=0.)
    assert [(s.start, s.end) for s in got] == [(0, 8), (10, 20)]


def test_nothing_covered_gives_nothing():
    # A video with nobody in it: no window was scored.
    assert spot(np.full((100, 3), np.nan)) == []
    assert spot(np.zeros((0, 3))) == []


def test_min_and_max_duration():
    a = [.8] * 4 + [.1] + [.8] * 2
    assert [(s.start, s.end)
            for s in spot(scores_of(8, a=a), min_duration_s=0.3)] == [(0, 4)]
    # 0.5 s is 5 frames at fps 10 but 2 at fps 5 (rounded).
    assert spot_segments(
        scores_of(8, a=a),
        CLASSES,
        'bg',
        fps=5,
        **{
            **PLAIN, 'min_duration_s': 0.5
        })[0].end == 4
    a = [.8] * 12 + [.35] + [.8] * 17
    got = spot(scores_of(30, a=a), max_duration_s=2.0)
    # Split at the weakest frame (12).
    assert [(s.start, s.end) for s in got] == [(0, 12), (12, 30)]


def test_temporal_nms():
    scores = scores_of(12, a=[.9] * 10, b=[.05] * 2 + [.7] * 8)
    assert [s.label for s in spot(scores)] == ['a']
    got = spot(scores, nms_class_agnostic=False)
    assert sorted(s.label for s in got) == ['a', 'b']
    # IoU 0.8 is kept when the limit is above it.
    assert len(spot(scores, nms_iou=0.85)) == 2


def test_smoothing_matches_plain_moving_average():
    rng = np.random.default_rng(1)
    x = rng.uniform(size=(40, 3))
    x[5:9, 1] = np.nan
    x[20:23] = np.nan
    for width in (1, 4, 5):
        got = smooth_scores(x, width)
        for t in range(40):
            lo = max(t - width // 2, 0)
            window = x[lo:t - width // 2 + width]
            for c in range(3):
                values = window[:, c][~np.isnan(window[:, c])]
                want = values.mean() if len(values) else np.nan
                np.testing.assert_allclose(got[t, c], want)


def test_smoothing_bridges_a_one_frame_dip():
    a = [.8] * 5 + [.0] + [.8] * 5
    assert len(spot(scores_of(11, a=a), high=0.6, low=0.6)) == 2
    assert len(spot(scores_of(11, a=a), low=0.5, smoothing_s=0.3)) == 1


@pytest.mark.parametrize('params,message', [
    (dict(window=3), 'unknown spotting parameter'),
    (dict(high=0.3, low=0.5), 'need 0 <= low <= high'),
    (dict(class_thresholds={'c': (.5, .3)}), "class 'c' is not in"),
    (dict(class_thresholds={'a': (.5, )}), 'must be \\(high, low\\)'),
    (dict(max_duration_s=0.1, min_duration_s=0.2), 'max_duration_s'),
    (dict(nms_iou=1.5), 'nms_iou'),
])
def test_bad_params(params, message):
    with pytest.raises(ValueError, match=message):
        spot(scores_of(5), **params)


def test_bad_inputs():
    with pytest.raises(ValueError, match=r'must be \(T, 3\)'):
        spot_segments(np.zeros((5, 2)), CLASSES)
    with pytest.raises(ValueError, match="class 'none' is not in"):
        spot_segments(np.zeros((5, 3)), CLASSES, 'none')
    assert set(SPOTTING_DEFAULTS) >= set(PLAIN)


def test_naive_segments():
    scores = np.array([[.6, .3, .1], [.8, .1, .1], [.1, .1, .8], [.2, .7, .1]])
    got = naive_segments(scores, [0, 10, 20, 30], [10, 20, 30, 40], CLASSES,
                         'bg')
    assert got == [
        Segment('a', 0, 20, pytest.approx(.7)),
        Segment('b', 30, 40, pytest.approx(.7))
    ]
    # Overlapping windows are cut to tile: 0-5, 5-10, 10-20.
    got = naive_segments(scores[[0, 1, 3]], [0, 5, 10], [10, 15, 20], CLASSES)
    assert [(s.label, s.start, s.end) for s in got] == [('a', 0, 10),
                                                        ('b', 10, 20)]


# Nine micro-gestures and the non-MG class.
MANY = tuple(f'mg{i}' for i in range(9)) + ('bg', )


def _window_scores(rng, labels, starts, length):
    """A noisy window classifier: logits 4 x the share of the window each
    class covers, plus noise."""
    cover = np.stack([
        np.bincount(labels[s:s + length], minlength=len(MANY) + 1)
        for s in starts
    ])[:, :len(MANY)] / length
    logits = 4 * cover + rng.normal(0, 1.2, cover.shape)
    return np.exp(logits) / np.exp(logits).sum(1, keepdims=True)


def test_synthetic_video_recovers_segments_better_than_naive():
    rng = np.random.default_rng(0)
    fps, length = 25, 25
    # 1.6-4 s gestures, 2-6 s apart, some of them non-MG.
    gt, t = [], 50
    while t < 7000:
        duration = int(rng.integers(40, 100))
        gt.append(Segment(str(rng.choice(MANY)), t, t + duration))
        t += duration + int(rng.integers(50, 150))
    num_frames = t
    # Frame labels; len(MANY) means no gesture.
    labels = np.full(num_frames + length, len(MANY))
    for seg in gt:
        labels[seg.start:seg.end] = MANY.index(seg.label)

    # Overlapping 1 s windows every 0.2 s for the spotter, fixed
    # non-overlapping 1 s windows for the baseline.
    starts = np.arange(0, num_frames - length + 1, 5)
    frame_scores = windows_to_frame_scores(
        _window_scores(rng, labels, starts, length), starts, starts + length,
        num_frames)
    spotted = spot_segments(frame_scores, MANY, 'bg', fps=fps)
    fixed = np.arange(0, num_frames - length + 1, length)
    naive = naive_segments(
        _window_scores(rng, labels, fixed, length), fixed, fixed + length,
        MANY, 'bg')

    def f1(pred):
        report = evaluate_spotting({'v': (pred, gt)}, background_class='bg')
        return report['overall']['0.5']['f1']

    assert sum(s.label != 'bg' for s in gt) >= 20
    assert f1(spotted) >= 0.8
    assert f1(spotted) >= f1(naive) + 0.2
