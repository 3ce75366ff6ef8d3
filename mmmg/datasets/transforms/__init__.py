from .formatting import PackMGInputs
from .heatmap_spec import HeatmapSpec
from .heatmaps import GeneratePoseHeatmaps
from .pose_compact import MGMMCompact, MGPoseCompact
from .rgbpose_decode import MMDecodeSegment

__all__ = [
    'GeneratePoseHeatmaps', 'HeatmapSpec', 'MGMMCompact', 'MGPoseCompact',
    'MMDecodeSegment', 'PackMGInputs'
]

from .segment_decode import DecordInitSegment, VideoSegmentError  # noqa: E402

__all__ += ['DecordInitSegment', 'VideoSegmentError']

from .taylor import ExpandTaylorWindows, TaylorVideo  # noqa: E402

__all__ += ['ExpandTaylorWindows', 'TaylorVideo']

from .skeleton_sequence import (FixSkeletonLength,  # noqa: E402
                                FormatSkeletonSequence, NormalizeSkeleton)
from .skeleton_views import SkeletonViews, resample_clip  # noqa: E402

__all__ += [
    'FixSkeletonLength', 'FormatSkeletonSequence', 'NormalizeSkeleton',
    'SkeletonViews', 'resample_clip'
]
