"""MG-based emotion recognition: video-level win/lose from frozen clip
features, aggregated by attention-based multiple-instance learning."""
from .bags import VideoBags, build_bags, read_video_labels
from .mil_aggregator import AttentionMILAggregator
from .training import evaluate_bags, fit_aggregator

__all__ = [
    'AttentionMILAggregator', 'VideoBags', 'build_bags', 'evaluate_bags',
    'fit_aggregator', 'read_video_labels'
]
