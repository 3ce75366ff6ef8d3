"""Head of the Orthogonal Semantic Embedding Loss (4th place, MiGA 2026)."""
from typing import Optional

import torch
from mmaction.registry import MODELS
from mmaction.utils import ConfigType
from torch import Tensor

from .class_embedding_head import ClassEmbeddingHead

ANCHOR_TYPES = ('identity', 'random_orthogonal')


def orthogonal_anchors(num_classes: int,
                       embed_dim: int,
                       anchor_type: str = 'identity',
                       seed: int = 0) -> Tensor:
    r"""Deterministic orthonormal class anchors :math:`A \in \mathbb{R}^{C
    \times D}` with :math:`A A^\top = I_C` (needs :math:`D \ge C`).

    - ``'identity'``: :math:`a_c = e_c`, the first :math:`C` rows of
      :math:`I_D`. Exact, and as good as any other orthonormal set, since
      the projection in front of the anchors is a learned linear map that
      can rotate the space.
    - ``'random_orthogonal'``: dense anchors. :math:`G \in \mathbb{R}^{D
      \times C}` with i.i.d. standard normal entries from a CPU
      ``torch.Generator`` seeded with ``seed`` (float64), reduced QR
      :math:`G = QR`, signs fixed so that :math:`\mathrm{diag}(R) > 0`
      (which makes the factorisation unique), :math:`A = Q^\top`.

    Args:
        num_classes (int): :math:`C`.
        embed_dim (int): :math:`D \ge C`.
        anchor_type (str): One of :data:`ANCHOR_TYPES`. Defaults to
            ``'identity'``.
        seed (int): Seed of ``'random_orthogonal'``. Defaults to 0.

    Returns:
        Tensor: :math:`A`, float32, shape (C, D).

    Raises:
        ValueError: :math:`D < C` (then :math:`C` directions cannot be
            mutually orthogonal) or an unknown ``anchor_type``.
    """
    if num_classes < 1:
        raise ValueError(f'num_classes must be positive, got {num_classes}')
    if embed_dim < num_classes:
        raise ValueError(f'embed_dim ({embed_dim}) must be >= num_classes '
                         f'({num_classes}) for mutually orthogonal anchors')
    if anchor_type == 'identity':
        return torch.eye(num_classes, embed_dim)
    if anchor_type == 'random_orthogonal':
        gen = torch.Generator().manual_seed(seed)
        g = torch.randn(
            embed_dim, num_classes, generator=gen, dtype=torch.float64)
        q, r = torch.linalg.qr(g, mode='reduced')
        signs = torch.sign(torch.diagonal(r))
        signs[signs == 0] = 1
        return (q * signs).t().float().contiguous()
    raise ValueError(f'anchor_type must be one of {ANCHOR_TYPES}, got '
                     f'{anchor_type!r}')


@MODELS.register_module()
class SemanticEmbeddingHead(ClassEmbeddingHead):
    r"""I3D-style head trained with cross-entropy plus the orthogonal
    semantic embedding loss.

    Each class owns a fixed anchor :math:`a_c` of
    :func:`orthogonal_anchors` (mutually orthogonal unit vectors in
    :math:`\mathbb{R}^D`); a linear projection of the pooled clip feature,
    :math:`z_i = W f_i + b`, is pulled toward the anchor of its class:

    .. math::

        L = L_{cls} + \lambda \frac{1}{N} \sum_i
            \left(1 - \cos(z_i, a_{y_i})\right)

    (:class:`~mmmg.models.losses.SemanticEmbeddingLoss`, :math:`\lambda` its
    ``loss_weight``). Since no two anchors share a direction, the features
    of a tail class are kept from collapsing onto a head class's region.
    ``loss_cls`` may be a class-weighted loss (``MGCrossEntropyLoss`` with
    ``mode='sqrt_inverse'``, the pairing of the 4th place of MiGA 2026).
    Predictions are the fc logits, as in ``I3DHead``; see
    :class:`ClassEmbeddingHead` for soft labels and the targets.

    Args:
        num_classes (int): Number of classes :math:`C`.
        in_channels (int): Channels of the backbone feature.
        embed_dim (int, optional): :math:`D \ge C`; None uses :math:`C`.
            Defaults to None.
        anchor_type (str): ``'identity'`` or ``'random_orthogonal'``.
            Defaults to ``'identity'``.
        anchor_seed (int): Seed of ``'random_orthogonal'``. Defaults to 0.
        loss_embed (dict): The embedding loss. Defaults to
            ``dict(type='SemanticEmbeddingLoss')`` (weight 1).
        kwargs: :class:`ClassEmbeddingHead` / ``I3DHead`` arguments
            (``loss_cls``, ``dropout_ratio``, ``average_clips``, ...).
    """

    def __init__(self,
                 num_classes: int,
                 in_channels: int,
                 embed_dim: Optional[int] = None,
                 anchor_type: str = 'identity',
                 anchor_seed: int = 0,
                 loss_embed: ConfigType = dict(type='SemanticEmbeddingLoss'),
                 **kwargs) -> None:
        anchors = orthogonal_anchors(
            num_classes, num_classes if embed_dim is None else embed_dim,
            anchor_type, anchor_seed)
        super().__init__(
            num_classes,
            in_channels,
            class_embeddings=anchors,
            loss_embed=loss_embed,
            **kwargs)
        self.anchor_type = anchor_type

    def extra_repr(self) -> str:
        return f'embed_dim={self.embed_dim}, anchor_type={self.anchor_type!r}'


__all__ = ['ANCHOR_TYPES', 'SemanticEmbeddingHead', 'orthogonal_anchors']
