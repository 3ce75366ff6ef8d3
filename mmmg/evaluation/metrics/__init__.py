from .score_dump import DumpMGScores

__all__ = ['DumpMGScores']
