"""MiGA challenge submission files: ``Id,Target`` rows in the order of the
organisers' test list."""
import csv
from typing import List, Optional, Sequence, Tuple

import numpy as np

from mmmg.classes import IMIGUE_CLASSES, index_to_miga_label
from mmmg.utils import atomic_open
from mmmg.utils.sorting import natural_key
from .score_sources import some_ids

TARGETS = ('miga', 'index')


def submission_rows(ids: Sequence[str],
                    probs: np.ndarray,
                    order: Optional[Sequence[str]] = None,
                    target: str = 'miga') -> List[Tuple[str, int]]:
    """The predicted class of every sample, as submission rows.

    Args:
        ids (Sequence[str]): Sample ids of the rows of ``probs``.
        probs (np.ndarray): ``[N, C]`` fused probabilities.
        order (Sequence[str], optional): The test list's ids; rows follow
            it and it must name exactly the scored samples. Defaults to
            the MiGA order (videos ascending, clip index numeric).
        target (str): ``'miga'`` writes the release's raw labels (1-based,
            99 for the non-MG class; needs the iMiGUE class count);
            ``'index'`` writes 0-based class indices.

    Returns:
        list[tuple[str, int]]: ``(Id, Target)`` rows.
    """
    if target not in TARGETS:
        raise ValueError(f'target must be one of {TARGETS}, got {target!r}')
    if target == 'miga' and probs.shape[1] != len(IMIGUE_CLASSES):
        raise ValueError(
            f'target "miga" maps the {len(IMIGUE_CLASSES)} iMiGUE classes '
            f'to raw MiGA labels, but the scores have {probs.shape[1]} '
            'classes; use target "index"')
    pred = dict(zip(ids, probs.argmax(1).tolist()))
    if order is None:
        order = sorted(pred, key=natural_key)
    else:
        missing = [i for i in order if i not in pred]
        extra = sorted(set(pred) - set(order), key=natural_key)
        if missing or extra or len(order) != len(set(order)):
            raise ValueError(
                'the test list and the fused scores differ: '
                f'{some_ids(missing, count=True)} in the list without scores; '
                f'{some_ids(extra, count=True)} scored but not in the list' +
                ('; the list repeats ids' if len(order) !=
                 len(set(order)) else ''))
    convert = index_to_miga_label if target == 'miga' else int
    return [(i, convert(pred[i])) for i in order]


def write_submission(path: str, rows: Sequence[Tuple[str, int]]) -> None:
    """Write the CSV with its ``Id,Target`` header, atomically."""
    with atomic_open(path, 'w') as f:
        writer = csv.writer(f, lineterminator='\n')
        writer.writerow(['Id', 'Target'])
        writer.writerows(rows)
