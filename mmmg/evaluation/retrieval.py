"""Training-free retrieval: test queries against a gallery of training clips,
ranked by the cosine similarity of their features (iMiGUE-3K protocol 4).

A query counts as retrieved at ``k`` when any of its ``k`` nearest gallery
clips has its label (the action-retrieval convention).
"""
from typing import Dict, Sequence

import numpy as np


def cosine_neighbours(query: np.ndarray,
                      gallery: np.ndarray,
                      k: int,
                      chunk: int = 4096) -> np.ndarray:
    """Indices ``[Q, k]`` of each query's ``k`` most similar gallery rows,
    most similar first; computed in query chunks to bound memory."""
    if query.shape[1] != gallery.shape[1]:
        raise ValueError(f'query features are {query.shape[1]}-d, gallery '
                         f'features {gallery.shape[1]}-d')
    k = min(k, len(gallery))

    def unit(x):
        x = x.astype(np.float32)
        return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)

    q, g = unit(query), unit(gallery)
    out = np.empty((len(q), k), np.int64)
    for s in range(0, len(q), chunk):
        sim = q[s:s + chunk] @ g.T
        top = np.argpartition(-sim, k - 1, axis=1)[:, :k]
        order = np.argsort(
            -np.take_along_axis(sim, top, 1), axis=1, kind='stable')
        out[s:s + chunk] = np.take_along_axis(top, order, 1)
    return out


def retrieval_accuracy(query_labels: np.ndarray,
                       gallery_labels: np.ndarray,
                       neighbours: np.ndarray,
                       topk: Sequence[int] = (1, 5)) -> Dict[str, float]:
    """Share of queries with their label among the first ``k`` neighbours."""
    hits = gallery_labels[neighbours] == query_labels[:, None]
    return {f'top{k}': float(hits[:, :k].any(axis=1).mean()) for k in topk}
