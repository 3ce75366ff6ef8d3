"""Joint, bone and motion streams of x/y/score skeleton sequences."""
import numpy as np
import pytest
import torch

from mmmg.keypoints import bone_parents
from mmmg.models.utils.skeleton_streams import STREAMS, skeleton_stream


def _seq(shape=(2, 6, 5), seed=0, missing=0.25):
    """[B, T, V, 3] with some missing points (score 0, coordinates 0)."""
    rng = np.random.default_rng(seed)
    coords = rng.normal(0, 1, shape + (2, ))
    score = rng.uniform(0.1, 1, shape)
    score[rng.uniform(size=shape) < missing] = 0
    coords[score == 0] = 0
    return np.concatenate([coords, score[..., None]], -1).astype(np.float32)


def _bone_ref(x, parents):
    out = np.zeros_like(x)
    for j, p in enumerate(parents):
        s = np.minimum(x[..., j, 2], x[..., p, 2])
        d = x[..., j, :2] - x[..., p, :2]
        out[..., j, :2] = np.where((s > 0)[..., None], d, 0)
        out[..., j, 2] = s
    return out


def _motion_ref(x):
    out = np.zeros_like(x)
    t = x.shape[-3]
    for f in range(t - 1):
        s = np.minimum(x[..., f, :, 2], x[..., f + 1, :, 2])
        d = x[..., f + 1, :, :2] - x[..., f, :, :2]
        out[..., f, :, :2] = np.where((s > 0)[..., None], d, 0)
        out[..., f, :, 2] = s
    return out


def test_joint_is_identity():
    x = torch.from_numpy(_seq())
    out = skeleton_stream(x, 'joint')
    assert torch.equal(out, x)
    assert STREAMS == ('joint', 'bone', 'motion')


def test_bone_matches_reference():
    x = _seq()
    parents = (1, 1, 1, 2, 0)  # point 1 is the root
    out = skeleton_stream(torch.from_numpy(x), 'bone', parents).numpy()
    assert out.shape == x.shape
    np.testing.assert_allclose(out, _bone_ref(x, parents), atol=1e-6)
    # The root bone is zero with the root's own score.
    assert (out[..., 1, :2] == 0).all()
    np.testing.assert_array_equal(out[..., 1, 2], x[..., 1, 2])
    # Zero wherever either end is missing, even with non-zero coordinates.
    x2 = x.copy()
    x2[0, 0, 2] = [3.0, 4.0, 0.0]  # missing point with garbage coordinates
    out2 = skeleton_stream(torch.from_numpy(x2), 'bone', parents).numpy()
    assert (out2[0, 0, 2] == 0).all()  # its own bone
    assert (out2[0, 0, 3] == 0).all()  # its child's bone


def test_bone_with_layout_parents_and_extra_dims():
    parents = bone_parents('upper_body59')
    x = _seq(shape=(2, 3, 4, 59), seed=1)  # [N, views, T, V]
    out = skeleton_stream(torch.from_numpy(x), 'bone', parents).numpy()
    np.testing.assert_allclose(out, _bone_ref(x, parents), atol=1e-6)
    with pytest.raises(ValueError, match='bone parents'):
        skeleton_stream(torch.from_numpy(x), 'bone', parents[:-1])
    with pytest.raises(ValueError, match='bone parents'):
        skeleton_stream(torch.from_numpy(x), 'bone')


def test_motion_matches_reference():
    x = _seq(shape=(3, 7, 4), seed=2)
    out = skeleton_stream(torch.from_numpy(x), 'motion').numpy()
    assert out.shape == x.shape
    np.testing.assert_allclose(out, _motion_ref(x), atol=1e-6)
    assert (out[:, -1] == 0).all()  # last frame is zero
    # A padded last frame: the previous frame's motion is zero too.
    x[:, -1] = 0
    out = skeleton_stream(torch.from_numpy(x), 'motion').numpy()
    assert (out[:, -2:] == 0).all()
    # Motion of a static clip is zero but keeps the scores.
    s = np.ones((1, 4, 3, 3), np.float32)
    s[..., 2] = 0.5
    out = skeleton_stream(torch.from_numpy(s), 'motion').numpy()
    assert (out[..., :2] == 0).all()
    np.testing.assert_allclose(out[0, :3, :, 2], 0.5)


def test_streams_are_differentiable():
    x = torch.from_numpy(_seq()).requires_grad_(True)
    for stream in ('bone', 'motion'):
        out = skeleton_stream(x, stream, (0, 0, 1, 2, 3))
        out.sum().backward()
        assert x.grad is not None and torch.isfinite(x.grad).all()
        x.grad = None


def test_unknown_stream_raises():
    with pytest.raises(ValueError, match='unknown skeleton stream'):
        skeleton_stream(torch.zeros(1, 2, 3, 3), 'velocity')
