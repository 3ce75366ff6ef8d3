"""Score-level ensembling: reading score files, calibration, weight search,
submissions and pseudo-labels."""
from .ensemble import Ensemble, fit_ensemble
from .provenance import check_provenance, stream_provenance
from .pseudo_labels import (PseudoLabel, class_aware_thresholds,
                            pseudo_label_summary, select_pseudo_labels,
                            write_list_pseudo_annotations,
                            write_pose_pseudo_annotations)
from .score_sources import (ScoreSourceError, StreamScores, align_streams,
                            read_id_list, read_score_streams)
from .submission import submission_rows, write_submission
from .temperature import apply_temperature, fit_temperature, nll
from .weight_search import evaluate_weights, search_weights

__all__ = [
    'Ensemble', 'fit_ensemble', 'ScoreSourceError', 'StreamScores',
    'align_streams', 'read_id_list', 'read_score_streams', 'submission_rows',
    'write_submission', 'apply_temperature', 'fit_temperature', 'nll',
    'evaluate_weights', 'search_weights', 'PseudoLabel',
    'class_aware_thresholds', 'pseudo_label_summary', 'select_pseudo_labels',
    'write_list_pseudo_annotations', 'write_pose_pseudo_annotations',
    'check_provenance', 'stream_provenance'
]
