from .class_weighted_ce import MGCrossEntropyLoss
from .class_weights import (class_weights_from_counts, count_labels,
                            resolve_class_weight)
from .label_embedding import LabelEmbeddingLoss
from .semantic_embedding import SemanticEmbeddingLoss

__all__ = [
    'LabelEmbeddingLoss', 'MGCrossEntropyLoss', 'SemanticEmbeddingLoss',
    'class_weights_from_counts', 'count_labels', 'resolve_class_weight'
]
