from .merge_rgbpose import (MergeReport, load_state_dict,
                            merge_rgbpose_state_dicts)
from .skeleton_streams import STREAMS, skeleton_stream

__all__ = [
    'MergeReport', 'STREAMS', 'load_state_dict', 'merge_rgbpose_state_dicts',
    'skeleton_stream'
]
