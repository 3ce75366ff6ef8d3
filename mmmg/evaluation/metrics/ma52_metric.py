"""MAC 2024's ``F1_mean`` as a validation / test metric for MA-52."""
from typing import Any, Dict, Optional, Sequence

import numpy as np
from mmaction.registry import METRICS
from mmengine.evaluator import BaseMetric

from ..ma52 import ma52_f1_scores
from ..predictions import sample_label, sample_streams


@METRICS.register_module()
class MA52Metric(BaseMetric):
    """``f1_mean`` with its action/body macro/micro parts and top-1/top-5.

    Expects action-level labels (``MA52Dataset(label_level='action')``);
    samples with hidden labels (-1) are skipped.

    Args:
        collect_device (str): Defaults to 'cpu'.
        prefix (str, optional): Defaults to 'ma52'.
    """
    default_prefix: Optional[str] = 'ma52'

    def process(self, data_batch: Any, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            label = sample_label(sample)
            if label is None:
                continue
            [scores] = sample_streams(sample, 'item').values()
            self.results.append(
                dict(
                    scores=scores.astype(np.float32).reshape(-1), label=label))

    def compute_metrics(self, results: list) -> Dict[str, float]:
        if not results:
            raise ValueError('MA52Metric: no sample has a label; F1_mean '
                             'needs the labelled validation or test list')
        scores = np.stack([r['scores'] for r in results])
        labels = np.array([r['label'] for r in results])
        metrics = ma52_f1_scores(labels, scores)
        top5 = np.argsort(-scores, axis=1)[:, :5]
        metrics['top1'] = float((top5[:, 0] == labels).mean())
        metrics['top5'] = float((top5 == labels[:, None]).any(1).mean())
        return metrics
