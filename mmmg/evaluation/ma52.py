"""The MA-52 / MAC 2024 micro-action recognition metric, numpy only.

MAC 2024 (Track 1) ranks by ``F1_mean``: the mean of macro- and micro-F1 at
the action level (52 "fine" classes) and at the body level (7 "coarse"
classes), where body labels and predictions both follow from the action
labels through :data:`mmmg.classes.MA52_ACTION_TO_BODY` (as in the
challenge baseline VUT-HFUT/MAC_2024_baseline,
``MAR/mmaction2/mmaction/evaluation/metrics/acc_metric.py``). Macro-F1
averages over the classes among the labels or the predictions, like
scikit-learn's ``f1_score(average='macro')``; for single-label predictions
micro-F1 equals accuracy.
"""
from typing import Dict

import numpy as np

from mmmg.classes import (MA52_ACTION_CLASSES, MA52_ACTION_TO_BODY,
                          MA52_BODY_CLASSES)
from .functional import macro_f1


def ma52_f1_scores(labels: np.ndarray, preds: np.ndarray) -> Dict[str, float]:
    """MAC 2024's F1 scores of action-level predictions.

    Args:
        labels (np.ndarray): ``[N]`` true action labels (0-51).
        preds (np.ndarray): ``[N]`` predicted action labels, or ``[N, 52]``
            scores (their argmax is the prediction).

    Returns:
        dict: ``f1_mean`` and its four parts ``action_f1_macro``,
        ``action_f1_micro``, ``body_f1_macro``, ``body_f1_micro``.
    """
    labels = np.asarray(labels, dtype=np.int64)
    preds = np.asarray(preds)
    if preds.ndim == 2:
        preds = preds.argmax(1)
    preds = preds.astype(np.int64)
    n_action = len(MA52_ACTION_CLASSES)
    if labels.shape != preds.shape or labels.ndim != 1 or not labels.size:
        raise ValueError(f'MA-52 F1: {labels.shape[0] if labels.ndim else 0}'
                         f' labels and predictions of shape {preds.shape}; '
                         'need one prediction per label')
    for name, values in (('label', labels), ('prediction', preds)):
        bad = (values < 0) | (values >= n_action)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(f'MA-52 F1: {name} {values[i]} of sample {i} is '
                             f'not an action label in [0, {n_action})')
    to_body = np.array(MA52_ACTION_TO_BODY)
    scores = {}
    for level, y, p, classes in (('action', labels, preds,
                                  MA52_ACTION_CLASSES),
                                 ('body', to_body[labels], to_body[preds],
                                  MA52_BODY_CLASSES)):
        scores[f'{level}_f1_macro'] = macro_f1(y, p, len(classes))
        scores[f'{level}_f1_micro'] = float((y == p).mean())
    scores['f1_mean'] = float(np.mean(list(scores.values())))
    return scores
