"""The base of the losses between clip embeddings and class targets."""
import torch
from mmaction.models.losses import BaseWeightedLoss


class EmbeddingLoss(BaseWeightedLoss):
    """A weighted loss between embeddings and their targets, both (N, D).

    The shapes are checked here; subclasses implement
    :meth:`embedding_loss`. This class is not registered.

    Args:
        loss_weight (float): Factor on the loss. Defaults to 1.0.
    """

    def embedding_loss(self, embeddings: torch.Tensor,
                       targets: torch.Tensor) -> torch.Tensor:
        """The loss (a scalar, before ``loss_weight``) of checked inputs,
        the targets already in the embeddings' dtype and device."""
        raise NotImplementedError

    def _forward(self, embeddings: torch.Tensor,
                 targets: torch.Tensor) -> torch.Tensor:
        """Compute the loss (before ``loss_weight``).

        Args:
            embeddings (torch.Tensor): Shape (N, D).
            targets (torch.Tensor): Shape (N, D).

        Returns:
            torch.Tensor: The loss, a scalar.
        """
        if embeddings.shape != targets.shape or embeddings.dim() != 2:
            raise ValueError('embeddings and targets must both be (N, D), got '
                             f'{tuple(embeddings.shape)} and '
                             f'{tuple(targets.shape)}')
        return self.embedding_loss(embeddings, targets.to(embeddings))


__all__ = ['EmbeddingLoss']
