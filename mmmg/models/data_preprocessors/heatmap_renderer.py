"""Torch twin of :func:`mmmg.datasets.transforms.heatmaps.render_heatmaps`.

Same cut, same formulas (limb distances measured from a point of the
segment near the patch, for float32 accuracy), the maps equal to float32
rounding; batched over samples, runs on any device. Points and limbs are
drawn as patches sized to their cut (limbs in power-of-two size classes)
and merged with ``scatter_reduce(amax)``, which also merges overlapping
persons, so unlike the numpy version no loop over persons is needed.
"""
from typing import Sequence, Tuple

import torch
from torch import Tensor

from mmmg.datasets.transforms.heatmaps import EPS


def _cut(lo: Tensor, hi: Tensor, radius: float,
         size: int) -> Tuple[Tensor, Tensor]:
    # int() truncation of GeneratePoseTarget, see the numpy version.
    first = torch.clamp(torch.trunc(lo - radius), 0, size).long()
    last = torch.clamp(torch.trunc(hi + radius), -1, size - 1).long()
    return first, last


def _patch_axis(first: Tensor, last: Tensor,
                size: int) -> Tuple[Tensor, Tensor]:
    length = int((last - first).max()) + 1
    start = torch.clamp(first, max=size - length)
    pos = start[:, None] + torch.arange(length, device=first.device)
    inside = (pos >= first[:, None]) & (pos <= last[:, None])
    return pos, inside


def _scatter_max(flat: Tensor, channel: Tensor, xs: Tensor, ys: Tensor,
                 patch: Tensor, width: int, height: int) -> None:
    idx = (channel[:, None] * height + ys)[:, :, None] * width + xs[:, None, :]
    flat.scatter_reduce_(0, idx.reshape(-1), patch.reshape(-1), 'amax')


def _draw_points(flat: Tensor, channel: Tensor, x: Tensor, y: Tensor,
                 value: Tensor, sigma: float, height: int, width: int) -> None:
    radius = 3 * sigma
    x0, x1 = _cut(x, x, radius, width)
    y0, y1 = _cut(y, y, radius, height)
    keep = (value >= EPS) & (x0 <= x1) & (y0 <= y1)
    if not bool(keep.any()):
        return
    channel, x, y, value, x0, x1, y0, y1 = (
        v[keep] for v in (channel, x, y, value, x0, x1, y0, y1))
    xs, in_x = _patch_axis(x0, x1, width)
    ys, in_y = _patch_axis(y0, y1, height)
    k = -0.5 / sigma**2
    gx = torch.exp((xs.float() - x[:, None])**2 * k) * in_x
    gy = torch.exp((ys.float() - y[:, None])**2 * k) * (in_y * value[:, None])
    patch = gy[:, :, None] * gx[:, None, :]
    _scatter_max(flat, channel, xs, ys, patch, width, height)


def _draw_segments(flat: Tensor, channel: Tensor, ox: Tensor, oy: Tensor,
                   ox_frac: Tensor, oy_frac: Tensor, dx: Tensor, dy: Tensor,
                   t_lo: Tensor, t_hi: Tensor, value: Tensor, x0: Tensor,
                   x1: Tensor, y0: Tensor, y1: Tensor, sigma: float,
                   height: int, width: int) -> None:
    xs, in_x = _patch_axis(x0, x1, width)
    ys, in_y = _patch_axis(y0, y1, height)
    len2 = dx * dx + dy * dy
    inv = torch.where(len2 > 0, 1 / len2, 0.)
    # Pixels relative to o (whole pixels first, so this is exact).
    px = (xs - ox[:, None]).float() - ox_frac[:, None]
    py = (ys - oy[:, None]).float() - oy_frac[:, None]
    # Projection of each pixel onto the segment (0 at o), clamped to the
    # segment: the distance is to the nearest end outside, to the line
    # inside.
    tx, ty = px * (dx * inv)[:, None], py * (dy * inv)[:, None]
    t = torch.clamp(tx[:, None, :] + ty[:, :, None], t_lo[:, None, None],
                    t_hi[:, None, None])
    ex = px[:, None, :] - t * dx[:, None, None]
    ey = py[:, :, None] - t * dy[:, None, None]
    d2 = ex.square_().add_(ey.square_())
    patch = d2.mul_(-0.5 / sigma**2).exp_()
    patch *= (in_y * value[:, None])[:, :, None]
    patch *= in_x[:, None, :]
    _scatter_max(flat, channel, xs, ys, patch, width, height)


def _size_class(n: Tensor) -> Tensor:
    # log2 of the power-of-two patch side, from 8 up.
    return torch.clamp(torch.ceil(torch.log2(n.float())), min=3).long()


def _draw_limbs(flat: Tensor, channel: Tensor, a: Tensor, b: Tensor,
                a_val: Tensor, b_val: Tensor, sigma: float, height: int,
                width: int) -> None:
    radius = 3 * sigma
    ax, ay, bx, by = a[:, 0], a[:, 1], b[:, 0], b[:, 1]
    value = torch.minimum(a_val, b_val)
    short = (ax - bx)**2 + (ay - by)**2 < 1
    bx, by = torch.where(short, ax, bx), torch.where(short, ay, by)
    x0, x1 = _cut(torch.minimum(ax, bx), torch.maximum(ax, bx), radius, width)
    y0, y1 = _cut(torch.minimum(ay, by), torch.maximum(ay, by), radius, height)
    keep = (value >= EPS) & (x0 <= x1) & (y0 <= y1)
    value = torch.where(short, a_val, value)
    channel, ax, ay, bx, by, value, x0, x1, y0, y1 = (
        v[keep] for v in (channel, ax, ay, bx, by, value, x0, x1, y0, y1))
    # Pixels are measured from the point o of the segment nearest to the
    # cut's centre, as in the numpy version: the terms stay small, so
    # float32 keeps long limbs with far-away ends exact. o is found in
    # float64 where the device has it.
    wide = torch.float32 if ax.device.type == 'mps' else torch.float64
    a = torch.stack([ax, ay]).to(wide)
    seg = torch.stack([bx, by]).to(wide) - a
    len2 = (seg * seg).sum(0)
    inv = torch.where(len2 > 0, 1 / len2, 0.)
    centre = torch.stack([x0 + x1, y0 + y1]).to(wide) / 2 - a
    t_o = torch.clamp((centre * seg).sum(0) * inv, 0, 1)
    o = a + t_o * seg
    o_int = torch.round(o)
    o_frac = (o - o_int).float()
    o_int = o_int.long()
    seg, t_o = seg.float(), t_o.float()
    size = _size_class(x1 - x0 + 1) * 64 + _size_class(y1 - y0 + 1)
    for key in torch.unique(size).tolist():
        sel = size == key
        _draw_segments(flat, channel[sel], o_int[0, sel], o_int[1, sel],
                       o_frac[0, sel], o_frac[1, sel], seg[0, sel], seg[1,
                                                                        sel],
                       -t_o[sel], 1 - t_o[sel], value[sel], x0[sel], x1[sel],
                       y0[sel], y1[sel], sigma, height, width)


def render_heatmaps(keypoint: Tensor,
                    value: Tensor,
                    img_shape: Tuple[int, int],
                    sigma: float,
                    with_kp: bool = True,
                    skeletons: Sequence[Tuple[int, int]] = ()) -> Tensor:
    """Draw joint and limb heatmaps of a batch, max-pooled over persons.

    The arguments and maps of the numpy
    :func:`~mmmg.datasets.transforms.heatmaps.render_heatmaps`, with a
    leading batch axis: ``keypoint`` is ``[B, M, T, V, 2]``, ``value``
    ``[B, M, T, V]`` (padding persons have value 0).

    Returns:
        Tensor: Heatmaps of shape ``[B, T, C, H, W]`` on the input's device.
    """
    batch, num_person, num_frame, num_kp = value.shape
    kp_channels = num_kp if with_kp else 0
    num_c = kp_channels + len(skeletons)
    height, width = img_shape
    device = keypoint.device
    flat = keypoint.new_zeros(batch * num_frame * num_c * height * width)
    if flat.numel() == 0:
        return flat.view(batch, num_frame, num_c, height, width)
    missing = ~keypoint.isfinite().all(-1)
    keypoint = keypoint.masked_fill(missing[..., None], 0)
    value = value.masked_fill(missing, 0)
    # Channel of (sample, frame) in the flat [B * T * C] map stack.
    frame_base = (torch.arange(batch * num_frame, device=device) *
                  num_c).view(batch, 1, num_frame,
                              1).expand(-1, num_person, -1, -1)
    if with_kp:
        channel = frame_base + torch.arange(num_kp, device=device)
        _draw_points(flat, channel.reshape(-1),
                     keypoint[..., 0].reshape(-1), keypoint[...,
                                                            1].reshape(-1),
                     value.reshape(-1), sigma, height, width)
    if skeletons:
        start, end = torch.tensor(skeletons, device=device).T
        channel = (frame_base + kp_channels +
                   torch.arange(len(skeletons), device=device)).reshape(-1)
        _draw_limbs(flat, channel, keypoint[..., start, :].reshape(-1, 2),
                    keypoint[..., end, :].reshape(-1,
                                                  2), value[...,
                                                            start].reshape(-1),
                    value[..., end].reshape(-1), sigma, height, width)
    return flat.view(batch, num_frame, num_c, height, width)
