"""Helpers with no dependency beyond numpy; the torch/MMEngine-side config
helpers live in :mod:`mmmg.utils.config`."""
from .io import atomic_open, atomic_path, partial_path
from .job_runner import JobError, JobReport, run_jobs
from .sorting import natural_key
from .video_list import VideoListEntry, list_videos, read_video_list

__all__ = [
    'atomic_open', 'atomic_path', 'partial_path', 'JobError', 'JobReport',
    'run_jobs', 'natural_key', 'VideoListEntry', 'list_videos',
    'read_video_list'
]
