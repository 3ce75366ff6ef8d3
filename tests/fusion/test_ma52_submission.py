"""The MA-52 submission zip: its one CSV, header, order and body labels."""
import csv
import io
import os
import zipfile

import numpy as np
import pytest

from mmmg.fusion.ma52_submission import (ma52_submission_rows,
                                         write_ma52_submission)


def test_zip_holds_prediction_csv_in_clip_order(tmp_path):
    probs = np.zeros((3, 52))
    probs[0, 12] = probs[1, 4] = probs[2, 51] = 1
    ids = ['test0010', 'test0002.mp4', 'test0001']
    path = str(tmp_path / 'submission.zip')
    write_ma52_submission(path, ma52_submission_rows(ids, probs))
    with zipfile.ZipFile(path) as archive:
        assert archive.namelist() == ['prediction.csv']
        text = archive.read('prediction.csv').decode()
    rows = list(csv.reader(io.StringIO(text)))
    assert rows == [['id', 'pred_label_1', 'pred_label_2'],
                    ['test0001.mp4', '6', '51'], ['test0002.mp4', '0', '4'],
                    ['test0010.mp4', '2', '12']]
    assert os.listdir(tmp_path) == ['submission.zip']  # no partial file


def test_scores_of_another_dataset_are_refused():
    with pytest.raises(ValueError, match=r'\[N, 52\] action-level scores'):
        ma52_submission_rows(['a'], np.zeros((1, 32)))
    with pytest.raises(ValueError, match='repeat sample ids'):
        ma52_submission_rows(['a', 'a.mp4'], np.zeros((2, 52)))
