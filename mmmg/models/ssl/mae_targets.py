"""Pixel targets of VideoMAE: each tubelet's pixels, z-scored per tubelet
and channel.

The clip the model sees is normalised by the data preprocessor
(``(x - mean) / std``). The target undoes that normalisation, brings the
pixels to [0, 1] (VideoMAE normalises [0, 1] frames with ImageNet
statistics; MMAction2's preprocessor works on [0, 255] values, hence
``pixel_range``), cuts the clip into ``tubelet x patch x patch`` tubelets
in the patch embedding's token order and, with ``norm_pix``, z-scores every
tubelet per colour channel: ``(v - mean) / (std + eps)`` over the tubelet's
``tubelet * patch * patch`` values of that channel, with the unbiased
standard deviation and ``eps = 1e-6`` as in VideoMAE.
"""
from typing import Optional, Sequence, Union

import torch
from torch import Tensor

ArrayLike = Union[Tensor, Sequence[float], None]


def _channel_stats(value: ArrayLike, channels: int, fill: float,
                   like: Tensor) -> Tensor:
    """``value`` as a float32 ``(1, C, 1, 1, 1)`` tensor on ``like``'s
    device; ``fill`` when None."""
    if value is None:
        return torch.full((1, channels, 1, 1, 1),
                          fill,
                          dtype=torch.float32,
                          device=like.device)
    value = torch.as_tensor(value, dtype=torch.float32, device=like.device)
    return value.reshape(1, -1, 1, 1, 1).expand(1, channels, 1, 1, 1)


def unnormalize(inputs: Tensor,
                mean: ArrayLike = None,
                std: ArrayLike = None) -> Tensor:
    """Undo the preprocessor's ``(x - mean) / std`` on ``(B, C, T, H, W)``
    clips; computed in float32. Missing ``mean``/``std`` count as 0/1."""
    channels = inputs.shape[1]
    x = inputs.float()
    return (x * _channel_stats(std, channels, 1., x) +
            _channel_stats(mean, channels, 0., x))


def patchify(videos: Tensor, patch_size: int, tubelet_size: int) -> Tensor:
    """Cut ``(B, C, T, H, W)`` clips into tubelets.

    Returns:
        Tensor: Shape ``(B, N, tubelet_size * patch_size ** 2, C)`` with
        ``N = T/tubelet * H/patch * W/patch`` tokens in ``(t, h, w)`` order,
        the order of the flattened Conv3d patch embedding, and the pixels of
        a tubelet in ``(t, h, w)`` order.

    Raises:
        ValueError: A clip size is not a multiple of its tubelet size.
    """
    b, c, t, h, w = videos.shape
    if t % tubelet_size or h % patch_size or w % patch_size:
        raise ValueError(
            f'clip of {t}x{h}x{w} (frames x height x width) does not split '
            f'into {tubelet_size}x{patch_size}x{patch_size} tubelets')
    nt, nh, nw = t // tubelet_size, h // patch_size, w // patch_size
    x = videos.reshape(b, c, nt, tubelet_size, nh, patch_size, nw, patch_size)
    # (b, nt, nh, nw, tubelet, patch_h, patch_w, c)
    x = x.permute(0, 2, 4, 6, 3, 5, 7, 1)
    return x.reshape(b, nt * nh * nw, tubelet_size * patch_size**2, c)


def tubelet_pixel_targets(inputs: Tensor,
                          mean: ArrayLike = None,
                          std: ArrayLike = None,
                          patch_size: int = 16,
                          tubelet_size: int = 2,
                          norm_pix: bool = True,
                          pixel_range: float = 255.,
                          eps: float = 1e-6) -> Tensor:
    """Reconstruction targets of every token of normalised clips.

    Args:
        inputs (Tensor): Clips as the model gets them, ``(B, C, T, H, W)``,
            normalised with ``mean``/``std``.
        mean (Tensor | Sequence[float], optional): Per-channel mean of the
            data preprocessor. Defaults to None (0).
        std (Tensor | Sequence[float], optional): Per-channel std of the
            data preprocessor. Defaults to None (1).
        patch_size (int): Spatial tubelet size. Defaults to 16.
        tubelet_size (int): Temporal tubelet size. Defaults to 2.
        norm_pix (bool): Z-score every tubelet per channel. Defaults to True.
        pixel_range (float): Pixel values after unnormalising are divided by
            it (255 brings MMAction2's [0, 255] to VideoMAE's [0, 1]).
            Defaults to 255.
        eps (float): Added to the standard deviation. Defaults to 1e-6
            (VideoMAE).

    Returns:
        Tensor: Float32, ``(B, N, tubelet_size * patch_size ** 2 * C)``; the
        last axis runs over pixels (``t, h, w``) with the channel fastest.
    """
    pixels = unnormalize(inputs, mean, std) / pixel_range
    tubelets = patchify(pixels, patch_size, tubelet_size)
    if norm_pix:
        mu = tubelets.mean(dim=2, keepdim=True)
        sigma = tubelets.var(dim=2, unbiased=True, keepdim=True).sqrt()
        tubelets = (tubelets - mu) / (sigma + eps)
    return tubelets.flatten(2)


def teacher_feature_targets(features: Tensor, eps: float = 1e-6) -> Tensor:
    """Teacher token features z-scored per token over their channels
    (a LayerNorm without affine parameters), in float32.

    Args:
        features (Tensor): ``(B, N, D)`` token features.
        eps (float): Added to the variance. Defaults to 1e-6.
    """
    features = features.float()
    return torch.nn.functional.layer_norm(
        features, features.shape[-1:], eps=eps)


def masked_select_tokens(tokens: Tensor,
                         mask: Tensor,
                         num: Optional[int] = None) -> Tensor:
    """The tokens of ``(B, N, D)`` where the ``(B, N)`` bool ``mask`` is
    True, as ``(B, num, D)``; every row must select the same number."""
    if num is None:
        num = int(mask[0].sum())
    return tokens[mask].reshape(tokens.shape[0], num, tokens.shape[-1])
