r"""Classification metrics on numpy arrays, declared once.

The registered metric (``MGClassificationMetric``), the fusion report and
weight search and the emotion task all score through these functions.
Labels are class indices in ``[0, C)``; callers drop unknown labels (-1)
first.

F1 of class :math:`k` is computed as
:math:`F1_k = 2 TP_k / (\#\mathrm{predicted}_k + \#\mathrm{true}_k)`, which
equals :math:`2 P_k R_k / (P_k + R_k)` and is 0 where both counts are 0.
"""
from typing import Dict, Sequence, Tuple, Union

import numpy as np

# Classes a macro average runs over: those occurring among the labels or
# the predictions (scikit-learn's ``average='macro'`` over the classes
# present), or every class.
MACRO_OVER = ('present', 'all')


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """``num / den`` with 0 where ``den`` is 0."""
    num = np.asarray(num, dtype=np.float64)
    return np.divide(num, den, out=np.zeros_like(num), where=den > 0)


def confusion_matrix(labels: np.ndarray, preds: np.ndarray,
                     num_classes: int) -> np.ndarray:
    """Counts ``cm[t, p]`` of samples of true class t predicted as p."""
    cm = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(cm, (np.asarray(labels), np.asarray(preds)), 1)
    return cm


def class_counts(labels: np.ndarray, preds: np.ndarray,
                 num_classes: int) -> Tuple[np.ndarray, ...]:
    """True positives, predicted and true counts per class.

    Args:
        labels (np.ndarray): ``[N]`` true classes.
        preds (np.ndarray): ``[N]`` or ``[K, N]`` predicted classes (K
            candidate predictions scored at once).
        num_classes (int): C.

    Returns:
        tuple: ``tp`` and ``predicted`` of shape ``[C]`` or ``[K, C]`` and
        ``support`` of shape ``[C]``.
    """
    labels = np.asarray(labels)
    preds = np.asarray(preds)
    batch = preds.reshape(-1, preds.shape[-1])
    k = len(batch)
    # One bincount for all K rows: row r's classes are offset by r * C.
    offset = (np.arange(k) * num_classes)[:, None]
    flat = batch + offset
    size = k * num_classes
    tp = np.bincount(flat[batch == labels], minlength=size)
    predicted = np.bincount(flat.ravel(), minlength=size)
    shape = preds.shape[:-1] + (num_classes, )
    support = np.bincount(labels, minlength=num_classes)
    return tp.reshape(shape), predicted.reshape(shape), support


def per_class_scores(cm: np.ndarray) -> Dict[str, np.ndarray]:
    r"""Per-class precision, recall, F1 and counts of a confusion matrix.

    With :math:`TP_k = cm_{kk}`, precision :math:`P_k = TP_k / \sum_t
    cm_{tk}` and recall :math:`R_k = TP_k / \sum_p cm_{kp}`; a ratio with a
    zero denominator is 0 (a class never predicted has precision 0).

    Returns:
        dict: ``precision``, ``recall``, ``f1`` (float arrays),
        ``support`` (true samples) and ``predicted`` (int arrays), each of
        shape (num_classes, ).
    """
    tp = np.diag(cm)
    predicted = cm.sum(axis=0)
    support = cm.sum(axis=1)
    return dict(
        precision=_ratio(tp, predicted),
        recall=_ratio(tp, support),
        f1=_ratio(2 * tp, predicted + support),
        support=support,
        predicted=predicted)


def macro_f1(labels: np.ndarray,
             preds: np.ndarray,
             num_classes: int,
             over: str = 'present') -> Union[float, np.ndarray]:
    """Macro-averaged F1.

    Args:
        labels (np.ndarray): ``[N]`` true classes.
        preds (np.ndarray): ``[N]`` predictions, or ``[K, N]`` to score K
            candidates at once.
        num_classes (int): C.
        over (str): ``'present'``: average over the classes among the
            labels or the predictions (a class absent from a small test set
            does not count as a zero, a class predicted but absent does);
            ``'all'``: over all C classes.

    Returns:
        float, or ``[K]`` array for ``[K, N]`` predictions.
    """
    if over not in MACRO_OVER:
        raise ValueError(f'over must be one of {MACRO_OVER}, got {over!r}')
    tp, predicted, support = class_counts(labels, preds, num_classes)
    denom = predicted + support
    f1 = _ratio(2 * tp, denom)
    count = (denom > 0).sum(-1) if over == 'present' else num_classes
    value = f1.sum(-1) / count
    return float(value) if np.ndim(value) == 0 else value


def mean_class_accuracy(labels: np.ndarray, preds: np.ndarray,
                        num_classes: int) -> float:
    """Recall averaged over the classes that have samples (MMAction2's
    ``mean_class_accuracy``)."""
    tp, _, support = class_counts(labels, preds, num_classes)
    has_samples = support > 0
    return float((tp[has_samples] / support[has_samples]).mean())


def top_k_accuracy(scores: np.ndarray,
                   labels: np.ndarray,
                   topk: Sequence[int] = (1, 5)) -> Dict[int, float]:
    """Share of samples whose label is among the k highest scores, for
    each k (capped at the number of classes); ties keep class order."""
    labels = np.asarray(labels)
    num_classes = scores.shape[1]
    # Sorting once answers every k.
    order = np.argsort(-scores, axis=1, kind='stable')
    return {
        k: float(
            (order[:, :min(k, num_classes)] == labels[:, None]).any(1).mean())
        for k in topk
    }


def classification_report(scores: np.ndarray,
                          labels: np.ndarray,
                          topk: Sequence[int] = (1, 5)) -> dict:
    """Accuracies, macro-F1 and per-class scores of a score matrix.

    Args:
        scores (np.ndarray): (N, C) scores or probabilities.
        labels (np.ndarray): (N, ) classes in [0, C).
        topk (Sequence[int]): The k of the top-k accuracies.

    Returns:
        dict: ``top{k}`` floats, ``mean1`` (mean class accuracy),
        ``macro_f1`` (over the classes present), ``confusion`` (C, C)
        counts and the :func:`per_class_scores` arrays under
        ``per_class``.
    """
    num_classes = scores.shape[1]
    preds = scores.argmax(axis=1)
    cm = confusion_matrix(labels, preds, num_classes)
    report = {
        f'top{k}': value
        for k, value in top_k_accuracy(scores, labels, topk).items()
    }
    report['mean1'] = mean_class_accuracy(labels, preds, num_classes)
    report['macro_f1'] = macro_f1(labels, preds, num_classes)
    report['confusion'] = cm
    report['per_class'] = per_class_scores(cm)
    return report
