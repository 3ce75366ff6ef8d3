"""Gated attention pooling over a padded bag of clip features (Ilse et al.,
ICML 2018), followed by a linear classifier, as an MMEngine model."""
from typing import Dict, List, Optional, Sequence, Union

import torch
import torch.nn.functional as F
from mmaction.registry import MODELS
from mmaction.utils import OptConfigType, SampleList
from mmengine.model import BaseModel
from mmengine.structures import LabelData
from torch import Tensor, nn


@MODELS.register_module()
class AttentionMILAggregator(BaseModel):
    """``a_i = softmax_i(w^T (tanh(V h_i) * sigmoid(U h_i)))`` over the real
    clips of a bag, then ``logits = W (sum_i a_i h_i)``.

    Inputs are the batches of :class:`~mmmg.emotion.VideoBagDataset`:
    ``features [B, K, D]``, ``mask [B, K]`` (True = a real clip) and the
    data samples with the video labels. Training minimises cross-entropy
    with ``class_weight`` (set from the training labels by
    :class:`~mmmg.emotion.ClassBalanceHook`); prediction attaches the class
    probabilities as ``pred_scores``.

    Args:
        in_dims (int): Clip feature width D.
        hidden_dims (int): Attention width. Defaults to 64.
        num_classes (int): Defaults to 2 (lose, win).
        dropout (float): Dropout on the clip features. Defaults to 0.1.
        class_weight (list[float], optional): Cross-entropy class weights.
            Defaults to None (unweighted).
        data_preprocessor (dict, optional): Defaults to MMEngine's
            ``BaseDataPreprocessor`` (moves the batch to the device).
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 in_dims: int,
                 hidden_dims: int = 64,
                 num_classes: int = 2,
                 dropout: float = 0.1,
                 class_weight: Optional[Sequence[float]] = None,
                 data_preprocessor: OptConfigType = None,
                 init_cfg: OptConfigType = None) -> None:
        super().__init__(
            data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.in_dims = in_dims
        self.norm = nn.LayerNorm(in_dims)
        self.drop = nn.Dropout(dropout)
        self.attn_v = nn.Linear(in_dims, hidden_dims)
        self.attn_u = nn.Linear(in_dims, hidden_dims)
        self.attn_w = nn.Linear(hidden_dims, 1)
        self.classifier = nn.Linear(in_dims, num_classes)
        # Not saved: the hook derives it from the training set every run.
        self.register_buffer('class_weight', None, persistent=False)
        if class_weight is not None:
            self.set_class_weight(class_weight)

    def set_class_weight(self, weight: Sequence[float]) -> None:
        """Set the cross-entropy class weights (one per class)."""
        weight = torch.as_tensor(
            weight, dtype=torch.float, device=self.classifier.weight.device)
        if weight.shape != (self.classifier.out_features, ):
            raise ValueError(f'class_weight needs '
                             f'{self.classifier.out_features} values, got '
                             f'{tuple(weight.shape)}')
        self.class_weight = weight

    def attention(self, h: Tensor, mask: Tensor) -> Tensor:
        """Weights ``[B, K]`` of the clips; 0 on padding."""
        score = self.attn_w(
            torch.tanh(self.attn_v(h)) *
            torch.sigmoid(self.attn_u(h))).squeeze(-1)
        return score.masked_fill(~mask, float('-inf')).softmax(dim=1)

    def logits(self, features: Tensor, mask: Tensor) -> Tensor:
        """``features [B, K, D]``, ``mask [B, K]`` -> logits ``[B, C]``."""
        if features.shape[-1] != self.in_dims:
            raise ValueError(f'clip features are {features.shape[-1]} wide, '
                             f'the aggregator takes {self.in_dims} '
                             '(set in_dims to the summed stream widths)')
        if not mask.any(dim=1).all():
            raise ValueError('every bag needs at least one clip')
        h = self.drop(self.norm(features))
        pooled = (self.attention(h, mask).unsqueeze(-1) * h).sum(dim=1)
        return self.classifier(pooled)

    def forward(self,
                features: Tensor,
                mask: Tensor,
                data_samples: Optional[SampleList] = None,
                mode: str = 'tensor') -> Union[Tensor, Dict, List]:
        """``'tensor'``: the logits; ``'loss'``: ``dict(loss=...)``;
        ``'predict'``: the data samples with ``pred_scores`` (class
        probabilities) and ``pred_labels``."""
        logits = self.logits(features, mask)
        if mode == 'tensor':
            return logits
        if mode == 'loss':
            labels = torch.cat([s.gt_labels.item for s in data_samples])
            return dict(
                loss=F.cross_entropy(
                    logits, labels.to(logits.device),
                    weight=self.class_weight))
        if mode == 'predict':
            probs = logits.softmax(dim=1).detach()
            for sample, prob in zip(data_samples, probs):
                sample.pred_scores = LabelData(item=prob)
                sample.pred_labels = LabelData(item=prob.argmax(0, True))
            return data_samples
        raise ValueError(f'mode must be tensor, loss or predict, got {mode!r}')


__all__ = ['AttentionMILAggregator']
