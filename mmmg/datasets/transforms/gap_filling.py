"""Fill short gaps of missing keypoints in a skeleton clip."""
from typing import Dict

from mmaction.registry import TRANSFORMS
from mmcv.transforms import BaseTransform

from mmmg.keypoints.gap_filling import DEFAULT_SCORE_SCALE, fill_keypoint_gaps


@TRANSFORMS.register_module()
class FillKeypointGaps(BaseTransform):
    """Interpolate points missing for at most ``max_gap`` frames.

    Put it first in the pipeline, before frame sampling, so gaps are filled
    from the whole clip (see :mod:`mmmg.keypoints.gap_filling`; the
    converters' ``--fill-gaps`` does the same on whole videos). A filled
    point's score is ``score_scale`` times the smaller bounding score.

    Required Keys:
        - keypoint
        - keypoint_score

    Modified Keys:
        - keypoint
        - keypoint_score

    Added Keys:
        - filled_keypoints

    Args:
        max_gap (int): Longest run of missing frames to fill. Defaults to 5
            (0.2 s at iMiGUE's 25 fps).
        min_score (float): A point at or below it is missing. Defaults to 0.
        score_scale (float): Defaults to 0.5.
    """

    def __init__(self,
                 max_gap: int = 5,
                 min_score: float = 0.,
                 score_scale: float = DEFAULT_SCORE_SCALE) -> None:
        if max_gap < 1:
            raise ValueError(f'FillKeypointGaps: max_gap must be >= 1, got '
                             f'{max_gap}')
        self.max_gap, self.min_score = max_gap, min_score
        self.score_scale = score_scale

    def transform(self, results: Dict) -> Dict:
        kp, score, filled = fill_keypoint_gaps(results['keypoint'],
                                               results['keypoint_score'],
                                               self.max_gap, self.min_score,
                                               self.score_scale)
        results['keypoint'], results['keypoint_score'] = kp, score
        results['filled_keypoints'] = filled
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(max_gap={self.max_gap}, '
                f'min_score={self.min_score}, '
                f'score_scale={self.score_scale})')
