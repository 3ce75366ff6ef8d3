"""The class-weighted cross-entropy, the semantic (cosine-to-anchor) loss and
the label-embedding (MSE) loss against plain-numpy versions of their
docstring formulas, and a tiny model that learns with each."""
import pickle

import numpy as np
import pytest
import torch
from mmaction.registry import MODELS

import mmmg  # noqa: F401  (registers the losses)
from mmmg.models.losses import (LabelEmbeddingLoss, MGCrossEntropyLoss,
                                SemanticEmbeddingLoss)


def np_log_softmax(s):
    s = s - s.max(axis=1, keepdims=True)
    return s - np.log(np.exp(s).sum(axis=1, keepdims=True))


def np_weighted_ce(s, y, w):
    """sum_i w_{y_i} (-log p_{i y_i}) / sum_i w_{y_i}"""
    nll = -np_log_softmax(s)[np.arange(len(y)), y]
    return (w[y] * nll).sum() / w[y].sum()


def np_weighted_soft_ce(s, q, w):
    """-sum_i sum_c w_c q_ic log p_ic / sum_i sum_c w_c q_ic"""
    return -(w * q * np_log_softmax(s)).sum() / (w * q).sum()


def np_cosine_loss(z, t):
    """mean_i (1 - z_i . t_i / (|z_i| |t_i|))"""
    cos = (z * t).sum(1) / (
        np.linalg.norm(z, axis=1) * np.linalg.norm(t, axis=1))
    return (1 - cos).mean()


def np_mse(e_hat, e):
    """1/(N D) sum_i sum_d (e_hat_id - e_id)^2"""
    return ((e_hat - e)**2).sum() / e.size


def f32(a):
    return torch.tensor(a, dtype=torch.float32)


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def test_weighted_ce_matches_numpy(rng):
    s = rng.normal(size=(8, 4))
    y = np.array([0, 0, 0, 1, 1, 2, 3, 0])
    w = np.array([0.5, 1.0, 1.5, 1.0])
    loss = MGCrossEntropyLoss(class_weight=w.tolist(), loss_weight=2.0)
    out = loss(f32(s), torch.tensor(y))
    assert out.item() == pytest.approx(2 * np_weighted_ce(s, y, w), rel=1e-5)
    q = rng.dirichlet(np.ones(4), size=8)
    out = loss(f32(s), f32(q))
    assert out.item() == pytest.approx(
        2 * np_weighted_soft_ce(s, q, w), rel=1e-5)
    # Unweighted: the plain mean.
    out = MGCrossEntropyLoss()(f32(s), torch.tensor(y))
    assert out.item() == pytest.approx(
        np_weighted_ce(s, y, np.ones(4)), rel=1e-5)


def test_weighted_ce_from_annotations_at_build(tmp_path, rng):
    annos = [
        dict(frame_dir=f's{i}', label=label)
        for i, label in enumerate([0] * 16 + [1] * 4 + [2])
    ]
    ann = str(tmp_path / 'ann.pkl')
    with open(ann, 'wb') as f:
        pickle.dump(
            dict(
                split={'train': [a['frame_dir'] for a in annos]},
                annotations=annos), f)
    loss = MODELS.build(
        dict(
            type='MGCrossEntropyLoss',
            class_weight=dict(
                mode='sqrt_inverse',
                ann_file=ann,
                split='train',
                num_classes=3)))
    w = 1 / np.sqrt([16., 4., 1.])
    w = 3 * w / w.sum()
    np.testing.assert_allclose(loss.class_weight.numpy(), w, rtol=1e-6)
    s, y = rng.normal(size=(5, 3)), np.array([0, 1, 2, 2, 0])
    assert loss(f32(s), torch.tensor(y)).item() == pytest.approx(
        np_weighted_ce(s, y, w), rel=1e-5)
    assert 'class_weight=[' in repr(loss)


def test_semantic_loss_matches_numpy(rng):
    z, t = rng.normal(size=(6, 5)), rng.normal(size=(6, 5))
    loss = SemanticEmbeddingLoss(loss_weight=0.5)
    out = loss(torch.tensor(z), torch.tensor(t))
    assert out.item() == pytest.approx(0.5 * np_cosine_loss(z, t))
    # Scale-free in z; zero at the anchor direction, 2 opposite to it.
    out2 = loss(torch.tensor(3 * z), torch.tensor(t))
    assert out2.item() == pytest.approx(out.item())
    a = torch.eye(5)[:2]
    assert SemanticEmbeddingLoss()(4 * a, a).item() == pytest.approx(0)
    assert SemanticEmbeddingLoss()(-a, a).item() == pytest.approx(2)
    # A zero embedding stays finite.
    assert torch.isfinite(SemanticEmbeddingLoss()(torch.zeros(2, 5), a))
    with pytest.raises(ValueError, match=r'\(N, D\)'):
        loss(torch.zeros(2, 5), torch.zeros(2, 4))


def test_label_embedding_loss_matches_numpy(rng):
    e_hat, e = rng.normal(size=(6, 7)), rng.normal(size=(6, 7))
    loss = LabelEmbeddingLoss()
    assert loss.loss_weight == 20
    out = loss(torch.tensor(e_hat), torch.tensor(e))
    assert out.item() == pytest.approx(20 * np_mse(e_hat, e))
    with pytest.raises(ValueError, match=r'\(N, D\)'):
        loss(torch.zeros(6), torch.zeros(6))


def _train(loss_fn, out_dim, targets_of, steps=40, seed=0):
    """Fit a linear map on fixed random features; return the losses."""
    torch.manual_seed(seed)
    x = torch.randn(24, 10)
    y = torch.arange(24) % 3
    model = torch.nn.Linear(10, out_dim)
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    losses = []
    for _ in range(steps):
        loss = loss_fn(model(x), targets_of(y))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


@pytest.mark.parametrize('name', ['ce', 'semantic', 'label'])
def test_tiny_model_learns(name):
    table = torch.randn(3, 6, generator=torch.Generator().manual_seed(1))
    setups = {
        'ce':
        (MGCrossEntropyLoss(class_weight=[0.5, 1., 1.5]), 3, lambda y: y),
        'semantic': (SemanticEmbeddingLoss(), 6, lambda y: torch.eye(6)[y]),
        'label': (LabelEmbeddingLoss(loss_weight=1.), 6, lambda y: table[y]),
    }
    loss_fn, out_dim, targets_of = setups[name]
    losses = _train(loss_fn, out_dim, targets_of)
    assert losses[-1] < 0.5 * losses[0], losses
