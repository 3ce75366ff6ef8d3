"""Decode RGB frames of a clip's segment in its long video, with its pose."""
from typing import Dict

import numpy as np
from mmaction.datasets.transforms import MMDecode
from mmaction.registry import TRANSFORMS


@TRANSFORMS.register_module()
class MMDecodeSegment(MMDecode):
    """Stock ``MMDecode`` for clips that are segments of a long video.

    iMiGUE clips are ``[start, end]`` frame ranges of long interview videos
    and their skeletons are stored per clip, so frame ``i`` of the clip is
    frame ``start + i`` of the video. The sampled RGB indices are shifted by
    ``start`` before decoding; pose indices stay clip-relative. An mp4 may
    hold a few frames fewer than the skeleton rows, so indices past the end
    of the video repeat its last frame.

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
        where = (f"sample {results.get('sample_id', results.get('frame_dir'))}"
                 f" ({results.get('filename')})")
        if 'filename' not in results or 'start' not in results:
            raise KeyError(f'{where}: MMDecodeSegment needs `filename` and '
                           '`start`; set data_prefix=dict(video=ROOT) in '
                           'the MGPoseDataset')
        try:
            reader = self._get_video_reader(results['filename'])
        except Exception as e:  # decord raises bare DECORDError/RuntimeError
            raise IOError(f'{where}: cannot open the video: {e}') from e
        inds = np.squeeze(results['RGB_inds']).reshape(-1) + results['start']
        last = len(reader) - 1
        if inds.min() > last:
            raise ValueError(f'{where}: segment starts at frame '
                             f"{results['start']} but the video has "
                             f'{last + 1} frames')
        try:
            imgs = self._decord_load_frames(reader, np.minimum(inds, last))
        except Exception as e:
            raise IOError(f'{where}: decoding frames {inds.min()}-'
                          f'{inds.max()} failed (truncated video?): '
                          f'{e}') from e
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
