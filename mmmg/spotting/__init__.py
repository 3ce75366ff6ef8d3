"""Micro-gesture spotting in long videos: per-frame posteriors from window
scores, segments, the official label-table layout, metrics and timeline
pictures. numpy only (matplotlib when a picture is drawn), so the tools
that use it start without torch."""
from .frame_scores import windows_to_frame_scores
from .label_csv import (MIGA_CLASS_TO_RAW, MIGA_NON_MG_CLASS,
                        MIGA_RAW_TO_CLASS, read_label_csv, write_label_csv)
from .metrics import (IOU_THRESHOLDS, evaluate_spotting, format_report,
                      frame_accuracy, match_segments)
from .segments import (SPOTTING_DEFAULTS, Segment, naive_segments,
                       spot_segments, temporal_iou)
from .timeline import plot_timeline

__all__ = [
    'windows_to_frame_scores', 'MIGA_CLASS_TO_RAW', 'MIGA_NON_MG_CLASS',
    'MIGA_RAW_TO_CLASS', 'read_label_csv', 'write_label_csv', 'IOU_THRESHOLDS',
    'evaluate_spotting', 'format_report', 'frame_accuracy', 'match_segments',
    'SPOTTING_DEFAULTS', 'Segment', 'naive_segments', 'spot_segments',
    'temporal_iou', 'plot_timeline'
]
