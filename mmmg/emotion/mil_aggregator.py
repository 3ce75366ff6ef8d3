"""Gated attention pooling over a padded bag of clip features (Ilse et al.,
ICML 2018), followed by a linear classifier."""
import torch
from torch import Tensor, nn


class AttentionMILAggregator(nn.Module):
    """``a_i = softmax_i(w^T (tanh(V h_i) * sigmoid(U h_i)))`` over the real
    clips of a bag, then ``logits = W (sum_i a_i h_i)``.

    Args:
        in_dims (int): Clip feature width.
        hidden_dims (int): Attention width. Defaults to 64.
        num_classes (int): Defaults to 2 (lose, win).
        dropout (float): Dropout on the clip features. Defaults to 0.1.
    """

    def __init__(self, in_dims: int, hidden_dims: int = 64,
                 num_classes: int = 2, dropout: float = 0.1) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(in_dims)
        self.drop = nn.Dropout(dropout)
        self.attn_v = nn.Linear(in_dims, hidden_dims)
        self.attn_u = nn.Linear(in_dims, hidden_dims)
        self.attn_w = nn.Linear(hidden_dims, 1)
        self.classifier = nn.Linear(in_dims, num_classes)

    def attention(self, h: Tensor, mask: Tensor) -> Tensor:
        """Weights ``[B, K]`` of the clips; 0 on padding."""
        score = self.attn_w(torch.tanh(self.attn_v(h)) *
                            torch.sigmoid(self.attn_u(h))).squeeze(-1)
        return score.masked_fill(~mask, float('-inf')).softmax(dim=1)

    def forward(self, features: Tensor, mask: Tensor) -> Tensor:
        """``features [B, K, D]``, ``mask [B, K]`` -> logits ``[B, C]``."""
        if not mask.any(dim=1).all():
            raise ValueError('every bag needs at least one clip')
        h = self.drop(self.norm(features))
        pooled = (self.attention(h, mask).unsqueeze(-1) * h).sum(dim=1)
        return self.classifier(pooled)
