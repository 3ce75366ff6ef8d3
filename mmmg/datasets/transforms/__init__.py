from .facial_visibility import FacialVisibilitySample
from .formatting import PackMGInputs
from .gap_filling import FillKeypointGaps
from .heatmap_spec import HeatmapSpec
from .heatmaps import GeneratePoseHeatmaps
from .pose_compact import MGMMCompact, MGPoseCompact
from .rgbpose_decode import MMDecodeSegment
from .segment_decode import DecordInitSegment, VideoSegmentError
from .skeleton_features import LayoutJointToBone, LayoutSkeletonFeatures
from .skeleton_sequence import (FixSkeletonLength, FormatSkeletonSequence,
                                NormalizeSkeleton)
from .skeleton_views import SkeletonViews, resample_clip
from .taylor import ExpandTaylorWindows, TaylorVideo

__all__ = [
    'DecordInitSegment', 'ExpandTaylorWindows', 'FacialVisibilitySample',
    'FillKeypointGaps', 'FixSkeletonLength', 'FormatSkeletonSequence',
    'GeneratePoseHeatmaps', 'HeatmapSpec', 'LayoutJointToBone',
    'LayoutSkeletonFeatures', 'MGMMCompact', 'MGPoseCompact',
    'MMDecodeSegment', 'NormalizeSkeleton', 'PackMGInputs', 'SkeletonViews',
    'TaylorVideo', 'VideoSegmentError', 'resample_clip'
]
