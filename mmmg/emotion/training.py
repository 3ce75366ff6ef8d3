"""Fitting and scoring the MIL aggregator on video bags."""
from typing import Dict, List, Tuple

import numpy as np
import torch
import torch.nn.functional as F

from .bags import VideoBags
from .mil_aggregator import AttentionMILAggregator


def _tensors(bags: VideoBags):
    return (torch.from_numpy(bags.features), torch.from_numpy(bags.mask),
            torch.from_numpy(bags.labels))


def fit_aggregator(bags: VideoBags, epochs: int = 100, lr: float = 1e-3,
                   weight_decay: float = 1e-2, batch_size: int = 16,
                   seed: int = 0, **model_kwargs
                   ) -> Tuple[AttentionMILAggregator, List[float]]:
    """Train an aggregator with class-balanced cross-entropy (the outcomes
    are rarely balanced); returns it and the mean loss of every epoch."""
    torch.manual_seed(seed)
    feats, mask, labels = _tensors(bags)
    model = AttentionMILAggregator(feats.shape[-1], **model_kwargs)
    counts = torch.bincount(labels, minlength=2).float()
    weight = counts.sum() / (len(counts) * counts.clamp(min=1))
    optim = torch.optim.AdamW(model.parameters(), lr=lr,
                              weight_decay=weight_decay)
    gen = torch.Generator().manual_seed(seed)
    history = []
    for _ in range(epochs):
        model.train()
        total = 0.
        for idx in torch.randperm(len(labels), generator=gen).split(
                batch_size):
            loss = F.cross_entropy(model(feats[idx], mask[idx]),
                                   labels[idx], weight=weight)
            optim.zero_grad()
            loss.backward()
            optim.step()
            total += loss.item() * len(idx)
        history.append(total / len(labels))
    return model.eval(), history


def binary_f1(pred: np.ndarray, labels: np.ndarray, positive: int) -> float:
    tp = np.sum((pred == positive) & (labels == positive))
    fp = np.sum((pred == positive) & (labels != positive))
    fn = np.sum((pred != positive) & (labels == positive))
    return float(2 * tp / max(2 * tp + fp + fn, 1))


@torch.no_grad()
def evaluate_bags(model: AttentionMILAggregator,
                  bags: VideoBags) -> Dict[str, object]:
    """Accuracy, F1 of each outcome, macro-F1 and per-video predictions."""
    feats, mask, _ = _tensors(bags)
    prob = model.eval()(feats, mask).softmax(dim=1).numpy()
    pred = prob.argmax(axis=1)
    f1 = {c: binary_f1(pred, bags.labels, i)
          for i, c in enumerate(('lose', 'win'))}
    return dict(accuracy=float((pred == bags.labels).mean()),
                f1_win=f1['win'], f1_lose=f1['lose'],
                macro_f1=(f1['win'] + f1['lose']) / 2,
                videos=bags.videos, prob_win=prob[:, 1].tolist(),
                labels=bags.labels.tolist())
