import functools

import numpy as np
import pytest

from mmmg.data_prep.ssl_clip_sampler import (FACE_ANCHORS,
                                             DurationDistribution,
                                             anchor_indices, interval_visible,
                                             iter_accepted, mg_iod,
                                             rejection_sample,
                                             sample_video_clips, video_rng,
                                             visible_prefix)


def random_scores(rng, frames=3000, points=137, dropout=0.002, burst=40):
    """Confidences with bursts of invisible face frames."""
    scores = rng.uniform(0.4, 1.0, size=(frames, points))
    for start in np.flatnonzero(rng.random(frames) < dropout):
        scores[start:start + rng.integers(1, burst), rng.integers(0, 19)] = \
            rng.uniform(0, 0.3)
    scores[rng.integers(0, frames, 5), 0] = np.nan
    return scores


def plain_visible(scores, anchors, threshold, start, end):
    for t in range(start, end + 1):
        for a in anchors:
            if not scores[t, a] >= threshold:
                return False
    return True


def test_anchor_indices_follow_the_layout():
    assert anchor_indices('openpose137') == [0, 16, 15, 18, 17]
    assert anchor_indices('coco_wholebody133') == [0, 1, 2, 3, 4]
    assert len(FACE_ANCHORS) == 5
    with pytest.raises(ValueError, match="layout 'kinect25' has no"):
        anchor_indices('kinect25')


def test_prefix_check_equals_brute_force():
    rng = np.random.default_rng(0)
    scores = random_scores(rng)
    anchors = anchor_indices('openpose137')
    prefix = visible_prefix(scores, anchors, 0.3)
    flags = [plain_visible(scores, anchors, 0.3, t, t) for t in range(3000)]
    np.testing.assert_array_equal(np.diff(prefix), flags)
    for _ in range(500):
        start = int(rng.integers(0, 3000))
        end = int(rng.integers(start, min(start + 200, 3000)))
        assert interval_visible(prefix, start,
                                end) == plain_visible(scores, anchors, 0.3,
                                                      start, end)


def test_sampled_clips_obey_every_rule():
    rng = np.random.default_rng(1)
    scores = random_scores(rng)
    anchors = anchor_indices('openpose137')
    prefix = visible_prefix(scores, anchors, 0.3)
    durations = DurationDistribution([20, 35, 35, 60, 90])
    clips = sample_video_clips(
        prefix, durations, video_rng(0, '0001'), quota=30, min_gap=2)
    assert 0 < len(clips) <= 30
    for start, end in clips:
        assert 0 <= start <= end < 3000
        assert end - start + 1 in (20, 35, 60, 90)
        assert plain_visible(scores, anchors, 0.3, start, end)
    for (_, end), (start, _) in zip(clips[:-1], clips[1:]):
        assert start - end > 2
    # Reproducible per video, whatever else was sampled before.
    again = sample_video_clips(
        prefix, durations, video_rng(0, '0001'), quota=30, min_gap=2)
    assert again == clips
    assert sample_video_clips(
        prefix, durations, video_rng(1, '0001'), quota=30, min_gap=2) != clips
    assert sample_video_clips(
        prefix, durations, video_rng(0, '0002'), quota=30, min_gap=2) != clips


def test_quota_and_retry_budget():
    prefix = visible_prefix(
        np.ones((5000, 137)), anchor_indices('openpose137'), 0.3)
    durations = DurationDistribution([10])
    assert len(
        sample_video_clips(prefix, durations, video_rng(0, 'a'), quota=7)) == 7
    # One try draws one candidate: at most one clip.
    assert len(
        sample_video_clips(
            prefix, durations, video_rng(0, 'a'), quota=7, max_tries=1)) == 1
    # Nothing visible, or every duration longer than the video: nothing.
    dark = visible_prefix(
        np.zeros((5000, 137)), anchor_indices('openpose137'), 0.3)
    assert sample_video_clips(dark, durations, video_rng(0, 'a')) == []
    assert sample_video_clips(prefix, DurationDistribution([6000]),
                              video_rng(0, 'a')) == []
    with pytest.raises(ValueError, match='no labelled MG durations'):
        DurationDistribution([])


def test_durations_follow_the_empirical_distribution():
    durations = DurationDistribution.from_segments([(0, 9), (5, 34), (0, 9)])
    rng = np.random.default_rng(0)
    draws = np.array([durations.sample(rng) for _ in range(3000)])
    assert set(draws) == {10, 30}
    assert (draws == 10).mean() == pytest.approx(2 / 3, abs=0.03)


def plain_iod(clips, ground_truth):
    inside = total = 0
    per_clip = []
    for vid, video_clips in clips.items():
        if vid not in ground_truth:
            continue
        mg = set()
        for s, e in ground_truth[vid]:
            mg.update(range(s, e + 1))
        for s, e in video_clips:
            frames = set(range(s, e + 1))
            inside += len(frames & mg)
            total += len(frames)
            per_clip.append(len(frames & mg) / len(frames))
    return inside / total, np.mean(per_clip), np.mean(
        np.array(per_clip) >= 0.5)


def test_mg_iod_against_a_frame_set_reference():
    rng = np.random.default_rng(2)
    clips, truth = {}, {}
    for v in range(5):
        starts = rng.integers(0, 900, 8)
        clips[f'v{v}'] = [(int(s), int(s + rng.integers(5, 80)))
                          for s in starts]
        # Overlapping ground truth counts once.
        gt_starts = rng.integers(0, 900, 10)
        truth[f'v{v}'] = [(int(s), int(s + rng.integers(10, 120)))
                          for s in gt_starts]
    clips['no_truth'] = [(0, 10)]
    report = mg_iod(clips, truth)
    precision, mean_iod, hit_rate = plain_iod(clips, truth)
    assert report.precision == pytest.approx(precision)
    assert report.mean_iod == pytest.approx(mean_iod)
    assert report.hit_rate == pytest.approx(hit_rate)
    assert report.clips == 40
    assert np.isnan(mg_iod({'a': [(0, 3)]}, {}).precision)


def test_epoch_generators_and_the_shared_rule():
    # Epoch 0 is the offline tool's generator; other epochs differ.
    first = video_rng(0, '0001').integers(1 << 30, size=4)
    assert (video_rng(0, '0001', epoch=0).integers(1 << 30,
                                                   size=4) == first).all()
    assert not (video_rng(0, '0001', epoch=1).integers(1 << 30, size=4)
                == first).all()
    prefix = visible_prefix(np.ones((500, 1)), [0], 0.5)
    durations = DurationDistribution([40, 60])
    check = functools.partial(interval_visible, prefix)
    # The offline sampler is the first `quota` clips of the shared rule.
    stream = list(iter_accepted(500, check, durations, video_rng(0, 'v'), 100))
    assert sorted(stream[:5]) == rejection_sample(
        500, check, durations, video_rng(0, 'v'), quota=5, max_tries=100)
    # Without the overlap rule clips may overlap; the budget bounds both.
    free = list(
        iter_accepted(
            500, check, durations, video_rng(0, 'v'), 100,
            avoid_overlap=False))
    assert len(free) == 100 and len(stream) < 100
    assert not list(
        iter_accepted(500, lambda s, e: False, durations, video_rng(0, 'v'),
                      50))
