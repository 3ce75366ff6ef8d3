"""Whole-body pose extraction from videos (RTMPose / RTMW / DWPose).

See :mod:`.extractor` for the per-video output format, :mod:`.backends` for
the ONNX Runtime and MMPose backends, :mod:`.tracking` for the choice of the
primary interviewee, :mod:`.sharding` for spreading videos over processes
and :mod:`.convert` for layouts and the annotation pickle. The command line
tool is ``tools/extract_pose.py``.
"""
from .backends import (DetectorBackend, MMDetDetector, MMPoseBackend,
                       ModelError, ONNXDetector, ONNXPoseBackend, PoseBackend,
                       WholeFrameDetector)
from .convert import (build_annotations, load_pose_file, pose_in_layout,
                      write_annotations)
from .extractor import BackendSpec, PoseExtractor, extract_poses
from .sharding import resolve_shard, select_shard
from .tracking import PrimaryPersonTracker

__all__ = [
    'BackendSpec', 'DetectorBackend', 'MMDetDetector', 'MMPoseBackend',
    'ModelError', 'ONNXDetector', 'ONNXPoseBackend', 'PoseBackend',
    'PoseExtractor', 'PrimaryPersonTracker', 'WholeFrameDetector',
    'build_annotations', 'extract_poses', 'load_pose_file', 'pose_in_layout',
    'resolve_shard', 'select_shard', 'write_annotations'
]
