"""CTR-GCN: the CTR-GC unit against a plain-numpy transcription of the
paper's formula, the block layout of PYSKL's sizes and the output shapes on
the MG36 graph. The toy trains in tests/configs/test_gcn_configs.py."""
import numpy as np
import pytest
import torch

from mmmg.keypoints import gcn_layout
from mmmg.models.backbones.ctrgcn import CTRGC, CTRGCN, CTRGCUnit


def _linear(conv):
    """A 1x1 convolution's weight ``[out, in]`` and bias."""
    weight = conv.weight.detach().numpy()
    return weight[:, :, 0, 0], conv.bias.detach().numpy()


def _ctrgc_reference(x, A, alpha, gc):
    """Chen et al. (ICCV 2021), Eq. 2-4, joint by joint: with ``x_bar`` the
    temporal mean, ``M_ij = tanh(psi(x_bar_i) - phi(x_bar_j))``,
    ``Q_ij = alpha * xi(M_ij) + a_ij`` and ``z_i = sum_j Q_ij * T(x_j)``.
    ``a_ij`` (source j, target i) is ``A[j, i]`` in MMAction2's storage."""
    (wp, bp), (ws, bs) = _linear(gc.phi), _linear(gc.psi)
    (wx, bx), (wt, bt) = _linear(gc.xi), _linear(gc.transform)
    N, _, T, V = x.shape
    out = np.zeros((N, wt.shape[0], T, V))
    for n in range(N):
        x_bar = x[n].mean(axis=1)  # C, V
        for i in range(V):
            for j in range(V):
                m = np.tanh((ws @ x_bar[:, i] + bs) - (wp @ x_bar[:, j] + bp))
                q = alpha * (wx @ m + bx) + A[j, i]
                for t in range(T):
                    out[n, :, t, i] += q * (wt @ x[n, :, t, j] + bt)
    return out


def test_ctrgc_matches_the_paper_formula():
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    gc = CTRGC(5, 6)
    x = rng.normal(size=(2, 5, 4, 7)).astype(np.float32)
    A = rng.random((7, 7)).astype(np.float32)
    with torch.no_grad():
        out = gc(torch.from_numpy(x), torch.from_numpy(A), torch.tensor(0.7))
    np.testing.assert_allclose(
        out.numpy(), _ctrgc_reference(x, A, 0.7, gc), rtol=1e-4, atol=1e-4)


def test_topology_is_refined_per_channel_and_sample():
    torch.manual_seed(0)
    gc = CTRGC(4, 3)
    A = torch.eye(5)
    x = torch.randn(2, 4, 6, 5)
    with torch.no_grad():
        shared = gc.topology(x, A, torch.tensor(0.))
        refined = gc.topology(x, A, torch.tensor(1.))
    # alpha = 0 is the shared topology for every channel and sample...
    assert torch.equal(shared, A.expand(2, 3, 5, 5))
    # ...otherwise each channel and each sample has its own.
    assert not torch.allclose(refined[:, 0], refined[:, 1])
    assert not torch.allclose(refined[0], refined[1])


def test_unit_sums_the_subsets_then_norm_residual_relu():
    torch.manual_seed(0)
    rng = np.random.default_rng(1)
    A = rng.random((3, 6, 6)).astype(np.float32)
    unit = CTRGCUnit(4, 4, torch.from_numpy(A)).eval()
    with torch.no_grad():
        unit.alpha.fill_(0.5)
        unit.bn.weight.fill_(1.)
    x = rng.normal(size=(1, 4, 3, 6)).astype(np.float32)
    with torch.no_grad():
        out = unit(torch.from_numpy(x)).numpy()
    y = sum(_ctrgc_reference(x, A[k], 0.5, unit.convs[k]) for k in range(3))
    # Eval-mode batch norm with fresh statistics divides by sqrt(1 + eps).
    expected = np.maximum(y / np.sqrt(1 + unit.bn.eps) + x, 0)
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-4)


def _graph():
    return dict(layout=gcn_layout('mg36'), mode='spatial')


def test_pyskl_sizes():
    model = CTRGCN(_graph())
    widths = [b.gcn.bn.num_features for b in model.blocks]
    assert widths == [64] * 4 + [128] * 3 + [256] * 3
    strides = [b.tcn.branches[-1][0].stride[0] for b in model.blocks]
    assert strides == [1] * 4 + [2] + [1] * 2 + [2] + [1] * 2
    assert model.blocks[0].residual is None
    # Spatial mode: identity, inward and outward subsets on 36 joints.
    assert model.blocks[0].gcn.A.shape == (3, 36, 36)
    assert model.out_channels == 256


def test_output_shape_on_the_mg36_graph():
    torch.manual_seed(0)
    model = CTRGCN(_graph(), base_channels=8, num_person=1).eval()
    with torch.no_grad():
        out = model(torch.randn(2, 1, 12, 36, 3))
    # Two temporal strides of 2 (12 -> 6 -> 3), two channel doublings.
    assert out.shape == (2, 1, 32, 3, 36)
    assert torch.isfinite(out).all()
    with pytest.raises(ValueError, match='num_person=1'):
        model(torch.randn(1, 2, 12, 36, 3))


def test_learns_a_balanced_task_through_the_refined_topology():
    """Two balanced classes (points swing along x or along y), so only the
    backbone can lower the loss; the refinement (alpha) leaves 0."""
    torch.manual_seed(0)
    chain = dict(num_node=5, inward=[(i + 1, i) for i in range(4)], center=0)
    backbone = CTRGCN(
        dict(layout=chain, mode='spatial'),
        base_channels=8,
        num_stages=2,
        num_person=1)
    head = torch.nn.Linear(8, 2)
    params = list(backbone.parameters()) + list(head.parameters())
    optimizer = torch.optim.Adam(params, lr=0.01)
    labels = torch.arange(16) % 2
    swing = torch.sin(torch.linspace(0, 6.28, 8))[None, :, None]
    x = 0.1 * torch.randn(16, 1, 8, 5, 3)
    x[labels == 0, 0, :, :, 0] += swing
    x[labels == 1, 0, :, :, 1] += swing
    losses = []
    for _ in range(15):
        logits = head(backbone(x).mean(dim=(1, 3, 4)))
        loss = torch.nn.functional.cross_entropy(logits, labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0], losses
    assert all(b.gcn.alpha.item() != 0 for b in backbone.blocks)
