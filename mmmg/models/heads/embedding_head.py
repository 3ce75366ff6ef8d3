"""The base of the heads that train an embedding beside ``I3DHead``'s
classifier: shared pooling, label checks and the loss / predict split."""
from typing import Dict, Optional, Tuple

import torch
from mmaction.models.heads import I3DHead
from mmaction.utils import SampleList
from torch import Tensor, nn


class EmbeddingHead(I3DHead):
    """``I3DHead`` whose pooled feature also feeds an embedding branch.

    The pooled clip feature goes two ways: ``dropout -> fc_cls`` gives the
    class logits exactly as in ``I3DHead``, and :meth:`embed` (before
    dropout, which regularises the classifier only) gives the embedding of
    the subclass's own loss. Prediction uses the logits, so such a head
    scores clips as ``I3DHead`` does unless :meth:`predict_by_feat` is
    overridden.

    Before any loss runs, the labels are checked to lie in
    ``[0, num_classes)`` and, in training with embeddings, to come one clip
    per sample. Subclasses implement :meth:`embed` and
    :meth:`loss_by_embedding`; this class is not registered.

    Args:
        num_classes (int): Number of classes.
        in_channels (int): Channels of the backbone feature.
        kwargs: ``I3DHead`` arguments (``loss_cls``, ``spatial_type``:
            ``'avg'`` pools (N, C, T, H, W) features, anything else expects
            pooled ones; ``dropout_ratio``, ``init_std``, ``average_clips``,
            ``label_smooth_eps``, ...).
    """

    def embed(self, pooled: Tensor) -> Tensor:
        """The embedding (N, D) of pooled features (N, in_channels)."""
        raise NotImplementedError

    def loss_by_embedding(self, embeddings: Tensor, labels: Tensor,
                          cls_scores: Tensor) -> Dict:
        """The subclass's losses (and logged values) of a batch.

        Args:
            embeddings (Tensor): :meth:`embed` output, (N, D).
            labels (Tensor): Checked labels as distributions over the
                classes (N, num_classes): one-hot rows for class indices,
                as given for soft labels (MixUp/CutMix).
            cls_scores (Tensor): The logits (N, num_classes).

        Returns:
            dict: Entries added to the classification losses.
        """
        raise NotImplementedError

    def pool(self, x: Tensor) -> Tensor:
        """Backbone features, (N, C, T, H, W) or pooled (N, C) -> (N, C)."""
        if self.avg_pool is not None:
            x = self.avg_pool(x)
        return x.view(x.shape[0], -1)

    def classify(self, pooled: Tensor) -> Tensor:
        """Logits (N, num_classes) of pooled features, through dropout."""
        if self.dropout is not None:
            pooled = self.dropout(pooled)
        return self.fc_cls(pooled)

    def forward(self, x: Tensor, **kwargs) -> Tensor:
        """The class logits (N, num_classes), as ``I3DHead``."""
        return self.classify(self.pool(x))

    def forward_with_embedding(self, x: Tensor) -> Tuple[Tensor, Tensor]:
        """Logits (N, num_classes) and embeddings (N, D) of backbone
        features, (N, C, T, H, W) or pooled (N, C)."""
        pooled = self.pool(x)
        return self.classify(pooled), self.embed(pooled)

    def loss(self, feats: Tensor, data_samples: SampleList, **kwargs) -> Dict:
        """Forward the features and compute the losses (training)."""
        logits, embeddings = self.forward_with_embedding(feats)
        return self.loss_by_feat(logits, data_samples, embeddings=embeddings)

    def predict(self, feats: Tensor, data_samples: SampleList,
                **kwargs) -> SampleList:
        """Forward the features and attach the predictions (testing)."""
        logits, embeddings = self.forward_with_embedding(feats)
        return self.predict_by_feat(
            logits, data_samples, embeddings=embeddings)

    def label_distribution(self, data_samples: SampleList,
                           device: torch.device) -> Tensor:
        """The labels of a batch as rows (N, C): one-hot for class indices,
        as given for soft labels (MixUp/CutMix).

        Raises:
            ValueError: A class index outside ``[0, num_classes)``; the
                message names the label, its sample and the class count.
        """
        labels = torch.stack([x.gt_labels.item for x in data_samples])
        labels = labels.to(device)
        if labels.dim() == 2 and labels.shape[1] == self.num_classes:
            return labels.float()
        labels = labels.reshape(-1).long()
        bad = (labels < 0) | (labels >= self.num_classes)
        if bad.any():
            i = int(bad.nonzero()[0])
            raise ValueError(
                f'{type(self).__name__}: training labels must be in [0, '
                f'{self.num_classes}) for {self.num_classes} classes, got '
                f'label {labels[i].item()} (sample {i} of the batch)')
        return nn.functional.one_hot(labels, self.num_classes).float()

    def loss_by_feat(self,
                     cls_scores: Tensor,
                     data_samples: SampleList,
                     embeddings: Optional[Tensor] = None) -> Dict:
        """Classification loss plus :meth:`loss_by_embedding`.

        Args:
            cls_scores (Tensor): Logits, (N, num_classes).
            data_samples (list[ActionDataSample]): The batch's samples.
            embeddings (Tensor, optional): Embeddings (N, D) of
                :meth:`forward_with_embedding`; without them only the
                classification loss is computed.

        Returns:
            dict: ``loss_cls``, ``topk_acc`` and the subclass's entries.
        """
        # Checked first: cross-entropy reports a bad label as an index
        # error that names neither the label nor the class count.
        labels = self.label_distribution(data_samples, cls_scores.device)
        if embeddings is None:
            return super().loss_by_feat(cls_scores, data_samples)
        if not cls_scores.shape[0] == embeddings.shape[0] == len(labels):
            raise ValueError(
                f'{type(self).__name__} got {cls_scores.shape[0]} score rows '
                f'and {embeddings.shape[0]} embeddings for {len(labels)} '
                'labels; train with one clip per sample')
        losses = super().loss_by_feat(cls_scores, data_samples)
        losses.update(self.loss_by_embedding(embeddings, labels, cls_scores))
        return losses

    def predict_by_feat(self,
                        cls_scores: Tensor,
                        data_samples: SampleList,
                        embeddings: Optional[Tensor] = None) -> SampleList:
        """``I3DHead``'s predictions from the logits (clip averaging
        included); ``embeddings`` are for subclasses that use them."""
        return super().predict_by_feat(cls_scores, data_samples)


__all__ = ['EmbeddingHead']
