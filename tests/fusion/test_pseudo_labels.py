import pickle

import numpy as np
import pytest

from mmmg.datasets import MGPoseDataset
from mmmg.fusion.pseudo_labels import (PseudoLabel, class_aware_thresholds,
                                       pseudo_label_summary,
                                       select_pseudo_labels,
                                       write_list_pseudo_annotations,
                                       write_pose_pseudo_annotations)
from mmmg.utils.video_list import read_video_list


def plain_thresholds(probs, keep_ratio, floor):
    out = []
    for c in range(probs.shape[1]):
        conf = [p.max() for p in probs if p.argmax() == c]
        if not conf:
            out.append(np.inf)
            continue
        conf = sorted(conf, reverse=True)
        k = max(int(np.ceil(keep_ratio * len(conf))), 1)
        out.append(max(conf[k - 1], floor))
    return np.array(out)


def skewed_probs(rng, n_head=200, n_tail=10, c=5):
    """A confident head class 0 and a tail class 4 whose predictions are
    much less confident."""
    probs = []
    for _ in range(n_head):
        z = rng.normal(size=c)
        z[0] += 5
        probs.append(np.exp(z) / np.exp(z).sum())
    for _ in range(n_tail):
        z = rng.normal(scale=0.2, size=c)
        z[4] += 1.2
        probs.append(np.exp(z) / np.exp(z).sum())
    return np.array(probs)


@pytest.mark.parametrize('keep_ratio, floor', [(0.5, 0.), (0.3, 0.4),
                                               (1.0, 0.2)])
def test_thresholds_match_the_formula(keep_ratio, floor):
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(6) * 0.5, size=300)
    np.testing.assert_array_equal(
        class_aware_thresholds(probs, keep_ratio, floor),
        plain_thresholds(probs, keep_ratio, floor))


def test_tail_class_keeps_its_share():
    rng = np.random.default_rng(1)
    probs = skewed_probs(rng)
    ids = [f'0001_{i}' for i in range(len(probs))]
    thresholds = class_aware_thresholds(
        probs, keep_ratio=0.5, min_confidence=0.)
    chosen = select_pseudo_labels(ids, probs, thresholds)
    per_class = np.bincount([p.label for p in chosen], minlength=5)
    assert per_class[4] == 5 and per_class[0] == 100
    # A global threshold at the head's median confidence takes no tail
    # sample at all.
    head_median = np.median(probs[:200].max(1))
    assert (probs[200:].max(1) >= head_median).sum() == 0
    # Classes nothing is predicted as select nothing.
    assert np.isinf(thresholds[1:4]).all()


def test_selection_cap_and_summary():
    probs = np.array([[.9, .1], [.8, .2], [.7, .3], [.2, .8], [.4, .6]])
    ids = ['a_3', 'a_10', 'a_2', 'b_1', 'b_0']
    thresholds = np.array([.75, .5])
    chosen = select_pseudo_labels(ids, probs, thresholds)
    assert [(p.id, p.label) for p in chosen] == [('a_3', 0), ('a_10', 0),
                                                 ('b_0', 1), ('b_1', 1)]
    capped = select_pseudo_labels(ids, probs, thresholds, max_per_class=1)
    assert [p.id for p in capped] == ['a_3', 'b_1']
    labels = np.array([0, 1, 0, 1, -1])
    summary = pseudo_label_summary(probs, thresholds, chosen, ids, labels)
    assert summary['per_class']['predicted'] == [3, 2]
    assert summary['per_class']['selected'] == [2, 2]
    # a_10 is wrong, b_0's label is unknown.
    assert summary['labelled'] == 3
    assert summary['accuracy'] == pytest.approx(2 / 3)
    assert summary['per_class']['accuracy'] == [0.5, 1.0]


@pytest.fixture
def pose_ann(tmp_path):
    annotations, split = [], dict(train=[], test=[])
    for name, label, which in (('t_0', 1, 'train'), ('t_1', 2, 'train'),
                               ('u_0', -1, 'test'), ('u_1', -1, 'test')):
        annotations.append(
            dict(
                frame_dir=name,
                label=label,
                total_frames=4,
                img_shape=(8, 8),
                original_shape=(8, 8),
                keypoint=np.zeros((1, 4, 36, 2), np.float32),
                keypoint_score=np.ones((1, 4, 36), np.float32)))
        split[which].append(name)
    path = tmp_path / 'ann.pkl'
    with open(path, 'wb') as f:
        pickle.dump(dict(split=split, annotations=annotations), f)
    return str(path)


def test_pose_annotation(pose_ann, tmp_path):
    out = str(tmp_path / 'pseudo.pkl')
    n = write_pose_pseudo_annotations(pose_ann, [PseudoLabel('u_1', 5, 0.9)],
                                      out)
    assert n == 3
    dataset = MGPoseDataset(out, pipeline=[], split='train_pseudo')
    infos = [dataset.get_data_info(i) for i in range(len(dataset))]
    assert [(d['sample_id'], d['label']) for d in infos] == [('t_0', 1),
                                                             ('t_1', 2),
                                                             ('u_1', 5)]
    with open(out, 'rb') as f:
        data = pickle.load(f)
    assert data['annotations'][2]['pseudo_confidence'] == 0.9
    # The source annotation is left as it was.
    with open(pose_ann, 'rb') as f:
        assert pickle.load(f)['annotations'][3]['label'] == -1
    with pytest.raises(
            ValueError,
            match=r"ann.pkl: .*not in the "
            r"annotations: 1 ids \('x_9'\)"):
        write_pose_pseudo_annotations(pose_ann, [PseudoLabel('x_9', 1, 1.)],
                                      out)
    with pytest.raises(
            ValueError, match=r"in the 'train' split already: "
            r"1 ids \('t_0'\)"):
        write_pose_pseudo_annotations(pose_ann, [PseudoLabel('t_0', 1, 1.)],
                                      out)
    with pytest.raises(ValueError, match="no split 'training'"):
        write_pose_pseudo_annotations(
            pose_ann, [], out, train_split='training')


def test_video_lists(tmp_path):
    train = tmp_path / 'rgb_train.txt'
    train.write_text('0002_0 0002.mp4 0 30 4\n0002_1 0002.mp4 40 70 7\n')
    test = tmp_path / 'rgb_test.txt'
    test.write_text('0003_0 0003.mp4 0 30\n0003_1 0003.mp4 40 70\n')
    out = str(tmp_path / 'rgb_train_pseudo.txt')
    n = write_list_pseudo_annotations(
        str(train), str(test), [PseudoLabel('0003_1', 9, .8)], out)
    assert n == 3
    fmt, entries = read_video_list(out)
    assert fmt == 'segment'
    assert [(e.sample_id, e.start, e.end, e.label)
            for e in entries] == [('0002_0', 0, 30, 4), ('0002_1', 40, 70, 7),
                                  ('0003_1', 40, 70, 9)]
    clips = tmp_path / 'clips.txt'
    clips.write_text('0003_0.mp4\n')
    with pytest.raises(
            ValueError, match='segment list but .*clips.txt a '
            'clip list'):
        write_list_pseudo_annotations(str(train), str(clips), [], out)
    with pytest.raises(ValueError, match=r"rgb_test.txt: .*not in the list"):
        write_list_pseudo_annotations(
            str(train), str(test), [PseudoLabel('0009_0', 1, 1.)], out)
    with pytest.raises(ValueError, match=r"training samples already"):
        write_list_pseudo_annotations(
            str(train), str(train), [PseudoLabel('0002_0', 1, 1.)], out)
