from ..classes import IMIGUE_CLASSES, SMG_CLASSES
from .pose_dataset import MGPoseDataset
from .transforms import *  # noqa: F401,F403

__all__ = ['IMIGUE_CLASSES', 'MGPoseDataset', 'SMG_CLASSES']

from ..classes import (MA52_ACTION_CLASSES, MA52_BODY_CLASSES,  # noqa: E402
                       MA52_BODY_RANGES)
from .ma52_dataset import MA52Dataset, ma52_body_label  # noqa: E402
from .video_clip_dataset import (MGVideoClipDataset,  # noqa: E402
                                 read_video_list)

__all__ += [
    'MA52_ACTION_CLASSES', 'MA52_BODY_CLASSES', 'MA52_BODY_RANGES',
    'MA52Dataset', 'MGVideoClipDataset', 'ma52_body_label', 'read_video_list'
]
