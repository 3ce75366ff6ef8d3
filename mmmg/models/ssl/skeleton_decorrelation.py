"""USDRL-style self-supervised skeleton pre-training for the stock runner."""
from typing import Dict, List, Optional

from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
from mmaction.utils import ConfigType, OptConfigType
from mmengine.model import BaseModel
from torch import Tensor, nn


def projector(in_dims: int, hidden_dims: int, out_dims: int) -> nn.Sequential:
    """Linear-BN-ReLU twice, then a linear output layer."""
    return nn.Sequential(
        nn.Linear(in_dims, hidden_dims), nn.BatchNorm1d(hidden_dims),
        nn.ReLU(inplace=True), nn.Linear(hidden_dims, hidden_dims),
        nn.BatchNorm1d(hidden_dims), nn.ReLU(inplace=True),
        nn.Linear(hidden_dims, out_dims))


@MODELS.register_module()
class SkeletonDecorrelationPretrainer(BaseModel):
    """Multi-grained feature decorrelation over augmented skeleton views.

    Every sample is ``V`` views of one clip (``SkeletonViews``), packed as
    inputs ``[N, V, T, J, C]``. The encoder, a
    :class:`~mmmg.models.backbones.DualStreamSkeletonTransformer` under
    ``backbone.`` (so its weights load into a ``RecognizerGCN`` through
    ``init_cfg=dict(type='Pretrained', prefix='backbone.')``), encodes each
    view; the temporal half, the spatial half and the whole feature go
    through the temporal, spatial and instance projectors, and the loss
    (:class:`~mmmg.models.losses.MultiGrainedDecorrelationLoss`) compares
    the views' embeddings per domain.

    Args:
        backbone (dict): The encoder.
        projector_dims (int): Hidden and output width of the temporal and
            spatial projectors and hidden width of the instance projector,
            whose output is twice as wide (USDRL: twice the encoder's
            per-stream width). Defaults to ``2 * backbone.embed_dims``.
        loss (dict): The objective. Defaults to
            ``dict(type='MultiGrainedDecorrelationLoss')``.
        data_preprocessor (dict, optional): Defaults to
            ``dict(type='ActionDataPreprocessor')`` (stacks the batch).
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 backbone: ConfigType,
                 projector_dims: Optional[int] = None,
                 loss: ConfigType = dict(type='MultiGrainedDecorrelationLoss'),
                 data_preprocessor: OptConfigType = None,
                 init_cfg: OptConfigType = None) -> None:
        if data_preprocessor is None:
            data_preprocessor = dict(type='ActionDataPreprocessor')
        if isinstance(data_preprocessor, dict):
            data_preprocessor = MODELS.build(data_preprocessor)
        super().__init__(
            data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.backbone = MODELS.build(backbone)
        dims = self.backbone.embed_dims
        proj = projector_dims or 2 * dims
        self.temporal_proj = projector(dims, proj, proj)
        self.spatial_proj = projector(dims, proj, proj)
        self.instance_proj = projector(2 * dims, proj, 2 * proj)
        self.loss_module = MODELS.build(loss)

    def embed(self, views: Tensor) -> Dict[str, List[Tensor]]:
        """Per-domain embeddings of every view of ``[N, V, T, J, C]``."""
        n, v = views.shape[:2]
        feats = self.backbone(views.flatten(0, 1))
        temporal, spatial = self.backbone.split_streams(feats)
        out = dict(
            temporal=self.temporal_proj(temporal),
            spatial=self.spatial_proj(spatial),
            instance=self.instance_proj(feats))
        return {k: list(z.view(n, v, -1).unbind(1)) for k, z in out.items()}

    def forward(self,
                inputs: Tensor,
                data_samples: Optional[List[ActionDataSample]] = None,
                mode: str = 'tensor'):
        """``'loss'``: the loss terms; ``'tensor'``: encoder features of
        every view ``[N, V, D]``; ``'predict'``: the first view's features,
        stored as each sample's ``embedding`` (``features`` is reserved
        for ``InstanceData`` in MMAction2's data samples)."""
        if inputs.dim() != 5:
            raise ValueError('expected views [N, V, T, J, C], got '
                             f'{list(inputs.shape)}; build them with '
                             'SkeletonViews')
        if mode == 'loss':
            return self.loss_module(self.embed(inputs))
        feats = self.backbone(inputs.flatten(0,
                                             1)).view(inputs.shape[0],
                                                      inputs.shape[1], -1)
        if mode == 'tensor':
            return feats
        if mode == 'predict':
            for sample, f in zip(data_samples, feats[:, 0]):
                sample.set_field(f, 'embedding')
            return data_samples
        raise ValueError(f'invalid mode {mode!r}')

    def train_step(self, data, optim_wrapper):
        # BatchNorm in the projectors needs at least two samples.
        if len(data['inputs']) < 2:
            raise ValueError('skeleton pre-training needs batches of at '
                             'least 2 clips; set drop_last=True or a larger '
                             'batch_size')
        return super().train_step(data, optim_wrapper)
