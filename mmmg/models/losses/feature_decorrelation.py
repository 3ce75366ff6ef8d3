r"""USDRL's multi-grained feature decorrelation objective.

Each of ``V`` views (4 in USDRL) of a batch gives an embedding
:math:`z^v \in \mathbb{R}^{N \times D}` in each domain (temporal, spatial,
instance). Per domain, with the last view as the anchor and
:math:`\bar z` the mean of the others:

- invariance: :math:`\sum_{v<V} \mathrm{MSE}(z^v, z^V) +
  \mathrm{MSE}(z^v, \bar z)`;
- variance/covariance (VICReg-style, per view): ``std_weight`` times the
  mean hinge :math:`\max(0, 1 - \sqrt{\mathrm{Var}(z_d) + \epsilon})`, plus
  the squared off-diagonal entries of the covariance matrix summed and
  divided by :math:`D`;
- cross-correlation (Barlow Twins, every pair of views): with
  :math:`C` the correlation matrix of the batch-standardised embeddings,
  :math:`\sum_d (1 - C_{dd})^2 + \lambda \sum_{d \ne e} C_{de}^2`.

Domains combine as instance + 0.5 * (temporal + spatial), and terms as
``5 * invariance + 1 * var/cov + 1e-3 * cross-correlation`` (USDRL).

USDRL trains with ``DataParallel``, which computes the loss over the whole
batch. Under DDP each rank holds a slice, so by default the embeddings are
gathered from all ranks (gradients flow back to each rank's slice) and every
rank computes the loss of the global batch: with DDP's gradient averaging,
the step equals the single-process step on the global batch.
"""
import itertools
from typing import Dict, Sequence

import torch
import torch.distributed as dist
import torch.nn.functional as F
from mmaction.registry import MODELS
from torch import Tensor, nn


def off_diagonal(m: Tensor) -> Tensor:
    """The off-diagonal entries of a square matrix, flattened."""
    n = m.shape[0]
    return m[~torch.eye(n, dtype=torch.bool, device=m.device)]


def view_invariance(views: Sequence[Tensor]) -> Tensor:
    """MSE of every non-anchor view to the anchor (last) and to their mean."""
    *others, anchor = views
    centre = torch.stack(others).mean(dim=0)
    return sum(F.mse_loss(z, anchor) + F.mse_loss(z, centre) for z in others)


def variance_covariance(z: Tensor,
                        std_weight: float = 5.0,
                        eps: float = 1e-4) -> Tensor:
    """Variance hinge plus off-diagonal covariance of one view ``[N, D]``."""
    n, d = z.shape
    std = torch.sqrt(z.var(dim=0) + eps)
    centred = z - z.mean(dim=0)
    cov = centred.T @ centred / (n - 1)
    return (std_weight * F.relu(1 - std).mean() +
            off_diagonal(cov).pow(2).sum() / d)


def cross_correlation(z1: Tensor,
                      z2: Tensor,
                      off_diag_weight: float = 0.005) -> Tensor:
    """Barlow Twins loss between two views ``[N, D]``."""
    n = z1.shape[0]
    a = (z1 - z1.mean(0)) / z1.std(0)
    b = (z2 - z2.mean(0)) / z2.std(0)
    c = a.T @ b / n
    return ((torch.diagonal(c) - 1).pow(2).sum() +
            off_diag_weight * off_diagonal(c).pow(2).sum())


class _GatherRows(torch.autograd.Function):
    """Concatenate every rank's rows; the backward pass returns to each rank
    the gradient of its own rows summed over the ranks' losses."""

    @staticmethod
    def forward(ctx, z: Tensor) -> Tensor:
        world = dist.get_world_size()
        # On z's device: NCCL gathers CUDA tensors only.
        size = torch.tensor([z.shape[0]], device=z.device)
        sizes = [torch.zeros_like(size) for _ in range(world)]
        dist.all_gather(sizes, size)
        sizes = [int(n) for n in sizes]
        # all_gather needs equal shapes: pad to the largest slice.
        padded = z.new_zeros((max(sizes), ) + z.shape[1:])
        padded[:z.shape[0]] = z
        parts = [torch.empty_like(padded) for _ in range(world)]
        dist.all_gather(parts, padded)
        rank = dist.get_rank()
        ctx.rows = (sum(sizes[:rank]), sum(sizes[:rank + 1]))
        return torch.cat([p[:n] for p, n in zip(parts, sizes)])

    @staticmethod
    def backward(ctx, grad: Tensor) -> Tensor:
        grad = grad.contiguous().clone()
        dist.all_reduce(grad)
        return grad[ctx.rows[0]:ctx.rows[1]]


def gather_rows(z: Tensor) -> Tensor:
    """``z`` of every rank concatenated in rank order, differentiable;
    ``z`` itself outside distributed training."""
    if not (dist.is_available() and dist.is_initialized()
            and dist.get_world_size() > 1):
        return z
    return _GatherRows.apply(z)


@MODELS.register_module()
class MultiGrainedDecorrelationLoss(nn.Module):
    """The weighted sum of the three terms over the three domains.

    Args:
        invariance_weight (float): Defaults to 5.
        varcov_weight (float): Defaults to 1.
        xcorr_weight (float): Defaults to 1e-3.
        domain_weights (dict): Weight per domain. Defaults to instance 1,
            temporal and spatial 0.5.
        std_weight (float): Weight of the variance hinge inside the
            var/cov term. Defaults to 5.
        off_diag_weight (float): :math:`\\lambda` of the cross-correlation.
            Defaults to 0.005.
        gather_across_ranks (bool): Compute the statistics over the global
            batch under distributed training (see the module docstring);
            ``False`` gives each rank the statistics of its own slice.
            Defaults to True.
    """

    def __init__(self,
                 invariance_weight: float = 5.0,
                 varcov_weight: float = 1.0,
                 xcorr_weight: float = 1e-3,
                 domain_weights: Dict[str, float] = dict(
                     instance=1.0, temporal=0.5, spatial=0.5),
                 std_weight: float = 5.0,
                 off_diag_weight: float = 0.005,
                 gather_across_ranks: bool = True) -> None:
        super().__init__()
        self.gather_across_ranks = gather_across_ranks
        self.invariance_weight = invariance_weight
        self.varcov_weight = varcov_weight
        self.xcorr_weight = xcorr_weight
        self.domain_weights = dict(domain_weights)
        self.std_weight = std_weight
        self.off_diag_weight = off_diag_weight

    def domain_terms(self, views: Sequence[Tensor]) -> Dict[str, Tensor]:
        """Unweighted terms of one domain."""
        if len(views) < 2 or views[0].shape[0] < 2:
            raise ValueError('feature decorrelation needs at least 2 views '
                             'and a batch of at least 2 samples, got '
                             f'{len(views)} views of {views[0].shape[0]}')
        views = [z.float() for z in views]
        if self.gather_across_ranks:  # one gather for all views
            views = list(gather_rows(torch.stack(views, dim=1)).unbind(1))
        return dict(
            invariance=view_invariance(views),
            varcov=sum(variance_covariance(z, self.std_weight) for z in views),
            xcorr=sum(
                cross_correlation(a, b, self.off_diag_weight)
                for a, b in itertools.combinations(views, 2)))

    def forward(self, embeddings: Dict[str,
                                       Sequence[Tensor]]) -> Dict[str, Tensor]:
        """Weighted losses.

        Args:
            embeddings (dict): Domain name -> the views' embeddings.

        Returns:
            dict: ``loss_invariance``, ``loss_varcov``, ``loss_xcorr``.
        """
        weights = dict(
            invariance=self.invariance_weight,
            varcov=self.varcov_weight,
            xcorr=self.xcorr_weight)
        total = dict.fromkeys(weights, 0.)
        for domain, views in embeddings.items():
            if domain not in self.domain_weights:
                raise KeyError(f'no weight for domain {domain!r}; known: '
                               f'{sorted(self.domain_weights)}')
            for name, value in self.domain_terms(views).items():
                total[name] = total[name] + self.domain_weights[domain] * value
        return {f'loss_{k}': weights[k] * v for k, v in total.items()}
