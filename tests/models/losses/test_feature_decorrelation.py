"""USDRL multi-grained feature decorrelation terms against numpy."""
import itertools
import os.path as osp

import numpy as np
import pytest
import torch
import torch.multiprocessing as mp

from mmmg.models.losses.feature_decorrelation import (
    MultiGrainedDecorrelationLoss, cross_correlation, off_diagonal,
    variance_covariance, view_invariance)


def _views(v=4, n=6, d=5, seed=0):
    rng = np.random.default_rng(seed)
    base = rng.normal(0, 1, (n, d))
    return [
        base + rng.normal(0, 0.5, (n, d)) * rng.uniform(0.5, 2, d)
        for _ in range(v)
    ]


def _t(arrays):
    return [torch.tensor(a, dtype=torch.float64) for a in arrays]


def np_invariance(views):
    others, anchor = views[:-1], views[-1]
    mean = np.mean(others, axis=0)
    return sum(
        np.mean((z - anchor)**2) + np.mean((z - mean)**2) for z in others)


def np_varcov(z, std_weight=5.0, eps=1e-4):
    n, d = z.shape
    var = z.var(axis=0, ddof=1)
    hinge = np.mean(np.maximum(0, 1 - np.sqrt(var + eps)))
    c = z - z.mean(axis=0)
    cov = c.T @ c / (n - 1)
    off = cov[~np.eye(d, dtype=bool)]
    return std_weight * hinge + (off**2).sum() / d


def np_xcorr(z1, z2, lam=0.005):
    n, d = z1.shape
    a = (z1 - z1.mean(0)) / z1.std(0, ddof=1)
    b = (z2 - z2.mean(0)) / z2.std(0, ddof=1)
    c = a.T @ b / n
    on = ((1 - np.diag(c))**2).sum()
    off = (c[~np.eye(d, dtype=bool)]**2).sum()
    return on + lam * off


def test_off_diagonal():
    m = torch.arange(16.).view(4, 4)
    out = off_diagonal(m)
    ref = m.numpy()[~np.eye(4, dtype=bool)]
    assert out.shape == (12, )
    np.testing.assert_array_equal(out.numpy(), ref)
    assert off_diagonal(torch.ones(1, 1)).numel() == 0


@pytest.mark.parametrize('v', [2, 3, 4])
def test_view_invariance(v):
    views = _views(v=v)
    out = view_invariance(_t(views))
    np.testing.assert_allclose(out.item(), np_invariance(views), rtol=1e-10)
    # Identical views are perfectly invariant.
    same = [views[0]] * v
    assert view_invariance(_t(same)).item() == pytest.approx(0, abs=1e-12)


def test_view_invariance_two_views_by_hand():
    a, b = np.zeros((2, 3)), np.ones((2, 3))
    # One non-anchor view: MSE to the anchor (1) + MSE to its own mean (0).
    assert view_invariance(_t([a, b])).item() == pytest.approx(1.0)


@pytest.mark.parametrize('scale', [0.1, 1.0, 3.0])
def test_variance_covariance(scale):
    z = _views(v=1, n=8, d=6, seed=1)[0] * scale
    out = variance_covariance(torch.tensor(z))
    np.testing.assert_allclose(out.item(), np_varcov(z), rtol=1e-10)
    np.testing.assert_allclose(
        variance_covariance(torch.tensor(z), std_weight=1.0).item(),
        np_varcov(z, std_weight=1.0),
        rtol=1e-10)


def test_variance_covariance_limits():
    # Collapsed embedding: var 0, so the hinge is 1 - sqrt(eps) per dim.
    z = torch.ones(5, 4, dtype=torch.float64)
    assert variance_covariance(z).item() == pytest.approx(5 *
                                                          (1 - np.sqrt(1e-4)))
    # Decorrelated, high-variance embedding: (nearly) no loss.
    z = torch.tensor([[3., 0.], [-3., 0.], [0., 3.], [0., -3.]],
                     dtype=torch.float64)
    assert variance_covariance(z).item() == pytest.approx(0, abs=1e-12)


def test_cross_correlation():
    z1, z2 = _views(v=2, n=10, d=4, seed=2)
    out = cross_correlation(*_t([z1, z2]))
    np.testing.assert_allclose(out.item(), np_xcorr(z1, z2), rtol=1e-10)
    np.testing.assert_allclose(
        cross_correlation(*_t([z1, z2]), off_diag_weight=0.1).item(),
        np_xcorr(z1, z2, lam=0.1),
        rtol=1e-10)
    # Invariant to per-dimension affine maps of either view.
    scaled = z2 * np.array([2., 0.5, 3., 1.]) + 7
    np.testing.assert_allclose(
        cross_correlation(*_t([z1, scaled])).item(), out.item(), rtol=1e-8)
    # Uses the unbiased std but divides by N: C_ii of a view with itself is
    # (N - 1) / N, not 1.
    n = 10
    self_c = cross_correlation(*_t([z1, z1]), off_diag_weight=0)
    np.testing.assert_allclose(self_c.item(), 4 * (1 / n)**2, rtol=1e-8)


def _embeddings(v=3, n=6, seed=0):
    return dict(
        instance=_views(v=v, n=n, d=8, seed=seed),
        temporal=_views(v=v, n=n, d=4, seed=seed + 1),
        spatial=_views(v=v, n=n, d=4, seed=seed + 2))


def test_module_weighting():
    emb = _embeddings()
    loss = MultiGrainedDecorrelationLoss()
    out = loss({k: _t(v) for k, v in emb.items()})
    assert set(out) == {'loss_invariance', 'loss_varcov', 'loss_xcorr'}
    dw = dict(instance=1.0, temporal=0.5, spatial=0.5)
    inv = sum(dw[k] * np_invariance(v) for k, v in emb.items())
    vc = sum(dw[k] * sum(np_varcov(z) for z in v) for k, v in emb.items())
    xc = sum(dw[k] *
             sum(np_xcorr(a, b) for a, b in itertools.combinations(v, 2))
             for k, v in emb.items())
    np.testing.assert_allclose(
        out['loss_invariance'].item(), 5 * inv, rtol=1e-5)
    np.testing.assert_allclose(out['loss_varcov'].item(), 1 * vc, rtol=1e-5)
    np.testing.assert_allclose(out['loss_xcorr'].item(), 1e-3 * xc, rtol=1e-5)
    for value in out.values():
        assert value.dtype == torch.float32  # views are cast to float


def test_module_custom_weights_and_subset_of_domains():
    emb = _embeddings(v=2, seed=3)
    loss = MultiGrainedDecorrelationLoss(
        invariance_weight=2.0,
        varcov_weight=0.5,
        xcorr_weight=1.0,
        domain_weights=dict(instance=3.0, temporal=0.0),
        std_weight=1.0,
        off_diag_weight=0.1)
    out = loss(
        dict(instance=_t(emb['instance']), temporal=_t(emb['temporal'])))
    z = emb['instance']
    np.testing.assert_allclose(
        out['loss_invariance'].item(), 2.0 * 3.0 * np_invariance(z), rtol=1e-5)
    np.testing.assert_allclose(
        out['loss_varcov'].item(),
        0.5 * 3.0 * sum(np_varcov(a, std_weight=1.0) for a in z),
        rtol=1e-5)
    np.testing.assert_allclose(
        out['loss_xcorr'].item(),
        3.0 * np_xcorr(z[0], z[1], lam=0.1),
        rtol=1e-5)
    with pytest.raises(KeyError, match='no weight for domain'):
        loss(dict(spatial=_t(emb['spatial'])))


def test_module_gradients_flow():
    views = [torch.randn(6, 4, requires_grad=True) for _ in range(3)]
    out = MultiGrainedDecorrelationLoss()(dict(instance=views))
    sum(out.values()).backward()
    assert all(
        v.grad is not None and torch.isfinite(v.grad).all() for v in views)


def test_too_few_views_or_samples_raise():
    loss = MultiGrainedDecorrelationLoss()
    with pytest.raises(ValueError, match='at least 2 views'):
        loss(dict(instance=[torch.randn(4, 3)]))
    with pytest.raises(ValueError, match='batch of at least 2'):
        loss(dict(instance=[torch.randn(1, 3), torch.randn(1, 3)]))


def _projector(seed=0):
    torch.manual_seed(seed)
    return torch.nn.Linear(5, 4).double()


def _ddp_loss(model, x, gather):
    """The loss of 3 views of ``x [N, 3, 5]`` embedded by ``model``."""
    loss = MultiGrainedDecorrelationLoss(gather_across_ranks=gather)
    views = [model(x[:, v]) for v in range(x.shape[1])]
    return sum(loss(dict(instance=views)).values())


def _ddp_worker(rank, init_file, out_dir, x, rows):
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel
    dist.init_process_group(
        'gloo', init_method=f'file://{init_file}', rank=rank, world_size=2)
    try:
        result = {}
        for gather in (True, False):
            model = DistributedDataParallel(_projector())
            loss = _ddp_loss(model, x[rows[rank]:rows[rank + 1]], gather)
            loss.backward()
            result[gather] = (loss.item(), model.module.weight.grad.clone())
        torch.save(result, osp.join(out_dir, f'rank{rank}.pt'))
    finally:
        dist.destroy_process_group()


def test_ddp_step_equals_the_global_batch_step(tmp_path):
    # Unequal slices (4 + 3 clips) also exercise the padded gather.
    x = torch.randn(
        7,
        3,
        5,
        dtype=torch.float64,
        generator=torch.Generator().manual_seed(0))
    x[:, 1:] += 0.3 * x[:, :1]  # views of one clip correlate
    mp.spawn(
        _ddp_worker,
        args=(str(tmp_path / 'init'), str(tmp_path), x, [0, 4, 7]),
        nprocs=2,
        join=True)
    ranks = [torch.load(tmp_path / f'rank{r}.pt') for r in range(2)]
    single = _projector()
    full = _ddp_loss(single, x, gather=True)
    full.backward()
    for r in ranks:
        loss, grad = r[True]
        assert loss == pytest.approx(full.item(), rel=1e-5)
        # DDP averages the ranks' gradients: the global batch's gradient.
        np.testing.assert_allclose(
            grad.numpy(), single.weight.grad.numpy(), rtol=1e-4, atol=1e-8)
    # Per-rank statistics are another loss and another step.
    assert ranks[0][False][0] != pytest.approx(full.item(), rel=1e-3)
    assert not np.allclose(
        ranks[0][False][1].numpy(), single.weight.grad.numpy(), rtol=1e-3)
