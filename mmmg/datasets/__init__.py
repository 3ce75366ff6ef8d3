from .classes import IMIGUE_CLASSES
from .pose_dataset import MGPoseDataset
from .transforms import *  # noqa: F401,F403

__all__ = ['IMIGUE_CLASSES', 'MGPoseDataset']
