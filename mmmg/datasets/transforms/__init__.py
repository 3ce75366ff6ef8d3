from .formatting import PackMGInputs
from .pose_compact import MGPoseCompact

__all__ = ['MGPoseCompact', 'PackMGInputs']
