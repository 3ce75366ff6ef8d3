"""Gaussian joint and limb heatmaps, vectorised over frames and keypoints.

The maps are those of MMAction2's ``GeneratePoseTarget`` (same 3-sigma cut,
same out-of-frame behaviour, same values up to float32 rounding), but each
point or limb is drawn as a small patch over its cut only: all patches of
a size class are computed in a few array operations over all frames and
written into the zeroed output at once.

Most of a training sample's cost is then memory: a 48x36x56x56 float32
stack is 21.7 MB to zero, hand from the loader worker to the main process
and copy to the device. The maps are laid out channels first in memory, so
that ``FormatShape('NCTHW_Heatmap')`` needs no copy and its result is
contiguous, and the opt-in ``dtype='uint8'`` stores them in a quarter of
the bytes; the model's data preprocessor casts them back on the device.
In a loader worker the maps are drawn straight into shared memory, so that
handing them to the main process copies nothing (``PackMGInputs`` keeps
the shared storage).
"""
import functools
from dataclasses import fields
from typing import Dict, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmaction.registry import TRANSFORMS
from mmcv.transforms import BaseTransform

from .heatmap_spec import HeatmapSpec
from .transform_repr import transform_repr

# Points and limbs whose (smaller) score is below this are not drawn.
EPS = 1e-4
# The map dtypes and the factor a map value of 1 is stored as: uint8 maps
# hold round(255 v), so ``ActionDataPreprocessor(std=255)`` restores them.
MAP_SCALE = {'float32': 1., 'uint8': 255.}


def _cut(lo: np.ndarray, hi: np.ndarray, radius: float,
         size: Union[int, np.ndarray]) -> Tuple[np.ndarray, np.ndarray]:
    """First and last pixel (inclusive, as float32) of a cut along one axis.

    ``GeneratePoseTarget`` cuts at ``int(lo - 3 sigma)`` and
    ``int(hi + 3 sigma)``; ``int`` truncates towards zero, so a point up to
    one pixel left of ``-3 sigma`` still touches column 0. Kept for
    equality.
    """
    first = np.trunc(lo - radius)
    np.maximum(first, 0, out=first)
    np.minimum(first, size, out=first)
    last = np.trunc(hi + radius)
    np.maximum(last, -1, out=last)
    np.minimum(last, size - 1, out=last)
    return first, last


def _store(maps: np.ndarray, index: np.ndarray, patch: np.ndarray,
           fresh: bool) -> None:
    """Write the float32 patches ``patch`` (values in [0, 1]) to
    ``maps[index]``: overwrite ``fresh`` maps, else keep the larger value.
    uint8 maps get ``round(255 v)``."""
    if maps.dtype == np.uint8:
        patch *= np.float32(255)
        patch += np.float32(.5)  # the cast on assignment truncates
    if fresh:
        maps[index] = patch
    else:
        maps[index] = np.maximum(maps[index], patch)


# The arrays below are laid out patch axes first, points or limbs last, so
# that numpy's inner loops run over the (many) points instead of the (few)
# pixels of a patch side.


def _draw_points(flat: np.ndarray, base: np.ndarray, xy: np.ndarray,
                 value: np.ndarray, sigma: float, height: int, width: int,
                 fresh: bool) -> None:
    """Draw Gaussian points ``xy[:, i]`` (shape ``[2, N]``), each into the
    map at flat offset ``base[i]``.

    Every point gets a square patch of one size that holds any 3-sigma cut;
    the patch is shifted back into the frame at the borders and its pixels
    beyond the cut are 0. ``exp(-(dx^2 + dy^2) k)`` factorises, so a patch
    is the outer product of two 1-d Gaussians. Points below ``EPS`` are
    drawn with value 0. A map gets at most one patch per call: ``fresh``
    maps are still zero and are simply overwritten, others max-merged.
    """
    radius = 3 * sigma
    # trunc(c + r) - trunc(c - r) <= ceil(2 r): the widest cut.
    size = int(2 * radius) + 2
    size_x, size_y = min(size, width), min(size, height)
    size = max(size_x, size_y)
    # The cut of _cut(), unclipped: the patches lie in the frame anyway.
    first = np.trunc(xy - radius)
    last = np.trunc(xy + radius)
    start = np.minimum(
        first, np.array([[width - size_x], [height - size_y]], np.float32))
    np.maximum(start, 0, out=start)
    # [size, 2, N]: pixel positions of the patches along x and y (beyond
    # size_x or size_y only in frames narrower than a patch; cut off
    # below).
    pos = np.arange(size, dtype=np.float32)[:, None, None] + start
    gauss = np.square(pos - xy)
    gauss *= np.float32(-0.5 / sigma**2)
    np.exp(gauss, out=gauss)
    gauss *= (pos >= first) & (pos <= last)
    gauss[:, 1] *= np.where(value >= EPS, value, np.float32(0))
    patch = gauss[:size_y, None, 1] * gauss[:size_x, 0]
    pos = pos.astype(np.intp)
    index = (pos[:size_y, 1] * width + base)[:, None] + pos[:size_x, 0]
    _store(flat, index, patch, fresh)


# A patch pixel beyond the cut gets this coordinate (in units of
# sqrt(2) sigma): its distance to the limb is huge, its value exactly 0.
_FAR = np.float32(1e15)
# float32 exp() is exactly 0 below this; clamping to it keeps numpy's exp
# on its fast path, which huge negative arguments leave.
_FLOOR = np.float32(-104)


def _size_class(n: np.ndarray) -> np.ndarray:
    # Power-of-two patch sides from 8 up: few size classes to loop over, at
    # most 4x wasted area per patch (more for the tiniest limbs, which are
    # cheap).
    return np.maximum(2**np.ceil(np.log2(n)), 8)


def _windows(flat: np.ndarray, height: int, width: int,
             row: int) -> np.ndarray:
    """``[N, height, width]`` view: the patch whose first pixel is at flat
    offset ``i``, for every ``i`` it fits after."""
    span = (height - 1) * row + width
    item = flat.itemsize
    return np.ndarray((flat.size - span + 1, height, width),
                      flat.dtype,
                      flat,
                      strides=(item, row * item, item))


def _draw_limbs(flat: np.ndarray, base: np.ndarray, a: np.ndarray,
                b: np.ndarray, a_val: np.ndarray, b_val: np.ndarray,
                sigma: float, height: int, width: int, fresh: bool) -> None:
    """Draw Gaussian segments ``a[i]``-``b[i]`` (shape ``[N, 2]``), each
    into the map at flat offset ``base[i]``, as :func:`_draw_points` does
    points.

    Each limb is drawn as a patch over its cut (its bounding box grown by
    3 sigma), of a power-of-two size per side; the limbs of one size class
    are drawn together. Limbs below ``EPS`` or out of the frame are
    skipped.
    """
    radius = 3 * sigma
    ax, ay, bx, by = a[:, 0], a[:, 1], b[:, 0], b[:, 1]
    value = np.minimum(a_val, b_val)
    # As in GeneratePoseTarget, a limb shorter than one pixel is drawn as
    # its first point, at that point's own score.
    short = (ax - bx)**2 + (ay - by)**2 < 1
    bx, by = np.where(short, ax, bx), np.where(short, ay, by)
    x0, x1 = _cut(np.minimum(ax, bx), np.maximum(ax, bx), radius, width)
    y0, y1 = _cut(np.minimum(ay, by), np.maximum(ay, by), radius, height)
    keep = (value >= EPS) & (x0 <= x1) & (y0 <= y1)
    value = np.where(short, a_val, value)
    # (Cuts of skipped limbs may be empty.)
    size_x = np.minimum(_size_class(np.maximum(x1 - x0 + 1, 1)), width)
    size_y = np.minimum(_size_class(np.maximum(y1 - y0 + 1, 1)), height)
    # Sort the drawn limbs by size class; skipped ones sort first, as -1.
    key = np.where(keep, size_y * 1024 + size_x, -1).astype(np.intp)
    order = np.argsort(key, kind='stable')
    key = key[order]
    skipped = int(np.searchsorted(key, 0))
    order, key = order[skipped:], key[skipped:]
    if not len(key):
        return
    # Patch corner: the cut's corner, shifted back into the frame.
    sx = np.minimum(x0, width - size_x)
    sy = np.minimum(y0, height - size_y)
    start = base + (sy * width + sx).astype(np.intp)
    geometry = _limb_geometry(
        np.stack([ax, ay]), np.stack([bx, by]),
        np.stack([x0, x1, y0, y1, sx, sy]), value, sigma)
    _draw_limb_patches(flat, start[order], key, geometry[:, order], sigma,
                       width, fresh)


def _limb_geometry(a: np.ndarray, b: np.ndarray, cut: np.ndarray,
                   value: np.ndarray, sigma: float) -> np.ndarray:
    """The float32 rows that :func:`_draw_limb_patches` reads, for limbs
    from ``a`` to ``b`` (``[2, N]``) with cuts and patch corners ``cut``
    (``[6, N]``: x0, x1, y0, y1, sx, sy).

    Pixels are measured from the point o of the segment nearest to the
    cut's centre (found in float64), in units of sqrt(2) sigma, where the
    value is exp(log(v) - d^2). Measured from an end instead, the terms of
    a long limb with a far-away end are large and cancel, and float32
    loses ~1e-5; from o they stay small.
    """
    scale = np.sqrt(0.5) / sigma
    x0, x1, y0, y1 = cut[:4]
    a = a.astype(np.float64)
    seg = b - a
    len2 = (seg * seg).sum(0)
    inv = np.divide(1, len2, out=np.zeros_like(len2), where=len2 > 0)
    centre = np.stack([x0 + x1, y0 + y1]) / 2 - a
    t_o = np.clip((centre * seg).sum(0) * inv, 0, 1)
    o = a + t_o * seg
    # Whole pixels of o and the rest, so that pixel - o is exact.
    o_int = np.round(o)
    seg *= scale
    return np.concatenate([
        o_int, o - o_int, seg, seg * (inv / scale**2), [-t_o, 1 - t_o], cut,
        [np.log(np.maximum(value, EPS))]
    ]).astype(np.float32)


def _draw_limb_patches(flat: np.ndarray, start: np.ndarray, key: np.ndarray,
                       geometry: np.ndarray, sigma: float, width: int,
                       fresh: bool) -> None:
    """Draw the limbs of :func:`_limb_geometry`, sorted by their size class
    ``key``, as patches at flat offsets ``start``."""
    scale = np.sqrt(0.5) / sigma
    (ox, oy, ox_frac, oy_frac, dx, dy, tx, ty, t_lo, t_hi, x0, x1, y0, y1, sx,
     sy, log_value) = geometry
    bounds = [0, *(np.flatnonzero(np.diff(key)) + 1).tolist(), len(key)]
    for i, j in zip(bounds[:-1], bounds[1:]):
        sel = slice(i, j)
        num_y, num_x = divmod(int(key[i]), 1024)
        px = _offsets(num_x, sx[sel], x0[sel], x1[sel], ox[sel], ox_frac[sel],
                      scale)
        py = _offsets(num_y, sy[sel], y0[sel], y1[sel], oy[sel], oy_frac[sel],
                      scale)
        # Projection of each pixel onto the segment (0 at o), clamped to
        # the segment: the distance is to the nearest end outside, to the
        # line inside.
        t = (py * ty[sel])[:, None, :] + px * tx[sel]
        np.maximum(t, t_lo[sel], out=t)
        np.minimum(t, t_hi[sel], out=t)
        ey = t * dy[sel]
        ey -= py[:, None, :]
        ex = np.multiply(t, dx[sel], out=t)
        ex -= px
        patch = np.subtract(log_value[sel], np.square(ey, out=ey), out=ey)
        patch -= np.square(ex, out=ex)
        np.maximum(patch, _FLOOR, out=patch)
        np.exp(patch, out=patch)
        patch = patch.transpose(2, 0, 1)
        _store(_windows(flat, num_y, num_x, width), start[sel], patch, fresh)


def _offsets(size: int, first: np.ndarray, lo: np.ndarray, hi: np.ndarray,
             origin: np.ndarray, origin_frac: np.ndarray,
             scale: float) -> np.ndarray:
    """``[size, N]`` offsets ``(pixel - origin - origin_frac) * scale``
    along one axis of the patches that start at pixel ``first``, ``_FAR``
    beyond the cut ``[lo, hi]``."""
    pos = np.arange(size, dtype=np.float32)[:, None] + first
    offset = pos - origin
    offset -= origin_frac
    offset *= np.float32(scale)
    np.copyto(offset, _FAR, where=(pos < lo) | (pos > hi))
    return offset


def shared_zeros(shape: Sequence[int], dtype: str) -> np.ndarray:
    """A zeroed array in a fresh shared-memory torch storage (new shared
    memory reads as zeros), which a DataLoader worker hands to the main
    process without a copy; the array's ``base`` chain ends in the
    storage's tensor."""
    nbytes = int(np.prod(shape)) * np.dtype(dtype).itemsize
    # The allocation that Tensor.share_memory_() uses, without its copy.
    storage = torch.UntypedStorage._new_shared(max(nbytes, 1))
    raw = torch.empty(0, dtype=torch.uint8).set_(storage).numpy()
    return raw[:nbytes].view(dtype).reshape(shape)


@functools.lru_cache(maxsize=16)
def _map_offsets(num_frame: int, num_c: int, first: int, count: int,
                 map_size: int, channels_first: bool) -> np.ndarray:
    """Flat offsets of maps ``first`` to ``first + count - 1`` of every
    frame, frame-major, in a ``[num_frame, num_c, H, W]`` stack (or
    ``[num_c, num_frame, H, W]`` when ``channels_first``)."""
    frame = np.arange(num_frame)[:, None]
    channel = first + np.arange(count)
    if channels_first:
        index = channel * num_frame + frame
    else:
        index = frame * num_c + channel
    offsets = index.ravel() * map_size
    offsets.flags.writeable = False
    return offsets


def render_heatmaps(keypoint: np.ndarray,
                    value: np.ndarray,
                    img_shape: Tuple[int, int],
                    sigma: float,
                    with_kp: bool = True,
                    skeletons: Sequence[Tuple[int, int]] = (),
                    dtype: str = 'float32',
                    channels_first: bool = False,
                    shared_memory: bool = False) -> np.ndarray:
    """Draw joint and limb heatmaps, max-pooled over persons.

    Args:
        keypoint (np.ndarray): Float32 coordinates, shape ``[M, T, V, 2]``,
            in pixels of the output maps.
        value (np.ndarray): Float32 peak value of each point, ``[M, T, V]``;
            points below ``EPS`` or with non-finite coordinates are skipped,
            limbs take the smaller value of their ends.
        img_shape (tuple[int, int]): Output ``(H, W)``.
        sigma (float): Gaussian sigma in pixels.
        with_kp (bool): Draw one channel per joint. Defaults to True.
        skeletons (Sequence[tuple[int, int]]): Draw one channel per limb,
            after the joint channels. Defaults to ``()``.
        dtype (str): ``'float32'`` or ``'uint8'`` (values ``round(255 v)``,
            peaks above 1 clipped to 1). Defaults to ``'float32'``.
        channels_first (bool): Lay the maps out ``[C, T, H, W]`` in memory
            and return them as a ``[T, C, H, W]`` view. Defaults to False.
        shared_memory (bool): Allocate the maps with :func:`shared_zeros`.
            Defaults to False.

    Returns:
        np.ndarray: Heatmaps of shape ``[T, C, H, W]``.
    """
    num_frame, num_kp = keypoint.shape[1:3]
    kp_channels = num_kp if with_kp else 0
    num_c = kp_channels + len(skeletons)
    height, width = img_shape
    if dtype not in MAP_SCALE:
        raise ValueError(f'map dtype must be one of {sorted(MAP_SCALE)}, '
                         f'got {dtype!r}')
    shape = (num_frame, num_c, height, width)
    if channels_first:
        shape = shape[1::-1] + shape[2:]
    zeros = shared_zeros if shared_memory else np.zeros
    heatmap = zeros(shape, dtype)
    out = heatmap.transpose(1, 0, 2, 3) if channels_first else heatmap
    if heatmap.size == 0:
        return out
    if dtype == 'uint8':
        value = np.minimum(value, np.float32(1))
    if not np.isfinite(keypoint).all():
        missing = ~np.isfinite(keypoint).all(-1)
        keypoint = np.where(missing[..., None], 0, keypoint)
        value = np.where(missing, 0, value)
    flat = heatmap.reshape(-1)
    if with_kp:
        kp_base = _map_offsets(num_frame, num_c, 0, num_kp, height * width,
                               channels_first)
    if skeletons:
        start, end = np.asarray(skeletons, dtype=np.intp).T
        limb_base = _map_offsets(num_frame, num_c, kp_channels, len(skeletons),
                                 height * width, channels_first)
    # One person draws each map at most once; persons are merged one after
    # another.
    for person, (kp, val) in enumerate(zip(keypoint, value)):
        if with_kp:
            _draw_points(flat, kp_base,
                         np.ascontiguousarray(kp.reshape(-1, 2).T),
                         val.ravel(), sigma, height, width, person == 0)
        if skeletons:
            _draw_limbs(flat, limb_base, kp[:, start].reshape(-1, 2),
                        kp[:, end].reshape(-1, 2), val[:, start].ravel(),
                        val[:, end].ravel(), sigma, height, width, person == 0)
    return out


@TRANSFORMS.register_module()
class GeneratePoseHeatmaps(BaseTransform):
    """Generate pseudo heatmaps from keypoints, fast.

    A vectorised ``GeneratePoseTarget`` with the same maps (equal up to
    float32 rounding, within 1e-5), except that joints and limbs, when both
    are on, get separate channels (joints first), and that flip doubling
    also swaps limb channels when joints and limbs are stacked. Limbs and
    left/right pairs come from a ``layout`` or from explicit lists as in
    ``GeneratePoseTarget``. Flip doubling appends the flipped maps along
    the time axis.

    Without flip doubling the maps are laid out channels first in memory
    (a ``[T, C, H, W]`` view of a ``[C, T, H, W]`` array), so that
    ``FormatShape('NCTHW_Heatmap')`` of a one-clip sample is contiguous
    without a copy. ``dtype='uint8'`` stores them in a quarter of the
    bytes as ``round(255 v)``, to be cast back on the device by the model's
    ``ActionDataPreprocessor(mean=[0], std=[255])``: max error 1/510 =
    2.0e-3. (float16 is not offered: numpy converts it in software, slower
    than float32.) In a DataLoader worker the maps are drawn into shared
    memory (``shared_memory``), which ``PackMGInputs`` keeps, so that the
    worker's hand-off to the main process copies nothing.

    Required Keys:

        - keypoint
        - keypoint_score (optional)
        - img_shape

    Added Keys:

        - imgs (``heatmap_imgs`` if ``imgs`` is already present)

    Args:
        dtype (str): The maps' dtype: ``'float32'`` or ``'uint8'``.
            Defaults to ``'float32'``.
        shared_memory (bool, optional): Draw the maps into shared memory
            (:func:`shared_zeros`; not with ``double``); None: only in a
            DataLoader worker. Defaults to None.
        **kwargs: The options of :class:`HeatmapSpec`: ``sigma``,
            ``use_score``, ``with_kp``, ``with_limb``, ``layout``,
            ``skeletons``, ``double``, ``left_kp``, ``right_kp``,
            ``left_limb``, ``right_limb`` and ``scaling``, with the
            arguments and defaults of ``GeneratePoseTarget``.
    """

    def __init__(self,
                 dtype: str = 'float32',
                 shared_memory: Optional[bool] = None,
                 **kwargs) -> None:
        if dtype not in MAP_SCALE:
            raise ValueError(f'`dtype` must be one of {sorted(MAP_SCALE)}, '
                             f'got {dtype!r}')
        self.dtype = dtype
        self.shared_memory = shared_memory
        self.spec = HeatmapSpec(**kwargs)

    def transform(self, results: Dict) -> Dict:
        """Generate pseudo heatmaps for all frames.

        Args:
            results (dict): The resulting dict to be modified and passed
                to the next transform in pipeline.
        """
        spec = self.spec
        keypoint = np.asarray(results['keypoint'][..., :2], dtype=np.float32)
        if spec.use_score and 'keypoint_score' in results:
            value = np.asarray(results['keypoint_score'], dtype=np.float32)
        else:
            value = np.ones(keypoint.shape[:-1], dtype=np.float32)
        if spec.scaling != 1:
            keypoint = keypoint * np.float32(spec.scaling)
        heatmap = render_heatmaps(
            keypoint,
            value,
            spec.output_shape(results['img_shape']),
            spec.sigma,
            spec.with_kp,
            spec.limbs,
            dtype=self.dtype,
            channels_first=not spec.double,
            shared_memory=self._shared_memory())
        if spec.double:
            index = spec.flip_index(keypoint.shape[2])
            heatmap = np.concatenate([heatmap, heatmap[:, index, :, ::-1]])
        key = 'heatmap_imgs' if 'imgs' in results else 'imgs'
        results[key] = heatmap
        return results

    def _shared_memory(self) -> bool:
        # Doubled maps are concatenated into a new array anyway.
        if self.spec.double:
            return False
        if self.shared_memory is None:
            return torch.utils.data.get_worker_info() is not None
        return self.shared_memory

    def __repr__(self) -> str:
        spec = transform_repr(
            self,
            *(f.name for f in fields(self.spec) if f.repr),
            source=self.spec)
        return f'{spec[:-1]}, dtype={self.dtype})'
