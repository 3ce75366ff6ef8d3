from .metrics import *  # noqa: F401,F403
from .score_file import (ScoreFileError, build_score_file, label_vector,
                         load_scores, save_scores, score_matrix)

__all__ = [
    'ScoreFileError', 'build_score_file', 'label_vector', 'load_scores',
    'save_scores', 'score_matrix'
]
