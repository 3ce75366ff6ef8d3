"""Pull of clip embeddings toward fixed class anchors (the pull term of the
Orthogonal Semantic Embedding Loss of the 4th place of MiGA 2026)."""
import torch
import torch.nn.functional as F
from mmaction.registry import MODELS

from .embedding_loss import EmbeddingLoss

# Keeps the cosine finite for an all-zero embedding.
_EPS = 1e-8


@MODELS.register_module()
class SemanticEmbeddingLoss(EmbeddingLoss):
    r"""Mean cosine distance between embeddings and their class anchors.

    With :math:`z_i` the embedding of sample :math:`i` and :math:`t_i` its
    target (the anchor :math:`a_{y_i}` of its class; for soft labels
    :math:`q_i` the mixture :math:`\sum_c q_{ic} a_c`):

    .. math::

        L = \frac{1}{N} \sum_{i=1}^{N}
            \left(1 - \frac{z_i \cdot t_i}{\lVert z_i \rVert \,
                                          \lVert t_i \rVert}\right)

    times ``loss_weight``. For unit anchors this is
    :math:`\frac{1}{2N} \sum_i \lVert z_i / \lVert z_i \rVert - a_{y_i}
    \rVert^2`. It is scale-free in :math:`z`: only the direction of an
    embedding is pulled, so the term cannot be lowered by shrinking or
    inflating features. With mutually orthogonal anchors (see
    :class:`~mmmg.models.heads.SemanticEmbeddingHead`) every class owns its
    own direction, and a tail class cannot share the region of a head class
    without paying the full distance to its anchor. Norms are clamped at
    ``1e-8``.

    The paper describes the loss (features pulled toward fixed orthogonal
    anchors) without an equation; the cosine distance is the choice made
    here.

    Args:
        loss_weight (float): Factor on the loss. The paper gives no value;
            defaults to 1.0.
    """

    def embedding_loss(self, embeddings: torch.Tensor,
                       targets: torch.Tensor) -> torch.Tensor:
        """The mean cosine distance of :math:`z` and :math:`t`, both
        (N, D)."""
        z = F.normalize(embeddings, dim=1, eps=_EPS)
        t = F.normalize(targets, dim=1, eps=_EPS)
        return (1. - (z * t).sum(dim=1)).mean()


__all__ = ['SemanticEmbeddingLoss']
