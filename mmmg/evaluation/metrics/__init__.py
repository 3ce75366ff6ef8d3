from .classification import MGClassificationMetric
from .ma52_metric import MA52Metric
from .score_dump import DumpMGScores

__all__ = ['DumpMGScores', 'MA52Metric', 'MGClassificationMetric']
