"""Scores and labels of MMAction2 prediction records, numpy only.

A record is a data sample as a dict: the metric's input, or one element of
a stock ``tools/test.py --dump`` list. Both of MMAction2's key conventions
are read:

* 1.1.0: ``pred_scores={'item': [C]}`` (or one key per stream for
  RGBPoseConv3D), ``gt_labels={'item': [1]}``;
* 1.2.0: ``pred_score=[C]`` (or the same dict of streams),
  ``gt_label=[1]``.
"""
from typing import Any, Optional

import numpy as np


def _to_numpy(value: Any) -> np.ndarray:
    return value.detach().cpu().numpy() if hasattr(value, 'detach') else \
        np.asarray(value)


def sample_streams(data_sample: dict, single_stream: str) -> dict:
    """Per-stream scores of one record; the anonymous stream of a
    single-stream model is named ``single_stream``."""
    pred = data_sample.get('pred_scores', data_sample.get('pred_score'))
    if pred is None:
        raise KeyError('model output has neither pred_scores nor pred_score')
    if not isinstance(pred, dict):
        return {single_stream: _to_numpy(pred)}
    if set(pred) == {'item'}:
        return {single_stream: _to_numpy(pred['item'])}
    return {name: _to_numpy(score) for name, score in pred.items()}


def sample_label(data_sample: dict) -> Optional[int]:
    """The record's label, None when absent or hidden (-1)."""
    gt = data_sample.get('gt_labels', data_sample.get('gt_label'))
    if gt is None:
        return None
    if isinstance(gt, dict):
        gt = gt['item']
    gt = _to_numpy(gt).reshape(-1)
    return int(gt[0]) if gt.size == 1 and gt[0] >= 0 else None
