"""tracking: the interviewee is selected once, followed, and gaps marked."""
import numpy as np
import pytest

from mmmg.pose_extraction.tracking import (PrimaryPersonTracker, box_iou,
                                           primary_score)

FRAME = (200, 100)
SUBJECT = np.array([70, 10, 130, 100, 0.9], np.float32)  # large, central
INTERVIEWER = np.array([0, 40, 30, 100, 0.99], np.float32)  # small, at edge


def moved(box, dx):
    out = box.copy()
    out[[0, 2]] += dx
    return out


def run(tracker, frames):
    chosen = [
        tracker.update(np.array(boxes, np.float32).reshape(-1, 5))
        for boxes in frames
    ]
    return [None if c is None else c.tolist() for c in chosen]


def test_iou_and_primary_score():
    boxes = np.array([[0, 0, 10, 10], [5, 0, 15, 10], [20, 20, 30, 30]],
                     np.float32)
    np.testing.assert_allclose(box_iou(boxes[0], boxes), [1, 1 / 3, 0])
    central = np.array([[90, 40, 110, 60]], np.float32)
    corner = np.array([[0, 0, 20, 20]], np.float32)
    big_corner = np.array([[0, 0, 60, 60]], np.float32)
    scores = primary_score(
        np.concatenate([central, corner, big_corner]), (200, 100))
    assert scores[0] > scores[1] and scores[2] > scores[1]
    assert 0 <= scores.min() and scores.max() <= 1
    # A frame-filling box scores 1.
    assert primary_score(np.array([[0, 0, 200, 100]]), (200, 100))[0] == \
        pytest.approx(1)


def test_selects_the_large_central_person_not_the_best_detection():
    tracker = PrimaryPersonTracker(FRAME)
    assert run(tracker, [[INTERVIEWER, SUBJECT]]) == [SUBJECT.tolist()]


def test_follows_the_subject_by_overlap_though_another_grows_larger():
    tracker = PrimaryPersonTracker(FRAME)
    big = np.array([0, 0, 200, 100, 0.5], np.float32)
    frames = [[SUBJECT]] + [[big, moved(SUBJECT, 3 * t)] for t in range(1, 6)]
    chosen = run(tracker, frames)
    assert chosen == [moved(SUBJECT, 3 * t).tolist() for t in range(6)]


def test_gaps_are_marked_not_filled_with_someone_else():
    tracker = PrimaryPersonTracker(FRAME, max_lost=3)
    frames = [[SUBJECT], [], [INTERVIEWER], [moved(SUBJECT, 2)]]
    assert run(tracker, frames) == [
        SUBJECT.tolist(), None, None,
        moved(SUBJECT, 2).tolist()
    ]


def test_a_lost_track_is_replaced_after_max_lost_frames():
    tracker = PrimaryPersonTracker(FRAME, max_lost=2)
    far = np.array([150, 0, 200, 100, 0.8], np.float32)  # no overlap
    chosen = run(tracker, [[SUBJECT], [far], [far], [far], [far]])
    assert chosen == [SUBJECT.tolist(), None, None, far.tolist(), far.tolist()]
    assert tracker.lost == 0


def test_no_person_at_all():
    tracker = PrimaryPersonTracker(FRAME)
    assert run(tracker, [[], [], [SUBJECT]]) == [None, None, SUBJECT.tolist()]


def test_bad_settings_are_rejected():
    with pytest.raises(ValueError, match='iou_thr'):
        PrimaryPersonTracker(FRAME, iou_thr=0)
    with pytest.raises(ValueError, match='max_lost'):
        PrimaryPersonTracker(FRAME, max_lost=-1)
