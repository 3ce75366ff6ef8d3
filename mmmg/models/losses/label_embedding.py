"""Regression of clip embeddings onto class text embeddings (the semantic
embedding loss of Li et al., "Joint Skeletal and Semantic Embedding Loss for
Micro-gesture Classification", MiGA 2023)."""
import torch
import torch.nn.functional as F
from mmaction.registry import MODELS

from .embedding_loss import EmbeddingLoss

# lambda of Li et al. 2023: L = CE + 20 * MSE.
LI2023_LAMBDA = 20.0


@MODELS.register_module()
class LabelEmbeddingLoss(EmbeddingLoss):
    r"""Mean squared error between projected features and the text
    embeddings of their classes.

    With :math:`\hat e_i = W f_i + b` the linear projection of the pooled
    feature of sample :math:`i` and :math:`e_i` its target (the text
    embedding :math:`e_{y_i}` of its class; for soft labels :math:`q_i` the
    mixture :math:`\sum_c q_{ic} e_c`), both of dimension :math:`D`:

    .. math::

        L = \lambda \, \frac{1}{N D} \sum_{i=1}^{N} \sum_{d=1}^{D}
            (\hat e_{id} - e_{id})^2

    with :math:`\lambda` = ``loss_weight`` (20 in Li et al. 2023, who add it
    to the cross-entropy of the classifier: :math:`CE + 20 \cdot MSE`).

    Args:
        loss_weight (float): :math:`\lambda`. Defaults to
            :data:`LI2023_LAMBDA` (20).
    """

    def __init__(self, loss_weight: float = LI2023_LAMBDA) -> None:
        super().__init__(loss_weight=loss_weight)

    def embedding_loss(self, embeddings: torch.Tensor,
                       targets: torch.Tensor) -> torch.Tensor:
        r"""The mean squared error of :math:`\hat e` and :math:`e`, both
        (N, D)."""
        return F.mse_loss(embeddings, targets)


__all__ = ['LI2023_LAMBDA', 'LabelEmbeddingLoss']
