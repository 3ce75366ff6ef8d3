"""Running MMAction2's ``VisionTransformer`` on a subset of its tokens, and
with gradient checkpointing.

MMAction2's ViT (the VideoMAE encoder, ``mmaction.models.VisionTransformer``)
adds a fixed sinusoidal position embedding (a persistent buffer; a learnable
one with ``use_learnable_pos_emb``) to the Conv3d tubelet embedding, runs its
blocks on all tokens and has no gradient checkpointing. The helpers here use
its own modules (so the state-dict keys are unchanged) to

- embed a clip into position-encoded tokens (:func:`embed_tokens`), which
  the masked pre-training then thins to the visible ones;
- run the blocks, each optionally under ``torch.utils.checkpoint``
  (:func:`run_blocks`): activations inside a block are recomputed in the
  backward pass instead of being kept.

:class:`VisionTransformerCP` is the stock ViT with a ``with_cp`` option, for
fine-tuning at full token count; its weights are the stock ViT's.
"""
from typing import Iterable, Tuple

import torch
import torch.nn.functional as F
from mmaction.models.backbones.vit_mae import VisionTransformer
from mmaction.registry import MODELS
from torch import Tensor, nn
from torch.utils.checkpoint import checkpoint


def tubelet_size_of(vit: nn.Module) -> Tuple[int, int, int]:
    """``(tubelet, patch_h, patch_w)`` of a ViT's Conv3d patch embedding."""
    return tuple(int(k) for k in vit.patch_embed.projection.kernel_size)


def token_grid(vit: nn.Module,
               clip_shape: Iterable[int]) -> Tuple[int, int, int]:
    """Token grid ``(T, H, W)`` of a ``(B, C, T, H, W)`` clip shape."""
    kt, kh, kw = tubelet_size_of(vit)
    _, _, t, h, w = clip_shape
    return t // kt, h // kh, w // kw


def position_embedding(vit: nn.Module, grid: Tuple[int, int, int]) -> Tensor:
    """The ViT's position embedding for ``grid``, ``(1, N, C)``.

    As in the stock forward, a frame size other than the configured one is
    handled by bicubic resizing of the embedding per temporal slice. The
    number of temporal slices must be the configured one.
    """
    pos = vit.pos_embed
    num_t, num_h, num_w = grid
    grid_h, grid_w = vit.grid_size
    if pos.shape[1] != num_t * grid_h * grid_w:
        raise ValueError(
            f'the ViT was built for {pos.shape[1] // (grid_h * grid_w)} '
            f'temporal token slices (num_frames / tubelet_size), the clip '
            f'gives {num_t}')
    if (num_h, num_w) == (grid_h, grid_w):
        return pos
    pos = pos.reshape(num_t, grid_h, grid_w, -1).permute(0, 3, 1, 2)
    pos = F.interpolate(
        pos, size=(num_h, num_w), mode='bicubic', align_corners=False)
    return pos.permute(0, 2, 3, 1).reshape(1, num_t * num_h * num_w, -1)


def embed_tokens(vit: nn.Module,
                 x: Tensor) -> Tuple[Tensor, Tuple[int, int, int]]:
    """Tubelet embedding + position embedding (+ its dropout).

    Args:
        vit (nn.Module): An MMAction2 ``VisionTransformer``.
        x (Tensor): Clips ``(B, C, T, H, W)``.

    Returns:
        tuple: Tokens ``(B, N, C)`` in ``(t, h, w)`` order and the grid.
    """
    grid = token_grid(vit, x.shape)
    tokens = vit.patch_embed(x)[0]
    tokens = tokens + position_embedding(vit, grid).to(tokens.dtype)
    return vit.pos_drop(tokens), grid


def run_blocks(blocks: Iterable[nn.Module],
               x: Tensor,
               with_cp: bool = False) -> Tensor:
    """Run transformer blocks in turn; with ``with_cp`` (and autograd on)
    each block is checkpointed (non-reentrant; the RNG state is restored
    for the recomputation, so dropout / drop path agree)."""
    use_cp = with_cp and torch.is_grad_enabled()
    for blk in blocks:
        if use_cp:
            x = checkpoint(blk, x, use_reentrant=False)
        else:
            x = blk(x)
    return x


@MODELS.register_module()
class VisionTransformerCP(VisionTransformer):
    """MMAction2's ``VisionTransformer`` with gradient checkpointing.

    Same modules and state-dict keys as the stock backbone (a checkpoint of
    either loads into the other); with ``with_cp`` every block's activations
    are recomputed in the backward pass, which cuts the activation memory of
    fine-tuning at full token count (see ``benchmarks/bench_mae_memory.py``)
    for about one extra forward pass of compute.

    Args:
        with_cp (bool): Checkpoint every block. Defaults to False.
        **kwargs: Passed to ``VisionTransformer``.
    """

    def __init__(self, *args, with_cp: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.with_cp = with_cp

    def forward(self, x: Tensor) -> Tensor:
        b = x.shape[0]
        tokens, (_, h, w) = embed_tokens(self, x)
        tokens = run_blocks(self.blocks, tokens, self.with_cp
                            and self.training)
        tokens = self.norm(tokens)
        if self.return_feat_map:
            return tokens.reshape(b, -1, h, w,
                                  self.embed_dims).permute(0, 4, 1, 2, 3)
        if self.fc_norm is not None:
            return self.fc_norm(tokens.mean(1))
        return tokens[:, 0]
