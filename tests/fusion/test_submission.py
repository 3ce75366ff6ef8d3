import csv

import numpy as np
import pytest

from mmmg.fusion.submission import submission_rows, write_submission


def one_hot(classes, num_classes=32):
    probs = np.full((len(classes), num_classes), 0.01)
    probs[np.arange(len(classes)), classes] = 0.5
    return probs


def test_miga_order_and_labels(tmp_path):
    ids = ['0054_10', '0003_1', '0054_2', '0003_0']
    probs = one_hot([0, 31, 24, 5])
    rows = submission_rows(ids, probs)
    # Videos ascending, clip index numeric; class 31 is the non-MG class
    # (raw 99), the others are 1-based.
    assert rows == [('0003_0', 6), ('0003_1', 99), ('0054_2', 25),
                    ('0054_10', 1)]
    path = tmp_path / 'submission.csv'
    write_submission(str(path), rows)
    with open(path) as f:
        table = list(csv.reader(f))
    assert table[0] == ['Id', 'Target']
    assert table[1:] == [[i, str(t)] for i, t in rows]


def test_given_order_and_index_target():
    ids = ['b', 'a', 'c']
    rows = submission_rows(
        ids, one_hot([1, 2, 3], 4), order=['c', 'a', 'b'], target='index')
    assert rows == [('c', 3), ('a', 2), ('b', 1)]


def test_list_and_scores_must_match():
    probs = one_hot([1, 2, 3], 4)
    with pytest.raises(
            ValueError,
            match=r"1 ids \('d'\) in the list.*"
            r"1 ids \('c'\) scored"):
        submission_rows(['a', 'b', 'c'],
                        probs,
                        order=['a', 'b', 'd'],
                        target='index')
    with pytest.raises(ValueError, match='repeats'):
        submission_rows(['a', 'b', 'c'],
                        probs,
                        order=['a', 'b', 'c', 'a'],
                        target='index')


def test_miga_target_needs_imigue_classes():
    with pytest.raises(ValueError, match='32 iMiGUE classes.*4 classes'):
        submission_rows(['a'], one_hot([1], 4))
