from ..classes import (IMIGUE_CLASSES, MA52_ACTION_CLASSES, MA52_BODY_CLASSES,
                       MA52_BODY_RANGES, SMG_CLASSES)
from .long_video_dataset import LongVideoDataset, OnlineClipSampler
from .ma52_dataset import MA52Dataset, ma52_body_label
from .pose_dataset import MGPoseDataset
from .samplers import ClassBalancedSampler
from .transforms import *  # noqa: F401,F403
from .video_clip_dataset import MGVideoClipDataset, read_video_list

__all__ = [
    'ClassBalancedSampler', 'IMIGUE_CLASSES', 'LongVideoDataset',
    'OnlineClipSampler', 'MA52_ACTION_CLASSES', 'MA52_BODY_CLASSES',
    'MA52_BODY_RANGES', 'MA52Dataset', 'MGPoseDataset', 'MGVideoClipDataset',
    'SMG_CLASSES', 'ma52_body_label', 'read_video_list'
]
