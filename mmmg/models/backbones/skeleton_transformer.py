"""A dual-stream (temporal tokens + spatial tokens) skeleton transformer, the
encoder of USDRL-style skeleton pre-training."""
import math
from typing import Optional

import torch
from mmaction.registry import MODELS
from mmengine.model import BaseModule
from torch import Tensor, nn

from mmmg.keypoints import bone_parents
from ..utils.skeleton_streams import STREAMS, skeleton_stream


def sinusoidal_positions(length: int, dims: int) -> Tensor:
    """``[length, dims]`` sine/cosine position codes (Vaswani et al.)."""
    pos = torch.arange(length, dtype=torch.float32)[:, None]
    freq = torch.exp(
        torch.arange(0, dims, 2, dtype=torch.float32) *
        (-math.log(10000.0) / dims))
    codes = torch.zeros(length, dims)
    codes[:, 0::2] = torch.sin(pos * freq)
    codes[:, 1::2] = torch.cos(pos * freq)[:, :dims // 2]
    return codes


def _embedding(in_dims: int, dims: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(in_dims, dims), nn.LayerNorm(dims), nn.ReLU(inplace=True),
        nn.Linear(dims, dims))


def _encoder(dims: int, depth: int, heads: int, mlp_ratio: float,
             dropout: float) -> nn.TransformerEncoder:
    layer = nn.TransformerEncoderLayer(
        dims,
        heads,
        int(dims * mlp_ratio),
        dropout,
        activation='gelu',
        batch_first=True,
        norm_first=True)
    # Pre-norm layers leave the residual stream unnormalised: end in a norm.
    return nn.TransformerEncoder(
        layer, depth, norm=nn.LayerNorm(dims), enable_nested_tensor=False)


@MODELS.register_module()
class DualStreamSkeletonTransformer(BaseModule):
    """Temporal-token and spatial-token transformer streams over a skeleton
    sequence, max-pooled and concatenated.

    A clip ``[T, V, C]`` (coordinates and score, see
    ``FormatSkeletonSequence``) is read two ways: ``T`` temporal tokens (one
    frame's ``V * C`` values each) model motion dynamics, and ``V`` spatial
    tokens (one point's trajectory, ``T * C`` values) model joint
    structure. Each stream embeds its tokens with a small MLP, adds position
    codes (sinusoidal over time, learned per point) and runs a pre-norm
    transformer. Padded frames (all scores 0) are masked out of temporal
    attention and pooling. The output is ``[max over frames, max over
    points]``, ``2 * embed_dims`` wide; :meth:`split_streams` recovers the
    two halves.

    The input stream (``joint``, ``bone`` or ``motion``) is derived inside
    the model, so one annotation file and pipeline serve all three.

    Args:
        num_joints (int): Points per frame ``V``.
        seq_len (int): Frames per clip ``T`` (fixed: a spatial token holds
            the whole trajectory).
        in_channels (int): ``C``, the score last. Defaults to 3.
        stream (str): ``'joint'``, ``'bone'`` or ``'motion'``.
        layout (str, optional): Keypoint layout, needed for bones.
        embed_dims (int): Token width. Defaults to 256.
        depth (int): Transformer layers per stream. Defaults to 2.
        num_heads (int): Attention heads. Defaults to 8.
        mlp_ratio (float): Feed-forward width over ``embed_dims``.
            Defaults to 2.
        dropout (float): Dropout in the transformer layers. Defaults to 0.1.
        frozen (bool): Keep every weight fixed and the module in eval mode
            (linear probing and feature extraction). Defaults to False.
        init_cfg (dict, optional): E.g. ``dict(type='Pretrained',
            checkpoint=..., prefix='backbone.')`` to load a pre-trained
            encoder.
    """

    def __init__(self,
                 num_joints: int,
                 seq_len: int,
                 in_channels: int = 3,
                 stream: str = 'joint',
                 layout: Optional[str] = None,
                 embed_dims: int = 256,
                 depth: int = 2,
                 num_heads: int = 8,
                 mlp_ratio: float = 2.0,
                 dropout: float = 0.1,
                 frozen: bool = False,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if stream not in STREAMS:
            raise ValueError(f'stream must be one of {STREAMS}, got '
                             f'{stream!r}')
        if stream == 'bone' and layout is None:
            raise ValueError('the bone stream needs `layout`, the keypoint '
                             'layout whose edges define the bones')
        self.num_joints, self.seq_len = num_joints, seq_len
        self.in_channels, self.stream = in_channels, stream
        self.embed_dims = embed_dims
        self.parents = bone_parents(layout) if layout else ()
        if self.parents and len(self.parents) != num_joints:
            raise ValueError(f'layout {layout!r} has {len(self.parents)} '
                             f'points, not num_joints={num_joints}')
        self.frozen = frozen
        self.temporal_embed = _embedding(num_joints * in_channels, embed_dims)
        self.spatial_embed = _embedding(seq_len * in_channels, embed_dims)
        self.register_buffer(
            'temporal_pos',
            sinusoidal_positions(seq_len, embed_dims),
            persistent=False)
        self.spatial_pos = nn.Parameter(torch.zeros(1, num_joints, embed_dims))
        self.temporal = _encoder(embed_dims, depth, num_heads, mlp_ratio,
                                 dropout)
        self.spatial = _encoder(embed_dims, depth, num_heads, mlp_ratio,
                                dropout)
        if frozen:
            self.requires_grad_(False)

    @property
    def out_channels(self) -> int:
        return 2 * self.embed_dims

    def init_weights(self) -> None:
        super().init_weights()
        if not (self.init_cfg and self.init_cfg.get('type') == 'Pretrained'):
            nn.init.trunc_normal_(self.spatial_pos, std=0.02)

    def train(self, mode: bool = True) -> 'DualStreamSkeletonTransformer':
        return super().train(mode and not self.frozen)

    def split_streams(self, features: Tensor):
        """``(temporal, spatial)`` halves of :meth:`forward`'s output."""
        return features[..., :self.embed_dims], features[..., self.embed_dims:]

    def forward(self, x: Tensor) -> Tensor:
        """Encode clips.

        Args:
            x (Tensor): ``[B, T, V, C]``.

        Returns:
            Tensor: ``[B, 2 * embed_dims]``.
        """
        if x.shape[1:] != (self.seq_len, self.num_joints, self.in_channels):
            raise ValueError(f'expected clips of shape [B, {self.seq_len}, '
                             f'{self.num_joints}, {self.in_channels}], got '
                             f'{list(x.shape)}')
        with torch.set_grad_enabled(torch.is_grad_enabled()
                                    and not self.frozen):
            return self._encode(skeleton_stream(x, self.stream, self.parents))

    def _encode(self, x: Tensor) -> Tensor:
        b, t, v, c = x.shape
        padded = x[..., -1].amax(dim=-1) <= 0  # [B, T]
        # A clip with no person at all attends to everything, not nothing.
        padded = padded & ~padded.all(dim=1, keepdim=True)
        tokens_t = self.temporal_embed(x.reshape(b, t, v * c))
        tokens_t = self.temporal(
            tokens_t + self.temporal_pos[:t], src_key_padding_mask=padded)
        tokens_t = tokens_t.masked_fill(padded[..., None], float('-inf'))
        tokens_s = self.spatial_embed(
            x.permute(0, 2, 1, 3).reshape(b, v, t * c))
        tokens_s = self.spatial(tokens_s + self.spatial_pos)
        return torch.cat([tokens_t.amax(dim=1), tokens_s.amax(dim=1)], -1)
