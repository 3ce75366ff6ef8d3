"""DualStreamSkeletonTransformer: shapes, padding, freezing, training."""
import math

import numpy as np
import pytest
import torch
from torch import nn

from mmmg.models.backbones import (DualStreamSkeletonTransformer,
                                   sinusoidal_positions)

T, V, D = 8, 5, 16


def _model(**kwargs):
    cfg = dict(
        num_joints=V,
        seq_len=T,
        embed_dims=D,
        depth=1,
        num_heads=2,
        dropout=0.0)
    cfg.update(kwargs)
    torch.manual_seed(0)
    model = DualStreamSkeletonTransformer(**cfg)
    model.init_weights()
    return model


def _clips(b=3, t=T, v=V, seed=0):
    g = torch.Generator().manual_seed(seed)
    coords = torch.randn(b, t, v, 2, generator=g)
    score = torch.rand(b, t, v, 1, generator=g) * 0.8 + 0.2
    return torch.cat([coords, score], -1)


def test_sinusoidal_positions():
    codes = sinusoidal_positions(6, 8)
    assert codes.shape == (6, 8)
    pos = np.arange(6)[:, None]
    freq = np.exp(np.arange(0, 8, 2) * (-math.log(10000.0) / 8))
    ref = np.zeros((6, 8))
    ref[:, 0::2] = np.sin(pos * freq)
    ref[:, 1::2] = np.cos(pos * freq)
    np.testing.assert_allclose(codes.numpy(), ref, atol=1e-6)
    odd = sinusoidal_positions(4, 5)  # odd width: 3 sines, 2 cosines
    assert odd.shape == (4, 5)
    pos = np.arange(4)[:, None]
    freq = np.exp(np.arange(0, 5, 2) * (-math.log(10000.0) / 5))
    ref = np.zeros((4, 5))
    ref[:, 0::2] = np.sin(pos * freq)
    ref[:, 1::2] = np.cos(pos * freq)[:, :2]
    np.testing.assert_allclose(odd.numpy(), ref, atol=1e-6)
    assert torch.allclose(odd[0], torch.tensor([0., 1., 0., 1., 0.]))


@pytest.mark.parametrize('stream', ['joint', 'bone', 'motion'])
def test_output_shape_and_split(stream):
    layout = None
    v = V
    if stream == 'bone':
        layout, v = 'mg36', 36
    model = _model(stream=stream, layout=layout, num_joints=v).eval()
    x = _clips(v=v)
    out = model(x)
    assert out.shape == (3, 2 * D) and model.out_channels == 2 * D
    assert torch.isfinite(out).all()
    temporal, spatial = model.split_streams(out)
    assert temporal.shape == spatial.shape == (3, D)
    assert torch.equal(torch.cat([temporal, spatial], -1), out)
    # split_streams works on extra leading axes too.
    t2, s2 = model.split_streams(out[None])
    assert torch.equal(t2[0], temporal) and torch.equal(s2[0], spatial)


def test_streams_of_output_come_from_their_encoders():
    model = _model().eval()
    x = _clips()
    out = model(x)
    # Perturbing the spatial encoder changes only the spatial half.
    with torch.no_grad():
        for p in model.spatial.parameters():
            p.add_(0.1)
    out2 = model(x)
    t1, s1 = model.split_streams(out)
    t2, s2 = model.split_streams(out2)
    assert torch.allclose(t1, t2)
    assert not torch.allclose(s1, s2)


def _padded_pair(valid=5):
    """Two batches that differ only in coordinates of zero-score frames."""
    x = _clips(b=2)
    x[:, valid:, :, 2] = 0
    a, b = x.clone(), x.clone()
    a[:, valid:, :, :2] = 0
    b[:, valid:, :, :2] = torch.randn(2, T - valid, V, 2) * 50
    return a, b


@pytest.mark.parametrize('train', [False, True])
def test_padded_frames_do_not_change_temporal_stream(train):
    # The joint stream passes coordinates through, so only the temporal
    # stream (which masks frames whose scores are all 0 out of attention
    # and pooling) is guaranteed to ignore padded coordinates; the spatial
    # stream reads whole trajectories.
    model = _model().train(train)
    a, b = _padded_pair()
    ta, _ = model.split_streams(model(a))
    tb, _ = model.split_streams(model(b))
    torch.testing.assert_close(ta, tb, rtol=1e-5, atol=1e-5)
    # Control: garbage in a *valid* frame does change the temporal stream.
    c = a.clone()
    c[:, 1, :, :2] += 5
    tc, _ = model.split_streams(model(c))
    assert not torch.allclose(ta, tc, atol=1e-4)


@pytest.mark.parametrize('stream', ['bone', 'motion'])
def test_padded_frames_do_not_change_derived_streams(stream):
    # Bone and motion streams zero the coordinates of missing points, so
    # both halves ignore the padded coordinates.
    layout = 'mg36' if stream == 'bone' else None
    v = 36 if stream == 'bone' else V
    model = _model(stream=stream, layout=layout, num_joints=v).eval()
    x = _clips(b=2, v=v)
    x[:, 5:, :, 2] = 0
    a, b = x.clone(), x.clone()
    a[:, 5:, :, :2] = 0
    b[:, 5:, :, :2] = torch.randn(2, T - 5, v, 2) * 50
    torch.testing.assert_close(model(a), model(b), rtol=1e-5, atol=1e-5)


def test_padding_in_one_clip_does_not_affect_another():
    model = _model().eval()
    a, b = _padded_pair()
    a[1] = _clips(b=1, seed=5)[0]
    b[1] = a[1]
    out_a, out_b = model(a), model(b)
    torch.testing.assert_close(out_a[1], out_b[1], rtol=1e-5, atol=1e-5)
    single = model(a[1:])
    torch.testing.assert_close(single[0], out_a[1], rtol=1e-4, atol=1e-5)


def test_all_missing_clip_is_finite():
    model = _model().eval()
    out = model(torch.zeros(2, T, V, 3))
    assert torch.isfinite(out).all()


def test_frozen():
    model = _model(frozen=True)
    assert all(not p.requires_grad for p in model.parameters())
    model.train()
    assert not model.training
    assert all(not m.training for m in model.modules())
    x = _clips().requires_grad_(True)
    out = model(x)
    assert not out.requires_grad
    # Inside a frozen model wrapped by a trainable one, train() from the
    # parent does not switch it back to training mode.
    wrapper = nn.Sequential(model, nn.Linear(2 * D, 2))
    wrapper.train()
    assert not model.training and wrapper[1].training
    # Unfrozen for comparison.
    live = _model()
    live.train()
    assert live.training and all(p.requires_grad for p in live.parameters())
    assert live(x).requires_grad


def test_bad_arguments_and_inputs():
    model = _model()
    with pytest.raises(ValueError, match='expected clips of shape'):
        model(torch.zeros(2, T + 1, V, 3))
    with pytest.raises(ValueError, match='expected clips of shape'):
        model(torch.zeros(2, T, V, 2))
    with pytest.raises(ValueError, match='expected clips of shape'):
        model(torch.zeros(T, V, 3))
    with pytest.raises(ValueError, match='needs `layout`'):
        _model(stream='bone')
    with pytest.raises(ValueError, match='stream must be one of'):
        _model(stream='velocity')
    with pytest.raises(ValueError, match='num_joints'):
        _model(stream='bone', layout='mg36', num_joints=V)
    # A layout with the right size also works for the joint stream.
    assert _model(
        layout='mg36', num_joints=36)(_clips(v=36)).shape == (3, 2 * D)


def test_registered_in_mmaction():
    from mmaction.registry import MODELS
    model = MODELS.build(
        dict(
            type='DualStreamSkeletonTransformer',
            num_joints=V,
            seq_len=T,
            embed_dims=D,
            depth=1,
            num_heads=2))
    assert isinstance(model, DualStreamSkeletonTransformer)


def test_sgd_on_toy_problem_reduces_loss():
    # Class 0: point 0 moves right over time; class 1: it moves left.
    torch.manual_seed(1)
    n = 16
    labels = torch.arange(n) % 2
    x = torch.randn(n, T, V, 3) * 0.3
    x[..., 2] = 1.0
    sign = 1 - 2 * labels.float()
    x[:, :, 0, 0] += sign[:, None] * torch.linspace(-1, 1, T)[None]
    backbone = _model(dropout=0.0)
    model = nn.Sequential(backbone, nn.Linear(2 * D, 2))
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    model.train()
    losses = []
    for _ in range(25):
        loss = nn.functional.cross_entropy(model(x), labels)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    model.eval()
    with torch.no_grad():
        final = nn.functional.cross_entropy(model(x), labels).item()
        acc = (model(x).argmax(1) == labels).float().mean().item()
    assert final < 0.5 * losses[0], losses
    assert acc == 1.0
