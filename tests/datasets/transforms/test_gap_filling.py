"""FillKeypointGaps at the head of the toy PoseConv3D pipeline."""
import copy
import pickle

import numpy as np
from mmaction.registry import TRANSFORMS
from mmengine.dataset import Compose

from mmmg.keypoints.gap_filling import fill_keypoint_gaps


def test_transform_fills_a_clip_before_sampling(tiny_pose_ann):
    with open(tiny_pose_ann, 'rb') as f:
        sample = pickle.load(f)['annotations'][0]
    T = sample['keypoint'].shape[1]
    # The left wrist (point 7 of MG36 is the left wrist) drops out for 3
    # frames, and the nose for 9.
    sample['keypoint_score'][0, 4:7, 7] = 0
    sample['keypoint'][0, 4:7, 7] = 0
    sample['keypoint_score'][0, 10:19, 0] = 0
    fill = TRANSFORMS.build(dict(type='FillKeypointGaps', max_gap=5))
    out = fill(copy.deepcopy(sample))
    assert out['filled_keypoints'] == 3
    assert (out['keypoint_score'][0, 4:7, 7] > 0).all()
    assert (out['keypoint_score'][0, 10:19, 0] == 0).all()
    ref_kp, ref_score, _ = fill_keypoint_gaps(sample['keypoint'],
                                              sample['keypoint_score'], 5)
    np.testing.assert_array_equal(out['keypoint'], ref_kp)
    # The rest of the pipeline takes the filled clip as usual.
    pipeline = Compose([
        TRANSFORMS.build(cfg) for cfg in [
            dict(type='FillKeypointGaps', max_gap=5),
            dict(type='UniformSampleFrames', clip_len=8),
            dict(type='PoseDecode'),
            dict(type='MGPoseCompact', hw_ratio=1., allow_imgpad=True),
            dict(type='Resize', scale=(32, 32), keep_ratio=False),
            dict(
                type='GeneratePoseHeatmaps',
                sigma=0.6,
                use_score=True,
                with_kp=True),
            dict(type='FormatShape', input_format='NCTHW_Heatmap'),
            dict(type='PackMGInputs')
        ]
    ])
    packed = pipeline(
        dict(copy.deepcopy(sample), start_index=0, modality='Pose'))
    assert tuple(packed['inputs'].shape) == (1, 36, 8, 32, 32)
    assert T >= 8
    assert repr(fill).startswith('FillKeypointGaps(max_gap=5,')
