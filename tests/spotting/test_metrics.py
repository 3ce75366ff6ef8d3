import numpy as np
import pytest

from mmmg.spotting import (Segment, evaluate_spotting, format_report,
                           frame_accuracy, match_segments, temporal_iou)

A, B = 'touch face', 'cover face'
GT = [
    Segment(A, 0, 100),  # g0
    Segment(A, 200, 300),  # g1
    Segment(B, 400, 500),  # g2
]
PRED = [
    # p0 vs g0: overlap 10-100 = 90, union 0-110 = 110, IoU 0.818
    Segment(A, 10, 110, 0.9),
    # p1 vs g0: overlap 60, union 100, IoU 0.6 (g0 is taken by p0 first)
    Segment(A, 0, 60, 0.8),
    # p2 vs g1: overlap 230-300 = 70, union 200-330 = 130, IoU 0.538
    Segment(A, 230, 330, 0.7),
    # p3 vs g2: overlap 440-500 = 60, union 400-560 = 160, IoU 0.375
    Segment(B, 440, 560, 0.6),
]
# tIoU 0.3: TP p0, p2, p3; FP p1 (duplicate); FN none.
# tIoU 0.5: TP p0, p2; FP p1, p3; FN g2.
# tIoU 0.7: TP p0; FP p1, p2, p3; FN g1, g2.
EXPECTED = {
    '0.3': dict(tp=3, fp=1, fn=0, precision=3 / 4, recall=1., f1=6 / 7),
    '0.5': dict(tp=2, fp=2, fn=1, precision=2 / 4, recall=2 / 3, f1=4 / 7),
    '0.7': dict(tp=1, fp=3, fn=2, precision=1 / 4, recall=1 / 3, f1=2 / 7),
}


def test_hand_computed_example():
    report = evaluate_spotting({'0001': (PRED, GT)})
    assert report['overall'].keys() == EXPECTED.keys()
    for key, want in EXPECTED.items():
        assert report['overall'][key] == pytest.approx(want), key
    assert (report['gt_segments'], report['pred_segments']) == (3, 4)
    # Per class at 0.5: A has TP p0, p2 and FP p1 (F1 4/5); B has FP p3
    # and FN g2 (F1 0); macro-F1 0.4.
    assert report['per_class'][A]['0.5'] == pytest.approx(
        dict(tp=2, fp=1, fn=0, precision=2 / 3, recall=1., f1=4 / 5))
    assert report['per_class'][B]['0.5'] == pytest.approx(
        dict(tp=0, fp=1, fn=1, precision=0., recall=0., f1=0.))
    assert report['per_class'][A]['gt'] == 2
    assert report['per_class'][A]['pred'] == 3
    assert report['macro_f1']['0.5'] == pytest.approx(0.4)
    # Frames 0-559; wrong: 100-109 (pred A only), 200-229 (GT A only),
    # 300-329 (pred A only), 400-439 (GT B only), 500-559 (pred B only):
    # 10 + 30 + 30 + 40 + 60 = 170 of 560.
    assert report['frame_accuracy'] == pytest.approx(390 / 560)
    assert report['per_video']['0001']['f1']['0.5'] == pytest.approx(4 / 7)


def test_matching_is_greedy_by_score():
    assert match_segments(PRED, GT, 0.5) == [(0, 0), (2, 1)]
    # p1 first: it takes g0 at 0.5 (IoU 0.6) and p0 is a duplicate; at 0.7
    # p1 does not qualify and p0 still takes g0.
    swapped = [Segment(A, 10, 110, 0.8), Segment(A, 0, 60, 0.9)]
    assert match_segments(swapped, GT, 0.5) == [(1, 0)]
    assert match_segments(swapped, GT, 0.7) == [(0, 0)]
    # Of two free ground-truth segments a prediction takes the closer one.
    gt = [Segment(A, 0, 50), Segment(A, 40, 100)]
    assert match_segments([Segment(A, 45, 100)], gt, 0.1) == [(0, 1)]
    # Same class only.
    assert match_segments([Segment(B, 0, 100)], GT, 0.3) == []


def test_threshold_is_inclusive():
    assert match_segments([Segment(A, 0, 50)], [Segment(A, 0, 100)],
                          0.5) == [(0, 0)]


def test_temporal_iou_matches_frame_sets():
    rng = np.random.default_rng(0)
    a = np.sort(rng.integers(0, 60, (20, 2)), axis=1)
    b = np.sort(rng.integers(0, 60, (15, 2)), axis=1)
    a[:, 1] += 1
    b[:, 1] += 1
    want = np.array([[
        len(set(range(*x)) & set(range(*y))) /
        len(set(range(*x)) | set(range(*y))) for y in b
    ] for x in a])
    np.testing.assert_allclose(temporal_iou(a, b), want)


def test_background_and_videos():
    gt = GT + [Segment('illustrative', 600, 650)]
    pred = PRED + [Segment('illustrative', 600, 640, 0.5)]
    report = evaluate_spotting(
        {
            '0001': (pred, gt),
            '0002': ([], [Segment(A, 0, 10)]),
            '0003': ([Segment(B, 5, 25, 0.5)], []),
        },
        background_class='illustrative')
    assert report['ignored_background'] == dict(gt=1, pred=1)
    assert report['videos'] == 3
    # 0002 adds an FN, 0003 an FP to the 0.5 counts of the hand example.
    assert report['overall']['0.5'] == pytest.approx(
        dict(tp=2, fp=3, fn=2, precision=2 / 5, recall=2 / 4, f1=4 / 9))
    assert report['per_video']['0002']['frame_accuracy'] == 0.
    assert report['per_video']['0003']['f1']['0.5'] == 0.
    # Without a background class, the non-MG segments match each other.
    report = evaluate_spotting({'0001': (pred, gt)})
    assert report['overall']['0.5']['tp'] == 3
    text = format_report(report)
    assert 'overall                   0.5     3     2     1' in text
    assert 'frame accuracy' in text


def test_frame_accuracy_overlapping_labels():
    gt = [Segment(A, 0, 10), Segment(B, 5, 10)]
    # Frames 5-9 need both labels.
    assert frame_accuracy([Segment(A, 0, 10)], gt) == (5, 10)
    assert frame_accuracy(gt[::-1], gt, num_frames=20) == (20, 20)


def test_nothing_to_count():
    report = evaluate_spotting({'v': ([], [])})
    assert report['overall']['0.5'] == dict(
        tp=0, fp=0, fn=0, precision=0., recall=0., f1=0.)
    assert report['frame_accuracy'] == 1.


def test_equal_scores_go_by_overlap():
    # A label table has no scores: p1 comes first in the file, but p0
    # overlaps g0 better, so p0 takes it at 0.5 and p1 is the duplicate.
    tied = [Segment(A, 0, 60), Segment(A, 10, 110)]
    assert match_segments(tied, GT, 0.5) == [(1, 0)]


def plain_matches(pred, gt, threshold):
    """The matching rule written out with plain loops and frame sets."""

    def iou(p, g):
        a, b = set(range(p.start, p.end)), set(range(g.start, g.end))
        return len(a & b) / len(a | b)

    def best(p):
        return max([iou(p, g) for g in gt if g.label == p.label] + [0.])

    order = sorted(
        range(len(pred)), key=lambda i: (-pred[i].score, -best(pred[i]), i))
    taken, matches = set(), []
    for i in order:
        options = [(iou(pred[i], g), -j) for j, g in enumerate(gt)
                   if j not in taken and g.label == pred[i].label
                   and iou(pred[i], g) >= threshold]
        if options:
            j = -max(options)[1]
            taken.add(j)
            matches.append((i, j))
    return matches


def test_matching_agrees_with_plain_loops():
    rng = np.random.default_rng(3)

    def segments(n, scored):
        out = []
        for _ in range(n):
            start = int(rng.integers(0, 200))
            out.append(
                Segment(
                    str(rng.choice([A, B])), start,
                    start + int(rng.integers(5, 60)),
                    float(rng.choice([.2, .5, .9])) if scored else 1.))
        return out

    for trial in range(30):
        pred, gt = segments(12, trial % 2 == 0), segments(8, False)
        for threshold in (0.1, 0.3, 0.5, 0.7):
            assert match_segments(pred, gt, threshold) == plain_matches(
                pred, gt, threshold), (trial, threshold)
