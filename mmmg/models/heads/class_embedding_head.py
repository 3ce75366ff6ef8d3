"""An I3D head with an auxiliary embedding branch aligned to a fixed table of
class embeddings; the base of the semantic and label embedding heads."""
from typing import Dict, Optional, Tuple

import torch
from mmaction.models.heads import I3DHead
from mmaction.registry import MODELS
from mmaction.utils import ConfigType, SampleList
from mmengine.model.weight_init import normal_init
from torch import Tensor, nn


class ClassEmbeddingHead(I3DHead):
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
        loss_cls (dict): Classification loss. Defaults to
            ``dict(type='CrossEntropyLoss')``.
        spatial_type (str): ``'avg'`` pools (N, C, T, H, W) features;
            anything else expects pooled features. Defaults to ``'avg'``.
        dropout_ratio (float): Dropout before the fc. Defaults to 0.5.
        init_std (float): Std of the fc and projection initialisation.
            Defaults to 0.01.
        kwargs: ``BaseHead`` arguments (``average_clips``, ``topk``, ...).
    """

    def __init__(self,
                 num_classes: int,
                 in_channels: int,
                 class_embeddings: Tensor,
                 loss_embed: ConfigType,
                 loss_cls: ConfigType = dict(type='CrossEntropyLoss'),
                 spatial_type: str = 'avg',
                 dropout_ratio: float = 0.5,
                 init_std: float = 0.01,
                 **kwargs) -> None:
        super().__init__(num_classes, in_channels, loss_cls=loss_cls,
                         spatial_type=spatial_type,
                         dropout_ratio=dropout_ratio, init_std=init_std,
                         **kwargs)
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

    def _pool(self, x: Tensor) -> Tensor:
        if self.avg_pool is not None:
            x = self.avg_pool(x)
        return x.view(x.shape[0], -1)

    def _logits(self, pooled: Tensor) -> Tensor:
        if self.dropout is not None:
            pooled = self.dropout(pooled)
        return self.fc_cls(pooled)

    def forward(self, x: Tensor, **kwargs) -> Tensor:
        """The class logits (N, num_classes), as ``I3DHead``."""
        return self._logits(self._pool(x))

    def forward_with_embedding(self, x: Tensor) -> Tuple[Tensor, Tensor]:
        """Logits and embeddings.

        Args:
            x (Tensor): Backbone features, (N, C, T, H, W) or pooled (N, C).

        Returns:
            tuple[Tensor, Tensor]: Logits (N, num_classes) and embeddings
            :math:`z` (N, D).
        """
        pooled = self._pool(x)
        return self._logits(pooled), self.fc_embed(pooled)

    def loss(self, feats: Tensor, data_samples: SampleList,
             **kwargs) -> Dict:
        """Forward the features and compute the losses (training)."""
        logits, embeddings = self.forward_with_embedding(feats)
        return self.loss_by_feat(logits, data_samples, embeddings=embeddings)

    def label_distribution(self, data_samples: SampleList,
                           device: torch.device) -> Tensor:
        """The labels of a batch as rows :math:`q_i` (N, C): one-hot for
        class indices, as given for soft labels (MixUp/CutMix)."""
        labels = torch.stack([x.gt_labels.item for x in data_samples])
        labels = labels.to(device)
        if labels.dim() == 2 and labels.shape[1] == self.num_classes:
            return labels.float()
        labels = labels.reshape(-1).long()
        if labels.numel() and (labels.min() < 0 or
                               labels.max() >= self.num_classes):
            raise ValueError(f'training labels must be in [0, '
                             f'{self.num_classes}), got {labels.tolist()}')
        return nn.functional.one_hot(labels, self.num_classes).float()

    def loss_by_feat(self, cls_scores: Tensor, data_samples: SampleList,
                     embeddings: Optional[Tensor] = None) -> Dict:
        """Classification loss plus the embedding loss.

        Args:
            cls_scores (Tensor): Logits, (N, num_classes).
            data_samples (list[ActionDataSample]): The batch's samples.
            embeddings (Tensor, optional): :math:`z` (N, D) of
                :meth:`forward_with_embedding`; without them only the
                classification loss is computed.

        Returns:
            dict: ``loss_cls``, ``loss_embed`` and ``topk_acc`` entries.
        """
        if embeddings is None:
            return super().loss_by_feat(cls_scores, data_samples)
        # Labels are checked before the cross-entropy, whose error for a bad
        # label is an index error without the label.
        q = self.label_distribution(data_samples, embeddings.device)
        if q.shape[0] != embeddings.shape[0]:
            raise ValueError(
                f'{type(self).__name__} got {embeddings.shape[0]} embeddings '
                f'for {q.shape[0]} labels; train with one clip per sample')
        losses = super().loss_by_feat(cls_scores, data_samples)
        targets = q @ self.class_embeddings.to(q)
        losses['loss_embed'] = self.loss_embed(embeddings, targets)
        return losses


__all__ = ['ClassEmbeddingHead']
