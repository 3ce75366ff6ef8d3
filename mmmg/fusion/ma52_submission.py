"""MA-52 (MAC 2024 Track 1) submissions: ``submission.zip`` holding
``prediction.csv`` with ``id,pred_label_1,pred_label_2`` rows (the clip file,
its body-level and its action-level class), as the challenge baseline
writes them (VUT-HFUT/MAC_2024_baseline, ``MAR/mmaction2/submit/
generate.py``); the body class follows from the predicted action."""
import csv
import io
import zipfile
from typing import List, Sequence, Tuple

import numpy as np

from mmmg.classes import MA52_ACTION_CLASSES, MA52_ACTION_TO_BODY
from mmmg.utils import atomic_path
from mmmg.utils.sorting import natural_key

CSV_NAME = 'prediction.csv'
HEADER = ('id', 'pred_label_1', 'pred_label_2')
CLIP_EXT = '.mp4'
# (clip file, body class, action class)
Row = Tuple[str, int, int]


def ma52_submission_rows(ids: Sequence[str], probs: np.ndarray) -> List[Row]:
    """``(clip file, body class, action class)`` of every test clip, in
    clip order (``test0000.mp4``, ``test0001.mp4``, ...).

    Args:
        ids (Sequence[str]): Sample ids (clip names with or without
            ``.mp4``) of the rows of ``probs``.
        probs (np.ndarray): ``[N, 52]`` action-level scores.
    """
    if probs.ndim != 2 or probs.shape[1] != len(MA52_ACTION_CLASSES):
        raise ValueError(
            f'MA-52 submissions need [N, {len(MA52_ACTION_CLASSES)}] '
            f'action-level scores, got shape {probs.shape}')
    if len(ids) != len(probs):
        raise ValueError(f'{len(ids)} ids for {len(probs)} score rows')
    names = [i if i.endswith(CLIP_EXT) else i + CLIP_EXT for i in ids]
    if len(set(names)) != len(names):
        raise ValueError('the scores repeat sample ids')
    actions = probs.argmax(1).tolist()
    rows = [(name, MA52_ACTION_TO_BODY[a], a)
            for name, a in zip(names, actions)]
    return sorted(rows, key=lambda row: natural_key(row[0]))


def write_ma52_submission(path: str, rows: Sequence[Row]) -> None:
    """Write ``path`` (a ``.zip``) with the one CSV inside, atomically."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator='\n')
    writer.writerow(HEADER)
    writer.writerows(rows)
    with atomic_path(path) as tmp:
        with zipfile.ZipFile(tmp, 'w', zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(CSV_NAME, text.getvalue())
