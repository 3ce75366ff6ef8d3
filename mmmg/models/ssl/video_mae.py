"""VideoMAE-style masked video pre-training, with pixel or teacher-feature
targets, for the stock mmengine runner.

Pixel targets (VideoMAE): the encoder, MMAction2's ``VisionTransformer``,
sees only the visible tokens of a tube-masked clip (ratio 0.9); a light
decoder (4 blocks, width 384) predicts, for every masked token, its
tubelet's pixels z-scored per tubelet and channel (:mod:`.mae_targets`);
the loss is the MSE over masked tokens only.

Teacher targets (SMILE-style feature distillation): a frozen teacher ViT,
named in the config and loaded from its own checkpoint, sees the whole
clip (optionally every ``frame_stride``-th frame, e.g. an image model with
tubelet 1 on every other frame, SMILE's CLIP setting); its token features
at the masked positions, taken after block ``layer`` and z-scored per token
over channels, are the regression targets.
"""
import copy
import warnings
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from mmaction.models.backbones.vit_mae import VisionTransformer
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
from mmaction.utils import ConfigType, OptConfigType
from mmcv.cnn import build_norm_layer
from mmengine.model import BaseModel
from torch import Tensor, nn

from ..utils.merge_rgbpose import load_state_dict
from .mae_checkpoint import select_prefix
from .mae_targets import (masked_select_tokens, teacher_feature_targets,
                          tubelet_pixel_targets, unnormalize)
from .tube_masking import num_masked_per_slice
from .vit_encoder import embed_tokens, run_blocks, token_grid, tubelet_size_of

TARGET_TYPES = ('pixel', 'teacher')


class _FrozenTeacher:
    """Holds the teacher outside the module tree: it is neither a parameter
    of the optimizer nor a key of the checkpoint, and ``model.train()``
    leaves it in eval mode."""

    def __init__(self, module: nn.Module) -> None:
        self.module = module.eval().requires_grad_(False)
        self.loaded = False


@MODELS.register_module()
class VideoMAEPretrainer(BaseModel):
    """Masked video modelling with an MMAction2 ``VisionTransformer``.

    The encoder is built from ``backbone`` (type ``VisionTransformer`` or
    :class:`~mmmg.models.ssl.VisionTransformerCP`) and lives under
    ``backbone.``, so its weights load into a ``Recognizer3D`` with the same
    backbone by ``load_from`` with no missing backbone key. It runs its own
    patch embedding, position embedding and blocks on the visible tokens
    only. The stock ViT ends in ``fc_norm`` after mean pooling (with
    ``use_mean_pooling``, the fine-tuning default) and has no per-token
    norm; pre-training then normalises the encoder tokens with its own
    ``encoder_norm`` (dropped for fine-tuning) and freezes the unused
    ``backbone.fc_norm`` at its initial values (ones/zeros: what a fresh
    head norm would get; no gradient-less parameters for DDP).

    Args:
        backbone (dict): The encoder, an MMAction2 ``VisionTransformer``.
        decoder (dict): :class:`~mmmg.models.ssl.VideoMAEDecoder` settings
            but ``in_dims``/``out_dims``. Defaults to 4 blocks of width 384
            with 6 heads (VideoMAE).
        masking (dict): The mask generator. Defaults to
            ``dict(type='TubeMaskGenerator', ratio=0.9)``.
        target (dict): ``dict(type='pixel', norm_pix=True, pixel_range=255.,
            eps=1e-6)`` (see :func:`~mmmg.models.ssl.tubelet_pixel_targets`)
            or ``dict(type='teacher', teacher=<ViT config>,
            checkpoint=<path>, prefix='backbone.', layer=-1,
            frame_stride=1, mean=None, std=None)``: the teacher, its weights
            (the entries under ``prefix``; a pre-training, fine-tuning or
            bare backbone checkpoint), the block whose output is the target
            (-1: the last), the frame step of its input and its own input
            normalisation (None: the data preprocessor's).
        with_cp (bool): Checkpoint every encoder and decoder block (also on
            when the backbone has ``with_cp=True``). Defaults to False.
        encoder_norm_cfg (dict): Norm of the encoder tokens when the
            backbone has none. Defaults to LN with eps 1e-6.
        data_preprocessor (dict, optional): E.g. ``ActionDataPreprocessor``
            with mean/std and ``format_shape='NCTHW'``; its mean/std are
            undone for the pixel targets.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 backbone: ConfigType,
                 decoder: ConfigType = dict(
                     embed_dims=384, depth=4, num_heads=6),
                 masking: ConfigType = dict(
                     type='TubeMaskGenerator', ratio=0.9),
                 target: ConfigType = dict(type='pixel', norm_pix=True),
                 with_cp: bool = False,
                 encoder_norm_cfg: ConfigType = dict(type='LN', eps=1e-6),
                 data_preprocessor: OptConfigType = None,
                 init_cfg: OptConfigType = None) -> None:
        if isinstance(data_preprocessor, dict):
            data_preprocessor = MODELS.build(data_preprocessor)
        super().__init__(
            data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.backbone = MODELS.build(backbone)
        if not isinstance(self.backbone, VisionTransformer):
            raise TypeError('the encoder must be an MMAction2 '
                            'VisionTransformer, got '
                            f'{type(self.backbone).__name__}')
        self.with_cp = bool(
            with_cp or getattr(self.backbone, 'with_cp', False))
        embed_dims = self.backbone.embed_dims
        if isinstance(self.backbone.norm, nn.Identity):
            self.encoder_norm = build_norm_layer(encoder_norm_cfg,
                                                 embed_dims)[1]
        else:
            self.encoder_norm = None
        if self.backbone.fc_norm is not None:
            self.backbone.fc_norm.requires_grad_(False)

        self.masking = (
            MODELS.build(masking) if isinstance(masking, dict) else masking)

        out_dims = self._build_target(dict(target))

        self.decoder = MODELS.build(
            dict(
                type='VideoMAEDecoder',
                **decoder,
                in_dims=embed_dims,
                out_dims=out_dims))

    def _build_target(self, target: dict) -> int:
        """Set up the pixel or teacher target from its config (consumed);
        returns the width of a target token."""
        self.target_type = target.pop('type', 'pixel')
        if self.target_type not in TARGET_TYPES:
            raise ValueError(f'target type must be one of {TARGET_TYPES}, '
                             f'got {self.target_type!r}')
        self._teacher: Optional[_FrozenTeacher] = None
        if self.target_type == 'pixel':
            self.pixel_cfg = dict(
                norm_pix=target.pop('norm_pix', True),
                pixel_range=target.pop('pixel_range', 255.),
                eps=target.pop('eps', 1e-6))
            kt, kh, kw = tubelet_size_of(self.backbone)
            out_dims = (
                kt * kh * kw *
                self.backbone.patch_embed.projection.in_channels)
        else:
            out_dims = self._build_teacher(target)
        if target:
            raise ValueError(f'unknown {self.target_type} target options: '
                             f'{sorted(target)}')
        return out_dims

    def _build_teacher(self, target: dict) -> int:
        """Build the frozen teacher of a teacher target (its options are
        popped from ``target``); returns its width."""
        teacher_cfg = target.pop('teacher', None)
        if teacher_cfg is None:
            raise ValueError('a teacher target needs `teacher`')
        teacher = MODELS.build(copy.deepcopy(teacher_cfg))
        if not isinstance(teacher, VisionTransformer):
            raise TypeError('the teacher must be an MMAction2 '
                            'VisionTransformer, got '
                            f'{type(teacher).__name__}')
        self._teacher = _FrozenTeacher(teacher)
        self.teacher_cfg = dict(
            checkpoint=target.pop('checkpoint', None),
            prefix=target.pop('prefix', 'backbone.'),
            layer=target.pop('layer', -1),
            frame_stride=target.pop('frame_stride', 1),
            mean=target.pop('mean', None),
            std=target.pop('std', None),
            eps=target.pop('eps', 1e-6))
        depth = len(teacher.blocks)
        if not -depth <= self.teacher_cfg['layer'] < depth:
            raise ValueError(f'teacher layer {self.teacher_cfg["layer"]}'
                             f' outside its {depth} blocks')
        return teacher.embed_dims

    # ----------------------------------------------------------- teacher
    @property
    def teacher(self) -> Optional[nn.Module]:
        """The frozen teacher (None for pixel targets)."""
        return None if self._teacher is None else self._teacher.module

    def _apply(self, fn, *args, **kwargs):
        # .to()/.cuda()/.half() reach the teacher although it is no child.
        super()._apply(fn, *args, **kwargs)
        holder = getattr(self, '_teacher', None)
        if holder is not None:
            holder.module._apply(fn, *args, **kwargs)
        return self

    def load_teacher(self) -> None:
        """Initialise the teacher and load its checkpoint (strictly)."""
        holder = self._teacher
        teacher = holder.module
        path, prefix = (self.teacher_cfg['checkpoint'],
                        self.teacher_cfg['prefix'])
        if path is None:
            warnings.warn('the teacher target has no checkpoint: the '
                          'teacher keeps its random initialisation')
            teacher.init_weights()
        else:
            state_dict = select_prefix(load_state_dict(path), prefix)
            if not state_dict:
                raise ValueError(f'{path}: no weights under {prefix!r} for '
                                 'the teacher')
            teacher.load_state_dict(state_dict, strict=True)
        teacher.eval().requires_grad_(False)
        holder.loaded = True

    def init_weights(self) -> None:
        """Initialise the student (backbone, decoder, norms), then the
        teacher from its checkpoint."""
        super().init_weights()
        if self._teacher is not None:
            self.load_teacher()

    # ------------------------------------------------------------ pieces
    def _norm_stats(self) -> Tuple[Optional[Tensor], Optional[Tensor]]:
        dp = self.data_preprocessor
        if getattr(dp, '_enable_normalize', False):
            return dp.mean, dp.std
        return None, None

    def make_mask(self, inputs: Tensor) -> Tensor:
        """Draw masks for ``(B, C, T, H, W)`` clips: bool ``(B, N)``."""
        return self.masking(inputs.shape[0],
                            token_grid(self.backbone, inputs.shape),
                            inputs.device)

    def encode(self, inputs: Tensor, mask: Tensor) -> Tensor:
        """Encoder features of the visible tokens, ``(B, N_vis, C)``.

        Masked tokens are dropped right after the embedding: the blocks
        never see them.
        """
        tokens, _ = embed_tokens(self.backbone, inputs)
        if mask.shape != tokens.shape[:2]:
            raise ValueError(f'mask of shape {tuple(mask.shape)} for '
                             f'{tuple(tokens.shape[:2])} tokens')
        visible = masked_select_tokens(tokens, ~mask)
        x = run_blocks(self.backbone.blocks, visible, self.with_cp)
        norm = (
            self.encoder_norm
            if self.encoder_norm is not None else self.backbone.norm)
        return norm(x)

    def reconstruct(self, inputs: Tensor, mask: Tensor) -> Tensor:
        """Predictions for the masked tokens, ``(B, N_mask, D)``."""
        return self.decoder(self.encode(inputs, mask), mask, self.with_cp)

    @torch.no_grad()
    def teacher_features(self, inputs: Tensor) -> Tensor:
        """The teacher's token features ``(B, N, D)`` (not yet z-scored)."""
        holder = self._teacher
        if not holder.loaded:
            self.load_teacher()
        teacher, cfg = holder.module, self.teacher_cfg
        x = inputs[:, :, ::cfg['frame_stride']]
        if cfg['mean'] is not None or cfg['std'] is not None:
            mean, std = self._norm_stats()
            x = unnormalize(x, mean, std)
            channels = x.shape[1]
            t_mean = torch.as_tensor(
                cfg['mean'] or [0.] * channels, dtype=x.dtype, device=x.device)
            t_std = torch.as_tensor(
                cfg['std'] or [1.] * channels, dtype=x.dtype, device=x.device)
            x = (x - t_mean.view(1, -1, 1, 1, 1)) / t_std.view(1, -1, 1, 1, 1)
        student_grid = token_grid(self.backbone, inputs.shape)
        teacher_grid = token_grid(teacher, x.shape)
        if teacher_grid != student_grid:
            raise ValueError(
                f'the teacher sees a {teacher_grid} token grid, the student '
                f'{student_grid}; match its tubelet/patch size and '
                '`frame_stride`')
        tokens, _ = embed_tokens(teacher, x.to(inputs.dtype))
        num_blocks = cfg['layer'] % len(teacher.blocks) + 1
        return run_blocks(teacher.blocks[:num_blocks], tokens)

    def targets(self, inputs: Tensor) -> Tensor:
        """Float32 targets of all tokens, ``(B, N, D)``."""
        if self.target_type == 'teacher':
            features = self.teacher_features(inputs)
            with torch.autocast(inputs.device.type, enabled=False):
                return teacher_feature_targets(features,
                                               self.teacher_cfg['eps'])
        kt, kh, _ = tubelet_size_of(self.backbone)
        mean, std = self._norm_stats()
        with torch.autocast(inputs.device.type, enabled=False):
            return tubelet_pixel_targets(
                inputs.detach(),
                mean,
                std,
                patch_size=kh,
                tubelet_size=kt,
                **self.pixel_cfg)

    # ------------------------------------------------------------ forward
    @staticmethod
    def _flatten_clips(inputs: Tensor) -> Tuple[Tensor, int]:
        """``(B, num_clips, C, T, H, W)`` -> ``(B * num_clips, ...)``."""
        if inputs.ndim == 6:
            return inputs.flatten(0, 1), inputs.shape[1]
        if inputs.ndim != 5:
            raise ValueError('expected clips of shape (B, C, T, H, W) or '
                             f'(B, num_clips, C, T, H, W), got '
                             f'{tuple(inputs.shape)}')
        return inputs, 1

    def forward(self,
                inputs: Tensor,
                data_samples: Optional[List[ActionDataSample]] = None,
                mode: str = 'tensor',
                mask: Optional[Tensor] = None
                ) -> Union[Dict[str, Tensor], list, tuple]:
        """Masked reconstruction of a batch.

        Args:
            inputs (Tensor): Normalised clips, ``(B, [num_clips,] C, T, H,
                W)``; several clips of a sample are separate clips here.
            data_samples (list, optional): Data samples (unused for the
                loss; ``predict`` fills them).
            mode (str): ``'loss'``: ``dict(loss_mae=...)``, the float32 MSE
                over the masked tokens. ``'predict'``: the data samples
                with ``mae_loss`` (mean over the sample's clips). ``'tensor'``:
                ``(pred, mask)``, the reconstruction of the masked tokens
                ``(B', N_mask, D)`` and the bool mask ``(B', N)``.
            mask (Tensor, optional): Bool ``(B', N)`` masks to use instead of
                drawing new ones.
        """
        clips, num_clips = self._flatten_clips(inputs)
        if mask is None:
            mask = self.make_mask(clips)
        pred = self.reconstruct(clips, mask)
        if mode == 'tensor':
            return pred, mask
        if mode not in ('loss', 'predict'):
            raise RuntimeError(f'invalid mode "{mode}"; use loss, predict '
                               'or tensor')
        target = masked_select_tokens(self.targets(clips), mask, pred.shape[1])
        if mode == 'loss':
            return dict(loss_mae=F.mse_loss(pred.float(), target))
        per_clip = (pred.float() - target).pow(2).mean(dim=(1, 2))
        per_sample = per_clip.reshape(-1, num_clips).mean(1)
        if data_samples is None:
            data_samples = [ActionDataSample() for _ in per_sample]
        for sample, loss in zip(data_samples, per_sample):
            sample.set_field(loss.detach(), 'mae_loss')
        return data_samples


def count_tokens(num_frames: int,
                 size: Union[int, Sequence[int]],
                 patch_size: int = 16,
                 tubelet_size: int = 2,
                 ratio: float = 0.9) -> Dict[str, int]:
    """Tokens per clip of a ViT and their visible count under tube masking.

    Returns:
        dict: ``grid`` (T, H, W), ``tokens``, ``masked_per_slice``,
        ``visible`` (every slice keeps ``H*W - round(ratio*H*W)``).
    """
    h, w = (size, size) if isinstance(size, int) else size
    grid = (num_frames // tubelet_size, h // patch_size, w // patch_size)
    per_slice = grid[1] * grid[2]
    masked = num_masked_per_slice(ratio, per_slice)
    return dict(
        grid=grid,
        tokens=grid[0] * per_slice,
        masked_per_slice=masked,
        visible=grid[0] * (per_slice - masked))
