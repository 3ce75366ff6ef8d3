"""A classification head with momentum class prototypes and a contrastive
calibration loss on the misclassified samples of each batch.

Micro-gestures are fine-grained and long-tailed: most errors are confusions
between a handful of similar classes (``touch face`` / ``touch chin`` /
``touch other face part``). Following the feature-refinement idea of FR-Head
and of prototype learning for micro-gestures, this head keeps one prototype
per class in a projected embedding space and, for every sample that the
classifier gets wrong, pulls its embedding toward its own class prototype and
pushes it away from the prototype of the class it was mistaken for.
"""
from typing import Dict, Optional, Tuple

import torch
import torch.nn.functional as F
from mmaction.registry import MODELS
from mmaction.utils import SampleList
from mmengine.dist import all_reduce, get_world_size
from mmengine.model.weight_init import normal_init
from torch import Tensor, nn

from .embedding_head import EmbeddingHead


def calibration_loss(embeddings: Tensor, prototypes: Tensor, labels: Tensor,
                     preds: Tensor, valid: Tensor,
                     temperature: float) -> Tuple[Tensor, Tensor]:
    r"""Contrastive calibration loss on false negatives and false positives.

    With :math:`z_i` the l2-normalised embedding of sample :math:`i`,
    :math:`p_k` the l2-normalised prototype of class :math:`k`, :math:`\tau`
    the temperature, :math:`s_{ik} = \cos(z_i, p_k) / \tau` and
    :math:`q_{ik} = e^{s_{ik}} / \sum_{j \in V} e^{s_{ij}}` for
    :math:`k \in V`, the classes that have a prototype (``valid``):

    * sample :math:`i` of class :math:`y_i` predicted as
      :math:`\hat y_i \ne y_i` is a *false negative* of :math:`y_i` and a
      *false positive* of :math:`\hat y_i`; :math:`M` is the set of these
      samples with :math:`y_i, \hat y_i \in V`;
    * the FN term pulls :math:`z_i` toward its own prototype, against all
      others: :math:`\ell^{FN}_i = -\log q_{i y_i}`;
    * the FP term pushes :math:`z_i` away from the prototype of the class it
      was mistaken for: :math:`\ell^{FP}_i = -\log (1 - q_{i \hat y_i})`;
    * :math:`L_{cal} = \frac{1}{N} \sum_{i \in M}
      (\ell^{FN}_i + \ell^{FP}_i)` with :math:`N` the batch size.

    Dividing by :math:`N` rather than :math:`|M|` lets the term fade as the
    classifier gets the batch right, instead of giving one leftover mistake
    the weight of a whole batch.

    Args:
        embeddings (Tensor): Projected features, shape (N, D); need not be
            normalised.
        prototypes (Tensor): Class prototypes, shape (C, D); not normalised.
        labels (Tensor): Ground-truth classes, shape (N, ).
        preds (Tensor): Predicted classes, shape (N, ).
        valid (Tensor): Bool, shape (C, ): classes with a prototype.
        temperature (float): :math:`\tau`.

    Returns:
        tuple[Tensor, Tensor]: The loss (a scalar) and the bool mask of
        :math:`M`, shape (N, ).
    """
    z = F.normalize(embeddings, dim=1)
    p = F.normalize(prototypes.to(z.dtype), dim=1)
    mask = (preds != labels) & valid[labels] & valid[preds]
    # `0 * z.sum()` keeps the projector in the graph when no sample is wrong
    # (DDP would otherwise wait for gradients that never come).
    loss = 0. * z.sum()
    if not mask.any():
        return loss, mask
    # Only the rows of M are computed: other rows may have no valid
    # prototype at all, and their -inf would poison the gradients.
    y, y_hat = labels[mask], preds[mask]
    sim = z[mask] @ p.t() / temperature
    # Uninitialised prototypes are zero vectors: keep them out of the
    # softmax so that they neither attract nor repel anything.
    sim = sim.masked_fill(~valid[None], float('-inf'))
    rows = torch.arange(len(y), device=y.device)
    log_norm = sim.logsumexp(dim=1)
    fn = log_norm - sim[rows, y]
    # log(1 - q_yhat) = logsumexp over k != yhat minus logsumexp over all k,
    # which stays finite where q_yhat is close to 1 (y is always among k).
    others = sim.masked_fill(
        F.one_hot(y_hat, sim.shape[1]).bool(), float('-inf'))
    fp = log_norm - others.logsumexp(dim=1)
    return loss + (fn + fp).sum() / len(labels), mask


@MODELS.register_module()
class PrototypeHead(EmbeddingHead):
    r"""I3D-style head with momentum class prototypes and a contrastive
    calibration loss (FR-Head / prototype learning for micro-gestures).

    The features are pooled, then go two ways: ``dropout -> fc`` gives the
    class logits (as in ``I3DHead``), and a linear projector gives the
    embedding whose l2-normalised form :math:`z_i` the prototypes and the
    calibration loss work on. Training minimises

    .. math::

        L = L_{cls} + \lambda L_{cal}

    with :math:`L_{cls}` the ``loss_cls`` of the logits and :math:`L_{cal}`
    the calibration loss of :func:`calibration_loss`, computed against the
    prototypes as they were *before* the batch. Predictions
    :math:`\hat y_i = \arg\max_k` of the (detached) logits decide which
    samples are false negatives / false positives; soft labels (MixUp)
    count as their largest class. The FN/FP terms follow the idea of FR-Head
    (Zhou et al., CVPR 2023) and of prototype learning for micro-gestures
    (Chen et al., 2024); the exact formula is mmmg's own, given in
    :func:`calibration_loss`.

    **Prototypes.** After the loss, each class :math:`k` present in the batch
    updates its prototype from the normalised embeddings of its
    ground-truth samples (all of them, right or wrong), with
    :math:`\bar z_k` their mean:

    .. math::

        P_k \leftarrow m P_k + (1 - m) \bar z_k

    The first batch that contains class :math:`k` sets
    :math:`P_k = \bar z_k` (no pull toward zero). Prototypes are buffers,
    so they are saved in and restored from the checkpoint's state dict,
    and they are never trained by gradients. Under DDP each rank sees its own
    batch; with ``sync_prototypes=True`` (default) the per-class sums and
    counts are all-reduced before the update, so every rank applies the same
    update to the same prototypes (the global batch's class means; ranks
    start equal, from zeros or from the loaded checkpoint). With
    ``False`` each rank keeps its own prototypes and the checkpoint holds
    rank 0's.

    **Prediction.** By default the scores are the fc logits, exactly as
    ``I3DHead``. With ``proto_blend`` :math:`\alpha > 0` they become

    .. math::

        (1 - \alpha)\, \mathrm{logits}_{ik} + \alpha\, s_{ik},
        \qquad s_{ik} = \cos(z_i, p_k) / \tau

    where a class never seen in training gets :math:`s_{ik} = -1 / \tau`
    (the lowest cosine); clip averaging (``average_clips``) follows.

    Args:
        num_classes (int): Number of classes.
        in_channels (int): Channels of the backbone feature.
        proj_channels (int, optional): Embedding size of the projector;
            None uses the pooled feature itself. Defaults to 256.
        momentum (float): Prototype momentum :math:`m` in [0, 1).
            Defaults to 0.9.
        temperature (float): :math:`\tau`. Defaults to 0.1.
        loss_proto_weight (float): :math:`\lambda`. Defaults to 0.1.
        proto_blend (float): :math:`\alpha` in [0, 1] for prediction.
            Defaults to 0 (fc logits only).
        sync_prototypes (bool): All-reduce the prototype update under
            distributed training. Defaults to True.
        kwargs: :class:`EmbeddingHead` / ``I3DHead`` arguments
            (``loss_cls``, ``spatial_type``, ``dropout_ratio``,
            ``init_std``: std of the fc and projector initialisation,
            ``average_clips``, ``label_smooth_eps``, ...).
    """

    def __init__(self,
                 num_classes: int,
                 in_channels: int,
                 proj_channels: Optional[int] = 256,
                 momentum: float = 0.9,
                 temperature: float = 0.1,
                 loss_proto_weight: float = 0.1,
                 proto_blend: float = 0.,
                 sync_prototypes: bool = True,
                 **kwargs) -> None:
        super().__init__(num_classes, in_channels, **kwargs)
        if not 0 <= momentum < 1:
            raise ValueError(f'momentum must be in [0, 1), got {momentum}')
        if temperature <= 0:
            raise ValueError(
                f'temperature must be positive, got {temperature}')
        if loss_proto_weight < 0:
            raise ValueError('loss_proto_weight must be >= 0, got '
                             f'{loss_proto_weight}')
        if not 0 <= proto_blend <= 1:
            raise ValueError(
                f'proto_blend must be in [0, 1], got {proto_blend}')
        if proj_channels is not None and proj_channels <= 0:
            raise ValueError(
                f'proj_channels must be positive or None, got {proj_channels}')
        self.momentum = momentum
        self.temperature = temperature
        self.loss_proto_weight = loss_proto_weight
        self.proto_blend = proto_blend
        self.sync_prototypes = sync_prototypes

        if proj_channels is None:
            self.projector = None
            embed_dims = in_channels
        else:
            self.projector = nn.Linear(in_channels, proj_channels)
            embed_dims = proj_channels
        self.embed_dims = embed_dims
        self.register_buffer('prototypes', torch.zeros(num_classes,
                                                       embed_dims))
        self.register_buffer('proto_valid',
                             torch.zeros(num_classes, dtype=torch.bool))

    def init_weights(self) -> None:
        """Initiate the parameters from scratch."""
        super().init_weights()
        if self.projector is not None:
            normal_init(self.projector, std=self.init_std)

    def embed(self, pooled: Tensor) -> Tensor:
        """The projected embedding (N, embed_dims); the pooled feature
        itself without a projector."""
        return pooled if self.projector is None else self.projector(pooled)

    def loss_by_embedding(self, embeddings: Tensor, labels: Tensor,
                          cls_scores: Tensor) -> Dict:
        """The weighted calibration loss against the prototypes as they
        were before the batch, which then updates them in training mode.

        Soft labels (MixUp/CutMix) count as their dominant class.

        Returns:
            dict: ``loss_proto`` and ``proto_fn_ratio`` (share of the batch
            that the calibration term acted on).
        """
        labels = labels.argmax(dim=1)
        preds = cls_scores.detach().argmax(dim=1)
        loss_cal, mask = calibration_loss(embeddings, self.prototypes.detach(),
                                          labels, preds, self.proto_valid,
                                          self.temperature)
        losses = dict(
            loss_proto=self.loss_proto_weight * loss_cal,
            proto_fn_ratio=mask.float().mean())
        if self.training:
            self.update_prototypes(embeddings.detach(), labels)
        return losses

    @torch.no_grad()
    def update_prototypes(self, embeddings: Tensor, labels: Tensor) -> None:
        r"""Momentum update :math:`P_k \leftarrow m P_k + (1 - m) \bar z_k`
        of the classes in the batch (all ranks' batches when synced).

        Args:
            embeddings (Tensor): Embeddings (N, embed_dims), unnormalised.
            labels (Tensor): Ground-truth classes (N, ).
        """
        z = F.normalize(embeddings.float(), dim=1)
        sums = torch.zeros_like(self.prototypes, dtype=torch.float)
        sums.index_add_(0, labels, z)
        counts = torch.bincount(labels, minlength=self.num_classes).float()
        if self.sync_prototypes and get_world_size() > 1:
            all_reduce(sums)
            all_reduce(counts)
        present = counts > 0
        means = sums[present] / counts[present, None]
        old = self.prototypes[present].float()
        keep = torch.where(
            self.proto_valid[present, None],
            torch.full_like(counts[present, None], self.momentum),
            torch.zeros_like(counts[present, None]))
        self.prototypes[present] = (keep * old + (1 - keep) * means).to(
            self.prototypes.dtype)
        self.proto_valid[present] = True

    def prototype_scores(self, embeddings: Tensor) -> Tensor:
        r"""Prototype similarities :math:`s_{ik} = \cos(z_i, p_k) / \tau`,
        with :math:`-1/\tau` for classes that have no prototype."""
        z = F.normalize(embeddings, dim=1)
        p = F.normalize(self.prototypes.to(z.dtype), dim=1)
        sim = z @ p.t() / self.temperature
        return sim.masked_fill(~self.proto_valid[None], -1. / self.temperature)

    def predict_by_feat(self,
                        cls_scores: Tensor,
                        data_samples: SampleList,
                        embeddings: Optional[Tensor] = None) -> SampleList:
        """Predictions from the logits, blended with the prototype scores
        of the embeddings when ``proto_blend > 0``."""
        if self.proto_blend > 0 and embeddings is not None:
            cls_scores = (1 - self.proto_blend) * cls_scores + \
                self.proto_blend * self.prototype_scores(embeddings)
        return super().predict_by_feat(cls_scores, data_samples)

    def extra_repr(self) -> str:
        return (f'momentum={self.momentum}, temperature={self.temperature}, '
                f'loss_proto_weight={self.loss_proto_weight}, '
                f'proto_blend={self.proto_blend}, '
                f'sync_prototypes={self.sync_prototypes}')


__all__ = ['PrototypeHead', 'calibration_loss']
