"""Score files and classification metrics, numpy only.

The registered metrics (:mod:`mmmg.evaluation.metrics`) need MMEngine and
are imported by :func:`mmmg.register_all_modules`, not here, so that score
fusion and the other numpy tools never pull in torch.
"""
from .functional import (classification_report, confusion_matrix, macro_f1,
                         mean_class_accuracy, per_class_scores, top_k_accuracy)
from .ma52 import ma52_f1_scores
from .score_file import (ScoreFileError, build_score_file, label_vector,
                         load_scores, save_scores, score_matrix)

__all__ = [
    'ScoreFileError', 'build_score_file', 'label_vector', 'load_scores',
    'save_scores', 'score_matrix', 'classification_report', 'confusion_matrix',
    'ma52_f1_scores', 'macro_f1', 'mean_class_accuracy', 'per_class_scores',
    'top_k_accuracy'
]
