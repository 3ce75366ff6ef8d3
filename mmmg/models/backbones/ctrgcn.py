"""CTR-GCN: channel-wise topology refinement graph convolution (Chen et al.,
"Channel-wise Topology Refinement Graph Convolution for Skeleton-Based Action
Recognition", ICCV 2021).

MMAction2 1.1.0 ships ST-GCN(++) and AAGCN but keeps CTR-GCN in its
``projects/``, outside the package; this is our own implementation of the
paper, with PYSKL's sizes (kennymckormick/pyskl ``pyskl/models/gcns/
ctrgcn.py``): ten blocks of 64 / 128 / 256 channels, each a CTR-GC unit
followed by a four-branch multi-scale temporal convolution. The graph is
MMAction2's ``Graph``, so ``graph_cfg=dict(layout=gcn_layout('mg36'),
mode='spatial')`` works as for ST-GCN++.

Adjacency matrices follow MMAction2's convention: ``A[k, u, v]`` weighs the
features of joint ``u`` in the output of joint ``v``.
"""
from typing import Dict, Optional, Sequence, Union

import torch
from mmaction.models.utils import Graph, unit_tcn
from mmaction.registry import MODELS
from mmengine.model import BaseModule
from torch import Tensor, nn


def _init_convs_and_norms(module: nn.Module) -> None:
    """PYSKL's initialisation: Kaiming (fan-out) convolutions with zero bias,
    batch norms at weight 1 and bias 0."""
    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode='fan_out')
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)


class CTRGC(nn.Module):
    """One channel-wise topology refinement graph convolution (the paper's
    CTR-GC, for one subset of the graph).

    With ``x_bar`` the features averaged over time, for target joint ``i``
    and source joint ``j``::

        M_ij = tanh(psi(x_bar_i) - phi(x_bar_j))   # rel_channels
        Q_ij = alpha * xi(M_ij) + A_ji               # one value per channel
        z_i  = sum_j Q_ij * T(x_j)                   # channel-wise product

    ``phi`` and ``psi`` reduce to ``rel_channels``, ``xi`` lifts back to
    ``out_channels`` and ``T`` is a 1x1 convolution: the shared topology
    ``A`` gets a refinement per channel and per sample.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        rel_reduction (int): ``rel_channels = in_channels // rel_reduction``,
            but at least 8 for thin inputs (PYSKL: 8 when in_channels <= 16).
            Defaults to 8.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 rel_reduction: int = 8) -> None:
        super().__init__()
        rel_channels = 8 if in_channels <= 16 else in_channels // rel_reduction
        self.phi = nn.Conv2d(in_channels, rel_channels, 1)
        self.psi = nn.Conv2d(in_channels, rel_channels, 1)
        self.xi = nn.Conv2d(rel_channels, out_channels, 1)
        self.transform = nn.Conv2d(in_channels, out_channels, 1)

    def topology(self, x: Tensor, A: Tensor, alpha: Tensor) -> Tensor:
        """The refined topology ``[N, C_out, V (source), V (target)]``."""
        # Linear maps commute with the temporal mean, so pool first.
        pooled = x.mean(dim=2, keepdim=True)
        source = self.phi(pooled).squeeze(2)  # N, R, V
        target = self.psi(pooled).squeeze(2)
        relation = torch.tanh(target.unsqueeze(-2) - source.unsqueeze(-1))
        return self.xi(relation) * alpha + A

    def forward(self, x: Tensor, A: Tensor, alpha: Tensor) -> Tensor:
        """``x`` ``[N, C_in, T, V]`` to ``[N, C_out, T, V]``."""
        return torch.einsum('ncuv,nctu->nctv', self.topology(x, A, alpha),
                            self.transform(x))


class CTRGCUnit(nn.Module):
    """The spatial unit of a CTR-GCN block: one :class:`CTRGC` per subset of
    the graph (identity, inward, outward in 'spatial' mode) on a learnable
    shared topology, summed, batch-normed, plus a residual, then ReLU.

    ``alpha`` (one scalar shared by the subsets) starts at 0, so training
    starts from the plain graph convolution, and the output norm starts near
    0 (PYSKL's 1e-6), so the unit starts as its residual.
    """

    def __init__(self, in_channels: int, out_channels: int, A: Tensor) -> None:
        super().__init__()
        self.A = nn.Parameter(A.clone())
        self.alpha = nn.Parameter(torch.zeros(1))
        self.convs = nn.ModuleList(
            CTRGC(in_channels, out_channels) for _ in range(A.size(0)))
        self.bn = nn.BatchNorm2d(out_channels)
        self.down = nn.Identity() if in_channels == out_channels else \
            nn.Sequential(nn.Conv2d(in_channels, out_channels, 1),
                          nn.BatchNorm2d(out_channels))
        _init_convs_and_norms(self)
        nn.init.constant_(self.bn.weight, 1e-6)

    def forward(self, x: Tensor) -> Tensor:
        y = sum(conv(x, A, self.alpha) for conv, A in zip(self.convs, self.A))
        return torch.relu(self.bn(y) + self.down(x))


class MultiScaleTCN(nn.Module):
    """Multi-scale temporal convolution of CTR-GCN: one branch per dilation
    (1x1 reduction, BN, ReLU, ``kernel_size`` temporal convolution, BN), a
    max-pooling branch and a strided 1x1 branch, concatenated, then ReLU and
    dropout. The branches share the output channels, the 1x1 branch taking
    the remainder.

    Args:
        channels (int): Input and output channels.
        kernel_size (int): Temporal kernel of the dilated branches.
        stride (int): Temporal stride.
        dilations (Sequence[int]): One dilated branch each.
        dropout (float): Dropout after the activation.
    """

    def __init__(self, channels: int, kernel_size: int, stride: int,
                 dilations: Sequence[int], dropout: float) -> None:
        super().__init__()
        num_branches = len(dilations) + 2
        width = channels // num_branches
        rest = channels - width * (num_branches - 1)

        def reduce(out):
            return [
                nn.Conv2d(channels, out, 1),
                nn.BatchNorm2d(out),
                nn.ReLU(inplace=True)
            ]

        branches = [
            nn.Sequential(*reduce(width),
                          unit_tcn(width, width, kernel_size, stride, d))
            for d in dilations
        ]
        branches.append(
            nn.Sequential(*reduce(width),
                          nn.MaxPool2d((3, 1), (stride, 1), (1, 0)),
                          nn.BatchNorm2d(width)))
        branches.append(
            nn.Sequential(
                nn.Conv2d(channels, rest, 1, stride=(stride, 1)),
                nn.BatchNorm2d(rest)))
        self.branches = nn.ModuleList(branches)
        self.drop = nn.Dropout(dropout)
        _init_convs_and_norms(self)

    def forward(self, x: Tensor) -> Tensor:
        out = torch.cat([branch(x) for branch in self.branches], dim=1)
        return self.drop(torch.relu(out))


class CTRGCNBlock(nn.Module):
    """A :class:`CTRGCUnit`, a :class:`MultiScaleTCN` and a block residual
    (none, identity, or a strided 1x1 temporal convolution)."""

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 A: Tensor,
                 stride: int = 1,
                 residual: bool = True,
                 kernel_size: int = 5,
                 dilations: Sequence[int] = (1, 2),
                 tcn_dropout: float = 0.) -> None:
        super().__init__()
        self.gcn = CTRGCUnit(in_channels, out_channels, A)
        self.tcn = MultiScaleTCN(out_channels, kernel_size, stride, dilations,
                                 tcn_dropout)
        if not residual:
            self.residual = None
        elif in_channels == out_channels and stride == 1:
            self.residual = nn.Identity()
        else:
            self.residual = unit_tcn(
                in_channels, out_channels, kernel_size=1, stride=stride)
            _init_convs_and_norms(self.residual)

    def forward(self, x: Tensor) -> Tensor:
        y = self.tcn(self.gcn(x))
        if self.residual is not None:
            y = y + self.residual(x)
        return torch.relu(y)


@MODELS.register_module()
class CTRGCN(BaseModule):
    """CTR-GCN backbone (Chen et al., ICCV 2021), with PYSKL's sizes.

    Args:
        graph_cfg (dict): MMAction2 ``Graph`` arguments (``layout``,
            ``mode``); ``layout`` may be :func:`mmmg.keypoints.gcn_layout`'s
            dict.
        in_channels (int): Channels per joint (x, y, score). Defaults to 3.
        base_channels (int): Channels of the first stages. Defaults to 64.
        num_stages (int): Blocks. Defaults to 10.
        inflate_stages (Sequence[int]): 1-based blocks that double the
            channels. Defaults to (5, 8).
        down_stages (Sequence[int]): 1-based blocks with temporal stride 2.
            Defaults to (5, 8).
        num_person (int): Persons per sample; the input batch norm has one
            statistic per person, joint and channel. Defaults to 2.
        kernel_size (int): Temporal kernel of the multi-scale branches.
            Defaults to 5.
        dilations (Sequence[int]): Dilations of the multi-scale branches.
            Defaults to (1, 2).
        tcn_dropout (float): Dropout in the temporal convolution of every
            block but the first. Defaults to 0.
        init_cfg (dict or list[dict], optional): Initialization config
            (e.g. a ``Pretrained`` checkpoint). Defaults to None.

    Input ``[N, M, T, V, C]``; output ``[N, M, C_out, T', V]``, as
    MMAction2's ``GCNHead`` expects.
    """

    def __init__(self,
                 graph_cfg: Dict,
                 in_channels: int = 3,
                 base_channels: int = 64,
                 num_stages: int = 10,
                 inflate_stages: Sequence[int] = (5, 8),
                 down_stages: Sequence[int] = (5, 8),
                 num_person: int = 2,
                 kernel_size: int = 5,
                 dilations: Sequence[int] = (1, 2),
                 tcn_dropout: float = 0.,
                 init_cfg: Optional[Union[Dict, list]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.graph = Graph(**graph_cfg)
        A = torch.tensor(self.graph.A, dtype=torch.float32)
        self.num_person = num_person
        self.data_bn = nn.BatchNorm1d(num_person * in_channels * A.size(1))
        tcn = dict(kernel_size=kernel_size, dilations=dilations)
        blocks = [
            CTRGCNBlock(in_channels, base_channels, A, residual=False, **tcn)
        ]
        channels = base_channels
        for stage in range(2, num_stages + 1):
            out_channels = channels * (2 if stage in inflate_stages else 1)
            blocks.append(
                CTRGCNBlock(
                    channels,
                    out_channels,
                    A,
                    stride=2 if stage in down_stages else 1,
                    tcn_dropout=tcn_dropout,
                    **tcn))
            channels = out_channels
        self.out_channels = channels
        self.blocks = nn.ModuleList(blocks)

    def forward(self, x: Tensor) -> Tensor:
        N, M, T, V, C = x.shape
        if M != self.num_person:
            raise ValueError(f'CTRGCN was built for num_person='
                             f'{self.num_person}, got inputs with {M} '
                             'persons (FormatGCNInput num_person)')
        x = x.permute(0, 1, 3, 4, 2).reshape(N, M * V * C, T)
        x = self.data_bn(x).view(N, M, V, C, T)
        x = x.permute(0, 1, 3, 4, 2).reshape(N * M, C, T, V)
        for block in self.blocks:
            x = block(x)
        return x.reshape((N, M) + x.shape[1:])
