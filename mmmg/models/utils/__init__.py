from .merge_rgbpose import (MergeReport, load_state_dict,
                            merge_rgbpose_state_dicts)

__all__ = ['MergeReport', 'load_state_dict', 'merge_rgbpose_state_dicts']
