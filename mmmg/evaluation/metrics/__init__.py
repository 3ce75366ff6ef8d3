from .score_dump import DumpMGScores

__all__ = ['DumpMGScores']
from .classification import MGClassificationMetric  # noqa: E402

__all__ += ['MGClassificationMetric']
