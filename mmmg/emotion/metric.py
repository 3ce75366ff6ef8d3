"""Accuracy and F1 of each outcome for the video-level emotion task."""
import csv
from typing import Any, Dict, Optional, Sequence

import numpy as np
from mmaction.registry import METRICS
from mmengine.evaluator import BaseMetric

from mmmg.evaluation.functional import (confusion_matrix, macro_f1,
                                        per_class_scores)
from mmmg.evaluation.predictions import sample_label, sample_streams
from mmmg.utils.io import atomic_open


@METRICS.register_module()
class OutcomeF1Metric(BaseMetric):
    """Accuracy, the F1 of every class and their mean (macro-F1 over all
    classes) of per-video predictions, e.g. win / lose.

    Returned keys are ``accuracy``, ``f1_<class>`` (class names from
    ``dataset_meta['classes']``) and ``macro_f1``, under the prefix
    ``emotion/``.

    Args:
        prediction_file (str, optional): Also write a CSV ``video,outcome,
        prob_<last class>`` of the predictions here. Defaults to None.
        collect_device (str): Device for collecting results across ranks.
        prefix (str, optional): Metric name prefix. Defaults to
            ``'emotion'``.
    """

    default_prefix = 'emotion'

    def __init__(self,
                 prediction_file: Optional[str] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.prediction_file = prediction_file

    def process(self, data_batch: Any, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            self.results.append(
                dict(
                    prob=sample_streams(sample, 'item')['item'].reshape(-1),
                    label=sample_label(sample),
                    video=sample.get('video')))

    def compute_metrics(self, results: list) -> Dict[str, float]:
        probs = np.stack([r['prob'] for r in results])
        labels = np.array([r['label'] for r in results])
        num_classes = probs.shape[1]
        classes = (self.dataset_meta
                   or {}).get('classes', [str(k) for k in range(num_classes)])
        preds = probs.argmax(axis=1)
        f1 = per_class_scores(confusion_matrix(labels, preds,
                                               num_classes))['f1']
        metrics = dict(accuracy=float((preds == labels).mean()))
        metrics.update({f'f1_{c}': float(v) for c, v in zip(classes, f1)})
        metrics['macro_f1'] = float(
            macro_f1(labels, preds, num_classes, over='all'))
        if self.prediction_file:
            self._save(results, classes)
        return metrics

    def _save(self, results: list, classes: Sequence[str]) -> None:
        with atomic_open(self.prediction_file, 'w') as f:
            writer = csv.writer(f, lineterminator='\n')
            writer.writerow(['video', 'outcome', f'prob_{classes[-1]}'])
            for r in results:
                writer.writerow(
                    [r['video'], classes[r['label']], f'{r["prob"][-1]:.4f}'])


__all__ = ['OutcomeF1Metric']
