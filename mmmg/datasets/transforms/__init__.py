from .formatting import PackMGInputs
from .heatmaps import GeneratePoseHeatmaps
from .pose_compact import MGMMCompact, MGPoseCompact
from .rgbpose_decode import MMDecodeSegment

__all__ = ['GeneratePoseHeatmaps', 'MGMMCompact', 'MGPoseCompact', 'MMDecodeSegment', 'PackMGInputs']
