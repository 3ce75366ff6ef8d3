from .class_weighted_ce import MGCrossEntropyLoss
from .class_weights import (class_weights_from_counts, count_labels,
                            resolve_class_weight)
from .feature_decorrelation import (MultiGrainedDecorrelationLoss,
                                    cross_correlation, variance_covariance,
                                    view_invariance)
from .label_embedding import LabelEmbeddingLoss
from .semantic_embedding import SemanticEmbeddingLoss

__all__ = [
    'LabelEmbeddingLoss', 'MGCrossEntropyLoss',
    'MultiGrainedDecorrelationLoss', 'SemanticEmbeddingLoss',
    'class_weights_from_counts', 'count_labels', 'cross_correlation',
    'resolve_class_weight', 'variance_covariance', 'view_invariance'
]
