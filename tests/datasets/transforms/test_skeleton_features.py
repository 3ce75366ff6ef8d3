"""LayoutSkeletonFeatures: joint / bone / motion channels of a layout,
against a numpy computation from the layout's parent table."""
import numpy as np
import pytest
from mmaction.registry import TRANSFORMS

from mmmg.keypoints.layouts import bone_parents


def sample(rng, T=6, V=36):
    return dict(
        keypoint=rng.normal(size=(1, T, V, 2)).astype(np.float32),
        keypoint_score=rng.uniform(0, 1, (1, T, V)).astype(np.float32))


def reference(kp, score, feat):
    parents = np.array(bone_parents('mg36'))
    joint = np.concatenate([kp, score[..., None]], -1)
    bone = joint - joint[..., parents, :]
    bone[..., 2] = (score + score[..., parents]) / 2
    out = {'j': joint, 'b': bone}
    for key in ('j', 'b'):
        motion = np.zeros_like(out[key])
        motion[:, :-1] = out[key][:, 1:] - out[key][:, :-1]
        # Stock ToMotion keeps the mean score of the two frames for 2D.
        motion[:, :-1, :,
               2] = (out[key][:, 1:, :, 2] + out[key][:, :-1, :, 2]) / 2
        out[key + 'm'] = motion
    return out[feat]


@pytest.mark.parametrize('feat', ['j', 'b', 'jm', 'bm'])
def test_features_match_the_reference(feat):
    rng = np.random.default_rng(0)
    s = sample(rng)
    t = TRANSFORMS.build(
        dict(type='LayoutSkeletonFeatures', layout='mg36', feats=[feat]))
    out = t(dict(s))
    expected = reference(s['keypoint'], s['keypoint_score'], feat)
    np.testing.assert_allclose(out['keypoint'], expected, rtol=1e-5, atol=1e-6)
    assert repr(t) == (f"LayoutSkeletonFeatures(layout='mg36', "
                       f"feats=['{feat}'], axis=-1)")


def test_several_features_are_concatenated():
    s = sample(np.random.default_rng(1))
    t = TRANSFORMS.build(
        dict(type='LayoutSkeletonFeatures', layout='mg36', feats=['j', 'b']))
    assert t(dict(s))['keypoint'].shape == (1, 6, 36, 6)
