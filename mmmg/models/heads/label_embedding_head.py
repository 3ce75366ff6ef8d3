"""Head of the label-embedding loss of Li et al. (MiGA 2023)."""
import os.path as osp

import numpy as np
import torch
from mmaction.registry import MODELS
from mmaction.utils import ConfigType
from torch import Tensor

from .class_embedding_head import ClassEmbeddingHead


def load_label_embeddings(path: str, num_classes: int) -> Tensor:
    """Class text embeddings from a ``.npy`` file of shape (C, D).

    Row ``c`` is the embedding of class ``c`` (e.g. the mean 300-d word
    vector of the words of its name, as in Li et al. 2023). Values are used
    as stored (no normalisation).

    Args:
        path (str): The ``.npy`` file (read with ``allow_pickle=False``).
        num_classes (int): :math:`C`.

    Returns:
        Tensor: float32, shape (C, D).

    Raises:
        FileNotFoundError: The file does not exist.
        ValueError: Not a readable ``.npy`` array, not numeric, not of shape
            (C, D) with D >= 1, or not finite; the message names the file.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'label embedding file {path!r} not found')
    try:
        table = np.load(path, allow_pickle=False)
    except Exception as e:  # numpy raises several types for a bad file
        raise ValueError(f'{path}: not a readable .npy array ({e})') from e
    if not isinstance(table, np.ndarray) or not (
            np.issubdtype(table.dtype, np.floating)
            or np.issubdtype(table.dtype, np.integer)):
        raise ValueError(f'{path}: expected a numeric array, got '
                         f'{getattr(table, "dtype", type(table).__name__)}')
    if table.ndim != 2 or table.shape[0] != num_classes or \
            table.shape[1] < 1:
        raise ValueError(f'{path}: label embeddings must have shape '
                         f'({num_classes}, D), one row per class, got '
                         f'{table.shape}')
    if not np.isfinite(table).all():
        rows = np.flatnonzero(~np.isfinite(table).all(axis=1)).tolist()
        raise ValueError(f'{path}: rows {rows} hold NaN or inf')
    return torch.from_numpy(table.astype(np.float32))


@MODELS.register_module()
class LabelEmbeddingHead(ClassEmbeddingHead):
    r"""I3D-style head trained with cross-entropy plus the regression of a
    linear projection of the clip feature onto the text embedding of its
    class (Li et al., "Joint Skeletal and Semantic Embedding Loss for
    Micro-gesture Classification", MiGA 2023):

    .. math::

        L = L_{cls} + \lambda \, \mathrm{MSE}(W f_i + b, e_{y_i})

    with :math:`e_c` row :math:`c` of the (C, D) array in
    ``embedding_file`` (:func:`load_label_embeddings`, read when the head is
    built and kept in the ``class_embeddings`` buffer, so checkpoints carry
    it) and :math:`\lambda = 20` by default
    (:class:`~mmmg.models.losses.LabelEmbeddingLoss`). Predictions are the
    fc logits, as in ``I3DHead``; see :class:`ClassEmbeddingHead` for soft
    labels and the targets.

    Args:
        num_classes (int): Number of classes :math:`C`.
        in_channels (int): Channels of the backbone feature.
        embedding_file (str): ``.npy`` of shape (C, D).
        loss_embed (dict): The embedding loss. Defaults to
            ``dict(type='LabelEmbeddingLoss')`` (:math:`\lambda = 20`).
        kwargs: :class:`ClassEmbeddingHead` / ``I3DHead`` arguments
            (``loss_cls``, ``dropout_ratio``, ``average_clips``, ...).
    """

    def __init__(self,
                 num_classes: int,
                 in_channels: int,
                 embedding_file: str,
                 loss_embed: ConfigType = dict(type='LabelEmbeddingLoss'),
                 **kwargs) -> None:
        table = load_label_embeddings(embedding_file, num_classes)
        super().__init__(
            num_classes,
            in_channels,
            class_embeddings=table,
            loss_embed=loss_embed,
            **kwargs)
        self.embedding_file = embedding_file

    def extra_repr(self) -> str:
        return (f'embedding_file={self.embedding_file!r}, '
                f'embed_dim={self.embed_dim}')


__all__ = ['LabelEmbeddingHead', 'load_label_embeddings']
