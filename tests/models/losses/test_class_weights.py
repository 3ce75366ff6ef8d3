"""Class counts from annotation files and the weights of every mode, checked
against the formulas written out in numpy."""
import pickle

import numpy as np
import pytest

from mmmg.models.losses import class_weights as cw_module
from mmmg.models.losses import (class_weights_from_counts, count_labels,
                                resolve_class_weight)

C = 5
# Train counts with a long tail and one class (3) never seen.
TRAIN = {0: 40, 1: 9, 2: 4, 4: 1}


def numpy_weights(counts, mode, beta=0.999):
    """Reference: the module docstring's formulas, absent = max of seen."""
    n = np.asarray(counts, dtype=float)
    seen = n > 0
    raw = np.ones_like(n)
    if mode == 'inverse':
        raw[seen] = 1 / n[seen]
    elif mode == 'sqrt_inverse':
        raw[seen] = 1 / np.sqrt(n[seen])
    elif mode == 'effective_number':
        raw[seen] = (1 - beta) / (1 - beta**n[seen])
    raw[~seen] = raw[seen].max()
    return raw / raw.mean()


def write_pose_pickle(path, train=TRAIN, hidden=0):
    annos, split = [], {'train': [], 'val': []}
    for label, n in train.items():
        for i in range(n):
            annos.append(dict(frame_dir=f'tr{label}_{i}', label=label))
            split['train'].append(f'tr{label}_{i}')
    for i in range(hidden):
        annos.append(dict(frame_dir=f'hid{i}', label=-1))
        split['train'].append(f'hid{i}')
    # Validation samples must not be counted.
    for i in range(7):
        annos.append(dict(frame_dir=f'va{i}', label=3))
        split['val'].append(f'va{i}')
    with open(path, 'wb') as f:
        pickle.dump(dict(split=split, annotations=annos), f)
    return str(path)


def expected_counts(train=TRAIN):
    return np.array([train.get(c, 0) for c in range(C)])


def test_counts_from_pose_pickle(tmp_path):
    ann = write_pose_pickle(tmp_path / 'a.pkl', hidden=3)
    np.testing.assert_array_equal(
        count_labels(ann, C, 'train'), expected_counts())
    np.testing.assert_array_equal(count_labels(ann, C, 'val'), [0, 0, 0, 7, 0])


def test_counts_from_segment_and_clip_lists(tmp_path):
    seg, clip = tmp_path / 'rgb_train.txt', tmp_path / 'clips.txt'
    seg_lines, clip_lines = [], []
    for label, n in TRAIN.items():
        for i in range(n):
            seg_lines.append(f'v{label}_{i} v.mp4 {i} {i + 9} {label}')
            clip_lines.append(f'v{label}_{i}.mp4 {label}')
    seg_lines.append('hidden_0 v.mp4 0 5 -1')
    seg.write_text('\n'.join(seg_lines) + '\n')
    clip.write_text('\n'.join(clip_lines) + '\n')
    for path in (seg, clip):
        np.testing.assert_array_equal(
            count_labels(str(path), C), expected_counts())


def test_count_errors_name_the_file(tmp_path):
    ann = write_pose_pickle(tmp_path / 'a.pkl')
    with pytest.raises(FileNotFoundError, match='nowhere.pkl'):
        count_labels(str(tmp_path / 'nowhere.pkl'), C, 'train')
    with pytest.raises(
            ValueError, match=r"a.pkl has splits \['train', "
            r"'val'\]"):
        count_labels(ann, C)
    with pytest.raises(ValueError, match="a.pkl: no split 'test'"):
        count_labels(ann, C, 'test')
    with pytest.raises(
            ValueError, match=r"sample 'tr4_0' has label 4, "
            r'outside \[0, 4\)'):
        count_labels(ann, 4, 'train')
    lst = tmp_path / 'rgb_train.txt'
    lst.write_text('a.mp4 1\n')
    with pytest.raises(ValueError, match='rgb_train.txt is a clip list'):
        count_labels(str(lst), C, 'train')
    lst.write_text('a.mp4 -1\n')
    with pytest.raises(ValueError, match='no labelled sample'):
        count_labels(str(lst), C)


@pytest.mark.parametrize(
    'mode', ['none', 'inverse', 'sqrt_inverse', 'effective_number'])
@pytest.mark.parametrize('beta', [0.9, 0.999])
def test_weights_match_formulas(mode, beta):
    counts = expected_counts()
    w = class_weights_from_counts(counts, mode, beta=beta)
    np.testing.assert_allclose(w, numpy_weights(counts, mode, beta))
    assert w.mean() == pytest.approx(1.0)
    seen = counts > 0
    if mode != 'none':
        # Rarer classes weigh more.
        order = np.argsort(counts[seen])
        assert np.all(np.diff(w[seen][order]) < 0)
        # The unseen class takes the largest weight of the seen ones.
        assert w[3] == pytest.approx(w[seen].max())


def test_sqrt_is_gentler_than_inverse():
    counts = expected_counts()
    ratio = {
        m: (w := class_weights_from_counts(counts, m)).max() / w.min()
        for m in ('inverse', 'sqrt_inverse')
    }
    assert ratio['inverse'] == pytest.approx(40)
    assert ratio['sqrt_inverse'] == pytest.approx(np.sqrt(40))


def test_effective_number_agrees_with_mmaction_cb_focal():
    # MMAction2's CBFocalLoss computes the same Cui et al. weights
    # (normalised to sum C) from all-positive counts.
    from mmaction.models.losses import CBFocalLoss
    counts = [40, 9, 4, 2, 1]
    ref = CBFocalLoss(samples_per_cls=counts, beta=0.99).weights
    np.testing.assert_allclose(
        class_weights_from_counts(counts, 'effective_number', beta=0.99), ref)


def test_absent_policy_error():
    with pytest.raises(ValueError, match=r'classes \[3\] have no training'):
        class_weights_from_counts(
            expected_counts(), 'sqrt_inverse', absent='error')
    # All seen: no error, same weights as 'max'.
    counts = [5, 3, 1]
    np.testing.assert_allclose(
        class_weights_from_counts(counts, 'inverse', absent='error'),
        class_weights_from_counts(counts, 'inverse', absent='max'))


@pytest.mark.parametrize('kwargs, match', [
    (dict(mode='log'), 'mode must be one of'),
    (dict(mode='inverse', absent='skip'), 'absent must be one of'),
    (dict(mode='effective_number', beta=1.0), r'beta must be in \[0, 1\)'),
])
def test_weight_argument_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        class_weights_from_counts([3, 1], **kwargs)


def test_no_sample_at_all():
    with pytest.raises(ValueError, match='every class count is zero'):
        class_weights_from_counts([0, 0], 'inverse')


def test_resolve_spec_computes_and_logs(tmp_path, monkeypatch):
    logged = []
    monkeypatch.setattr(cw_module, 'print_log',
                        lambda msg, **kw: logged.append(msg))
    ann = write_pose_pickle(tmp_path / 'a.pkl')
    w = resolve_class_weight(
        dict(mode='sqrt_inverse', ann_file=ann, split='train', num_classes=C),
        owner='TestLoss')
    np.testing.assert_allclose(
        w, numpy_weights(expected_counts(), 'sqrt_inverse'))
    assert 'TestLoss: class weights (sqrt_inverse)' in logged[0]
    assert 'a.pkl [train]' in logged[0]
    assert 'class   4: n=     1' in logged[0]
    assert 'classes [3] have no training sample' in logged[1]


def test_resolve_absent_error_names_the_file(tmp_path):
    ann = write_pose_pickle(tmp_path / 'a.pkl')
    with pytest.raises(
            ValueError,
            match=r"TestLoss: .*a.pkl \[train\]: "
            r'classes \[3\] have no training sample'):
        resolve_class_weight(
            dict(
                mode='inverse',
                ann_file=ann,
                split='train',
                num_classes=C,
                absent='error'),
            owner='TestLoss')


def test_resolve_other_forms(tmp_path):
    assert resolve_class_weight(None) is None
    assert resolve_class_weight(dict(mode='none')) is None
    assert resolve_class_weight([1, 2.5]) == [1.0, 2.5]
    with pytest.raises(ValueError, match='positive finite'):
        resolve_class_weight([1, 0])
    with pytest.raises(TypeError, match='got str'):
        resolve_class_weight('sqrt_inverse')
    with pytest.raises(
            ValueError, match=r"unknown class_weight keys "
            r"\['file'\]"):
        resolve_class_weight(dict(mode='inverse', file='a.pkl'))
    with pytest.raises(ValueError, match="needs 'ann_file'"):
        resolve_class_weight(dict(mode='inverse', num_classes=3))
