"""Inference on long videos: load trained streams, score clips, and score a
whole video with sliding windows (see docs/spotting.md).

``from mmmg.apis import load_streams, score_video`` needs MMEngine and
MMAction2; the modules import them when called.
"""
from .scoring import (PoseTrack, VideoScores, load_pose, plan_windows,
                      score_clip, score_clips, score_video, to_frames)
from .spotting import SpotResult, spot_video, write_outputs
from .streams import (Stream, StreamError, StreamSet, check_fusion,
                      check_streams, load_stream, load_streams)

__all__ = [
    'PoseTrack', 'SpotResult', 'Stream', 'StreamError', 'StreamSet',
    'VideoScores', 'check_fusion', 'check_streams', 'load_pose', 'load_stream',
    'load_streams', 'plan_windows', 'score_clip', 'score_clips', 'score_video',
    'spot_video', 'to_frames', 'write_outputs'
]
