"""The light decoder of VideoMAE: visible tokens in, predictions for the
masked tokens out."""
from typing import Dict, Tuple

import torch
from mmaction.models.backbones.vit_mae import Block, get_sinusoid_encoding
from mmaction.registry import MODELS
from mmaction.utils import ConfigType
from mmcv.cnn import build_norm_layer
from torch import Tensor, nn

from .mae_targets import masked_select_tokens
from .vit_encoder import run_blocks


@MODELS.register_module()
class VideoMAEDecoder(nn.Module):
    """A narrow transformer that predicts the targets of masked tokens.

    The encoder's visible tokens are projected to the decoder width (a
    linear layer without bias); every masked position gets the shared
    learnable mask token. Both receive a fixed sinusoidal position embedding
    of their position in the full ``(t, h, w)`` token sequence (computed for
    the clip at hand, so it is not part of the state dict). The sequence
    ``[visible..., masked...]`` runs through ``depth`` blocks (MMAction2's
    ViT block), and the masked part through a LayerNorm and a linear head.

    Args:
        in_dims (int): Encoder width.
        out_dims (int): Target size per token (``tubelet * patch ** 2 * 3``
            for pixels, the teacher width for features).
        embed_dims (int): Decoder width. Defaults to 384 (VideoMAE, ViT-B).
        depth (int): Blocks. Defaults to 4.
        num_heads (int): Attention heads. Defaults to 6.
        mlp_ratio (float): FFN width / embed_dims. Defaults to 4.
        norm_cfg (dict): Norm layers. Defaults to LN with eps 1e-6.
    """

    def __init__(
        self,
        in_dims: int,
        out_dims: int,
        embed_dims: int = 384,
        depth: int = 4,
        num_heads: int = 6,
        mlp_ratio: float = 4.,
        norm_cfg: ConfigType = dict(type='LN', eps=1e-6)
    ) -> None:
        super().__init__()
        self.in_dims, self.out_dims = in_dims, out_dims
        self.embed_dims = embed_dims
        self.embed = nn.Linear(in_dims, embed_dims, bias=False)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, embed_dims))
        self.blocks = nn.ModuleList([
            Block(
                embed_dims=embed_dims,
                num_heads=num_heads,
                mlp_ratio=mlp_ratio,
                qkv_bias=True,
                norm_cfg=norm_cfg) for _ in range(depth)
        ])
        self.norm = build_norm_layer(norm_cfg, embed_dims)[1]
        self.head = nn.Linear(embed_dims, out_dims)
        self._pos_cache: Dict[Tuple[int, str], Tensor] = {}
        self.init_weights()

    def init_weights(self) -> None:
        """Xavier-uniform linear weights, zero biases, unit LayerNorms and a
        truncated-normal (std 0.02) mask token, as VideoMAE's decoder."""
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.LayerNorm):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
        nn.init.trunc_normal_(self.mask_token, std=.02)

    def position_embedding(self, num_tokens: int, device) -> Tensor:
        """Sinusoidal embedding ``(1, num_tokens, embed_dims)``."""
        key = (num_tokens, str(device))
        if key not in self._pos_cache:
            self._pos_cache[key] = get_sinusoid_encoding(
                num_tokens, self.embed_dims).to(device)
        return self._pos_cache[key]

    def forward(self,
                visible: Tensor,
                mask: Tensor,
                with_cp: bool = False) -> Tensor:
        """Predict the masked tokens.

        Args:
            visible (Tensor): Encoder output of the visible tokens,
                ``(B, N_vis, in_dims)``, in token order.
            mask (Tensor): Bool ``(B, N)``, True on masked tokens; the same
                count on every row.
            with_cp (bool): Checkpoint the blocks. Defaults to False.

        Returns:
            Tensor: ``(B, N_mask, out_dims)``, masked tokens in token order.
        """
        b, num_tokens = mask.shape
        num_mask = int(mask[0].sum())
        x = self.embed(visible)
        pos = self.position_embedding(num_tokens, x.device).to(x.dtype)
        pos = pos.expand(b, -1, -1)
        pos_vis = masked_select_tokens(pos, ~mask, num_tokens - num_mask)
        pos_mask = masked_select_tokens(pos, mask, num_mask)
        x = torch.cat([
            x + pos_vis,
            self.mask_token.to(x.dtype).expand(b, num_mask, -1) + pos_mask
        ],
                      dim=1)
        x = run_blocks(self.blocks, x, with_cp)
        return self.head(self.norm(x[:, -num_mask:]))
