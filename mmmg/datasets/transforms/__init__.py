from .formatting import PackMGInputs
from .heatmaps import GeneratePoseHeatmaps
from .pose_compact import MGPoseCompact

__all__ = ['GeneratePoseHeatmaps', 'MGPoseCompact', 'PackMGInputs']
