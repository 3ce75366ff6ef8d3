"""An I3D head with an auxiliary embedding branch aligned to a fixed table of
class embeddings; the base of the semantic and label embedding heads."""
from typing import Dict

from mmaction.registry import MODELS
from mmaction.utils import ConfigType
from mmengine.model.weight_init import normal_init
from torch import Tensor, nn

from .embedding_head import EmbeddingHead


class ClassEmbeddingHead(EmbeddingHead):
    r"""``I3DHead`` plus a linear projection of the pooled feature into a
    space where every class has a fixed embedding.

    The pooled clip feature :math:`f_i` goes two ways: ``dropout -> fc``
    gives the class logits exactly as in ``I3DHead``, and a linear layer
    gives the embedding :math:`z_i = W f_i + b` (before dropout, which
    regularises the classifier only). With :math:`T \in \mathbb{R}^{C
    \times D}` the fixed class-embedding table (a buffer, saved with the
    checkpoint, never trained) and :math:`q_i` the label of sample
    :math:`i` as a distribution over classes (one-hot for a hard label),
    the embedding target is :math:`t_i = q_i T` (row :math:`y_i` of
    :math:`T` for a hard label) and training minimises

    .. math::

        L = L_{cls}(\mathrm{logits}, y) + L_{embed}(z, t)

    where ``loss_embed`` carries its own weight. Label smoothing
    (``label_smooth_eps``) acts on :math:`L_{cls}` only. Prediction uses the
    logits alone, so the head scores clips exactly as ``I3DHead`` does and
    its score files fuse like any other stream's.

    Subclasses build :math:`T`; this class is not registered.

    Args:
        num_classes (int): Number of classes :math:`C`.
        in_channels (int): Channels of the backbone feature.
        class_embeddings (Tensor): :math:`T`, shape (C, D).
        loss_embed (dict): Config of the embedding loss, called as
            ``loss_embed(z, t)``.
        kwargs: :class:`EmbeddingHead` / ``I3DHead`` arguments
            (``loss_cls``, ``spatial_type``, ``dropout_ratio``,
            ``init_std``, ``average_clips``, ...).
    """

    def __init__(self, num_classes: int, in_channels: int,
                 class_embeddings: Tensor, loss_embed: ConfigType,
                 **kwargs) -> None:
        super().__init__(num_classes, in_channels, **kwargs)
        if class_embeddings.dim() != 2 or \
                class_embeddings.shape[0] != num_classes:
            raise ValueError(f'{type(self).__name__}: class embeddings must '
                             f'be ({num_classes}, D), got '
                             f'{tuple(class_embeddings.shape)}')
        self.embed_dim = class_embeddings.shape[1]
        self.register_buffer('class_embeddings',
                             class_embeddings.detach().float().clone())
        self.fc_embed = nn.Linear(in_channels, self.embed_dim)
        self.loss_embed = MODELS.build(loss_embed)

    def init_weights(self) -> None:
        """Initiate the parameters from scratch."""
        super().init_weights()
        normal_init(self.fc_embed, std=self.init_std)

    def embed(self, pooled: Tensor) -> Tensor:
        """The embedding :math:`z = W f + b` (N, D)."""
        return self.fc_embed(pooled)

    def loss_by_embedding(self, embeddings: Tensor, labels: Tensor,
                          cls_scores: Tensor) -> Dict:
        """``loss_embed`` of the embeddings against the targets
        :math:`t_i = q_i T`."""
        targets = labels @ self.class_embeddings.to(labels)
        return dict(loss_embed=self.loss_embed(embeddings, targets))


__all__ = ['ClassEmbeddingHead']
