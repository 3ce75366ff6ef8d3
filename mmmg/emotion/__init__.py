"""MG-based emotion recognition: video-level win/lose from frozen clip
features, aggregated by attention-based multiple-instance learning and
trained by the MMEngine Runner (configs/emotion/)."""
from .bag_dataset import VideoBagDataset
from .bags import VideoBags, build_bags, read_video_labels
from .class_balance_hook import ClassBalanceHook
from .metric import OutcomeF1Metric
from .mil_aggregator import AttentionMILAggregator

__all__ = [
    'AttentionMILAggregator', 'ClassBalanceHook', 'OutcomeF1Metric',
    'VideoBagDataset', 'VideoBags', 'build_bags', 'read_video_labels'
]
