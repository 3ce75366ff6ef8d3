"""Decode RGB frames of a clip's segment in its long video, with its pose."""
from typing import Dict

import numpy as np
from mmaction.datasets.transforms import MMDecode
from mmaction.registry import TRANSFORMS

from .segment_decode import (DECODE_ERRORS, VideoSegmentError,
                             open_video_reader, resolve_segment)


@TRANSFORMS.register_module()
class MMDecodeSegment(MMDecode):
    """Stock ``MMDecode`` for clips that are segments of a long video.

    iMiGUE clips are ``[start, end]`` frame ranges of long interview videos
    and their skeletons are stored per clip, so frame ``i`` of the clip is
    frame ``start + i`` of the video. The sampled RGB indices are shifted by
    ``start`` before decoding; pose indices stay clip-relative. An mp4 may
    hold a few frames fewer than the skeleton rows: as in
    :class:`DecordInitSegment`, a segment may end up to
    ``DEFAULT_END_TOLERANCE`` frames past the video, whose last frame then
    stands in for the missing ones; anything else that does not fit is a
    :class:`VideoSegmentError` naming the sample and the file.

    Required Keys:

        - filename (the long video)
        - start
        - modality
        - RGB_inds
        - Pose_inds
        - keypoint
        - img_shape

    Added Keys:

        - imgs

    Modified Keys:

        - keypoint
        - keypoint_score
        - img_shape
        - original_shape

    Args:
        io_backend (str): Storage backend of the videos. Defaults to
            ``'disk'``.
    """

    def transform(self, results: Dict) -> Dict:
        if 'RGB' not in results['modality']:
            return super().transform(results)
        sample_id = results.get('sample_id', results.get('frame_dir'))
        if 'filename' not in results or 'start' not in results:
            raise KeyError(f'sample {sample_id!r}: MMDecodeSegment needs '
                           '`filename` and `start`; set '
                           'data_prefix=dict(video=ROOT) in the MGPoseDataset')
        filename = results['filename']
        reader = open_video_reader(filename, sample_id=sample_id)
        try:
            start, end = resolve_segment(
                results['start'],
                results['start'] + results['total_frames'] - 1, len(reader))
        except ValueError as e:
            raise VideoSegmentError(filename, sample_id, str(e)) from e
        inds = np.squeeze(results['RGB_inds']).reshape(-1) + start
        try:
            imgs = self._decord_load_frames(reader, np.minimum(inds, end))
        except DECODE_ERRORS as e:
            raise VideoSegmentError(
                filename, sample_id, f'decoding frames {inds.min()}-'
                f'{inds.max()} failed: {e}') from e
        del reader
        results['imgs'] = imgs
        # The parent decodes the pose and rescales keypoints to the frames.
        modality = results['modality']
        results['modality'] = [m for m in modality if m != 'RGB']
        try:
            results = super().transform(results)
        finally:
            results['modality'] = modality
        return results
