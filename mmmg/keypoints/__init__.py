from .graph import gcn_layout
from .layouts import (LAYOUTS, KeypointLayout, MissingKeypointsError,
                      bone_parents, conversion_table, conversion_targets,
                      convert_keypoints, convert_pose, get_layout,
                      missing_keypoints)

__all__ = [
    'KeypointLayout', 'LAYOUTS', 'MissingKeypointsError', 'bone_parents',
    'conversion_table', 'conversion_targets', 'convert_keypoints',
    'gcn_layout', 'convert_pose', 'get_layout', 'missing_keypoints'
]
