"""Gaussian joint and limb heatmaps, vectorised over frames and keypoints.

The maps are those of MMAction2's ``GeneratePoseTarget`` (same 3-sigma cut,
same out-of-frame behaviour, same values up to float32 rounding), but each
point or limb is drawn as a small patch over its cut only: all patches of
a size class are computed in a few array operations over all frames and
written into the zeroed output at once.
"""
import functools
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
from mmaction.registry import TRANSFORMS
from mmcv.transforms import BaseTransform

from mmmg.keypoints import get_layout

# Points and limbs whose (smaller) score is below this are not drawn.
EPS = 1e-4

Pairs = List[Tuple[int, int]]


def resolve_skeleton(
        with_kp: bool,
        with_limb: bool,
        double: bool,
        layout: Optional[str] = None,
        skeletons: Optional[Sequence[Sequence[int]]] = None,
        left_kp: Optional[Sequence[int]] = None,
        right_kp: Optional[Sequence[int]] = None,
        left_limb: Optional[Sequence[int]] = None,
        right_limb: Optional[Sequence[int]] = None
) -> Tuple[Tuple[Tuple[int, int], ...], Optional[Pairs], Optional[Pairs]]:
    """Limbs and left/right channel pairs from a layout or explicit lists.

    Raises at build time what would otherwise fail on the first sample.

    Args:
        with_kp (bool): Joint maps are drawn.
        with_limb (bool): Limb maps are drawn.
        double (bool): Flipped maps are appended.
        layout (str, optional): Name of a layout of
            :mod:`mmmg.keypoints.layouts`; its edges are the limbs and its
            flip pairs the keypoint pairs. Exclusive with the lists below.
        skeletons (Sequence[Sequence[int]], optional): Limbs as point pairs.
        left_kp (Sequence[int], optional): Left keypoints.
        right_kp (Sequence[int], optional): Right keypoints, one for each of
            ``left_kp``.
        left_limb (Sequence[int], optional): Left limbs (indices into
            ``skeletons``).
        right_limb (Sequence[int], optional): Right limbs, one for each of
            ``left_limb``. When both limb lists are omitted, limb pairs are
            derived from the keypoint pairs: limb ``(a, b)`` mirrors to limb
            ``(flip[a], flip[b])``.

    Returns:
        tuple: ``(skeletons, kp_pairs, limb_pairs)``; a pair list is None
        when it cannot be known.
    """
    assert with_kp or with_limb, (
        'At least one of "with_kp" and "with_limb" should be True.')
    if layout is not None:
        if any(arg is not None for arg in (skeletons, left_kp, right_kp,
                                           left_limb, right_limb)):
            raise ValueError('give either `layout` or explicit skeletons and '
                             'left/right lists, not both')
        kp_layout = get_layout(layout)
        skeletons = kp_layout.edges
        kp_pairs = list(kp_layout.flip_pairs)
    else:
        kp_pairs = _zip_pairs(left_kp, right_kp, 'kp')
    skeletons = tuple((int(a), int(b)) for a, b in (skeletons or ()))

    limb_pairs = _zip_pairs(left_limb, right_limb, 'limb')
    if limb_pairs is None and kp_pairs is not None and skeletons:
        limb_pairs = _mirror_limbs(skeletons, kp_pairs)

    if with_limb and not skeletons:
        raise ValueError('`with_limb` needs `skeletons` or a `layout`')
    if double and with_kp and kp_pairs is None:
        raise ValueError('`double` needs `left_kp`/`right_kp` or a `layout`')
    if double and with_limb and limb_pairs is None:
        raise ValueError('`double` needs `left_limb`/`right_limb`, '
                         '`left_kp`/`right_kp` or a `layout`')
    return skeletons, kp_pairs, limb_pairs


def _zip_pairs(left: Optional[Sequence[int]], right: Optional[Sequence[int]],
               what: str) -> Optional[Pairs]:
    if left is None and right is None:
        return None
    if left is None or right is None or len(left) != len(right):
        raise ValueError(f'`left_{what}` and `right_{what}` must be given '
                         'together and have the same length')
    return [(int(a), int(b)) for a, b in zip(left, right)]


def _mirror_limbs(skeletons: Sequence[Tuple[int, int]],
                  kp_pairs: Pairs) -> Pairs:
    flip = {}
    for a, b in kp_pairs:
        flip[a], flip[b] = b, a
    index = {frozenset(limb): i for i, limb in enumerate(skeletons)}
    pairs = []
    for i, (a, b) in enumerate(skeletons):
        mirror = frozenset((flip.get(a, a), flip.get(b, b)))
        if mirror not in index:
            raise ValueError(f'the mirror of limb {(a, b)} is not a limb; '
                             'give `left_limb` and `right_limb`')
        if index[mirror] > i:
            pairs.append((i, index[mirror]))
    return pairs


def flip_channel_index(num_kp: int, num_limb: int, kp_pairs: Optional[Pairs],
                       limb_pairs: Optional[Pairs]) -> np.ndarray:
    """Channel permutation of a horizontally flipped heatmap stack whose
    channels are ``num_kp`` joints followed by ``num_limb`` limbs."""
    index = np.arange(num_kp + num_limb)
    for offset, count, pairs, what in ((0, num_kp, kp_pairs, 'kp'),
                                       (num_kp, num_limb, limb_pairs, 'limb')):
        if not count:
            continue
        if pairs is None:
            raise ValueError(f'flipping {what} heatmaps needs left/right '
                             f'{what} pairs (or a `layout`)')
        for a, b in pairs:
            index[offset + a], index[offset + b] = offset + b, offset + a
    return index


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
    if fresh:
        flat[index] = patch
    else:
        flat[index] = np.maximum(flat[index], patch)


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
    return np.ndarray((flat.size - span + 1, height, width), flat.dtype,
                      flat, strides=(item, row * item, item))


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
    # Pixels are measured from the point o of the segment nearest to the
    # cut's centre (found in float64), in units of sqrt(2) sigma, where the
    # value is exp(log(v) - d^2). Measured from an end instead, the terms
    # of a long limb with a far-away end are large and cancel, and float32
    # loses ~1e-5; from o they stay small.
    scale = np.sqrt(0.5) / sigma
    a = np.stack([ax, ay]).astype(np.float64)
    seg = np.stack([bx, by]) - a
    len2 = (seg * seg).sum(0)
    inv = np.divide(1, len2, out=np.zeros_like(len2), where=len2 > 0)
    centre = np.stack([x0 + x1, y0 + y1]) / 2 - a
    t_o = np.clip((centre * seg).sum(0) * inv, 0, 1)
    o = a + t_o * seg
    # Whole pixels of o and the rest, so that pixel - o is exact.
    o_int = np.round(o)
    seg *= scale
    geometry = np.concatenate([
        o_int, o - o_int, seg, seg * (inv / scale**2), [-t_o, 1 - t_o],
        [x0, x1, y0, y1, sx, sy], [np.log(np.maximum(value, EPS))]
    ])[:, order].astype(np.float32)
    (ox, oy, ox_frac, oy_frac, dx, dy, tx, ty, t_lo, t_hi, x0, x1, y0, y1,
     sx, sy, log_value) = geometry
    start = start[order]
    bounds = [0, *(np.flatnonzero(np.diff(key)) + 1).tolist(), len(key)]
    for i, j in zip(bounds[:-1], bounds[1:]):
        sel = slice(i, j)
        num_y, num_x = divmod(int(key[i]), 1024)
        px = _offsets(num_x, sx[sel], x0[sel], x1[sel], ox[sel],
                      ox_frac[sel], scale)
        py = _offsets(num_y, sy[sel], y0[sel], y1[sel], oy[sel],
                      oy_frac[sel], scale)
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
        windows = _windows(flat, num_y, num_x, width)
        if fresh:
            windows[start[sel]] = patch
        else:
            windows[start[sel]] = np.maximum(windows[start[sel]], patch)


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


@functools.lru_cache(maxsize=16)
def _map_offsets(num_frame: int, num_c: int, first: int, count: int,
                 map_size: int) -> np.ndarray:
    """Flat offsets of maps ``first`` to ``first + count - 1`` of every
    frame in a ``[num_frame, num_c, H, W]`` stack, frame-major."""
    channel = np.arange(num_frame)[:, None] * num_c + first + np.arange(count)
    offsets = channel.ravel() * map_size
    offsets.flags.writeable = False
    return offsets


def render_heatmaps(keypoint: np.ndarray,
                    value: np.ndarray,
                    img_shape: Tuple[int, int],
                    sigma: float,
                    with_kp: bool = True,
                    skeletons: Sequence[Tuple[int, int]] = ()) -> np.ndarray:
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

    Returns:
        np.ndarray: Heatmaps of shape ``[T, C, H, W]``.
    """
    num_frame, num_kp = keypoint.shape[1:3]
    kp_channels = num_kp if with_kp else 0
    num_c = kp_channels + len(skeletons)
    height, width = img_shape
    heatmap = np.zeros((num_frame, num_c, height, width), dtype=np.float32)
    if heatmap.size == 0:
        return heatmap
    if not np.isfinite(keypoint).all():
        missing = ~np.isfinite(keypoint).all(-1)
        keypoint = np.where(missing[..., None], 0, keypoint)
        value = np.where(missing, 0, value)
    flat = heatmap.reshape(-1)
    if with_kp:
        kp_base = _map_offsets(num_frame, num_c, 0, num_kp, height * width)
    if skeletons:
        start, end = np.asarray(skeletons, dtype=np.intp).T
        limb_base = _map_offsets(num_frame, num_c, kp_channels,
                                 len(skeletons), height * width)
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
                        val[:, end].ravel(), sigma, height, width,
                        person == 0)
    return heatmap


@TRANSFORMS.register_module()
class GeneratePoseHeatmaps(BaseTransform):
    """Generate pseudo heatmaps from keypoints, fast.

    A vectorised ``GeneratePoseTarget`` with the same maps (equal up to
    float32 rounding, within 1e-5), except that joints and limbs, when both
    are on, get separate channels (joints first), and that flip doubling
    also swaps limb channels when joints and limbs are stacked. Limbs and
    left/right pairs come from a ``layout`` or from explicit lists as in
    ``GeneratePoseTarget``.

    Required Keys:

        - keypoint
        - keypoint_score (optional)
        - img_shape

    Added Keys:

        - imgs (``heatmap_imgs`` if ``imgs`` is already present)

    Args:
        sigma (float): The sigma of the Gaussian maps, in output pixels.
            Defaults to 0.6.
        use_score (bool): Use keypoint scores as the peaks of the maps;
            otherwise every point is drawn with peak 1. Defaults to True.
        with_kp (bool): Generate one map per keypoint. Defaults to True.
        with_limb (bool): Generate one map per limb. At least one of
            ``with_kp`` and ``with_limb`` must be True. Defaults to False.
        layout (str, optional): Keypoint layout name (e.g. ``'mg36'``) that
            gives the limbs and the left/right pairs. Defaults to None.
        skeletons (Sequence[Sequence[int]], optional): Limbs as point pairs,
            when no ``layout`` is given. Defaults to None.
        double (bool): Append the horizontally flipped maps along the time
            axis (test-time flip averaging). Defaults to False.
        left_kp (Sequence[int], optional): Left keypoints, for ``double``.
            Defaults to None.
        right_kp (Sequence[int], optional): Right keypoints, for
            ``double``. Defaults to None.
        left_limb (Sequence[int], optional): Left limbs (indices into
            ``skeletons``), for ``double``; derived from the keypoint pairs
            when omitted. Defaults to None.
        right_limb (Sequence[int], optional): Right limbs, for ``double``.
            Defaults to None.
        scaling (float): The ratio to scale the maps and coordinates by.
            Defaults to 1.
    """

    def __init__(self,
                 sigma: float = 0.6,
                 use_score: bool = True,
                 with_kp: bool = True,
                 with_limb: bool = False,
                 layout: Optional[str] = None,
                 skeletons: Optional[Sequence[Sequence[int]]] = None,
                 double: bool = False,
                 left_kp: Optional[Sequence[int]] = None,
                 right_kp: Optional[Sequence[int]] = None,
                 left_limb: Optional[Sequence[int]] = None,
                 right_limb: Optional[Sequence[int]] = None,
                 scaling: float = 1.) -> None:
        self.skeletons, self.kp_pairs, self.limb_pairs = resolve_skeleton(
            with_kp, with_limb, double, layout, skeletons, left_kp, right_kp,
            left_limb, right_limb)
        self.sigma = sigma
        self.use_score = use_score
        self.with_kp = with_kp
        self.with_limb = with_limb
        self.layout = layout
        self.double = double
        self.scaling = scaling

    def transform(self, results: Dict) -> Dict:
        """Generate pseudo heatmaps for all frames.

        Args:
            results (dict): The resulting dict to be modified and passed
                to the next transform in pipeline.
        """
        keypoint = np.asarray(results['keypoint'][..., :2], dtype=np.float32)
        if self.use_score and 'keypoint_score' in results:
            value = np.asarray(results['keypoint_score'], dtype=np.float32)
        else:
            value = np.ones(keypoint.shape[:-1], dtype=np.float32)
        img_h, img_w = results['img_shape']
        if self.scaling != 1:
            keypoint = keypoint * np.float32(self.scaling)
            img_h = int(img_h * self.scaling + 0.5)
            img_w = int(img_w * self.scaling + 0.5)

        skeletons = self.skeletons if self.with_limb else ()
        heatmap = render_heatmaps(keypoint, value, (img_h, img_w), self.sigma,
                                  self.with_kp, skeletons)
        if self.double:
            num_kp = keypoint.shape[2] if self.with_kp else 0
            index = flip_channel_index(num_kp, len(skeletons), self.kp_pairs,
                                       self.limb_pairs)
            heatmap = np.concatenate([heatmap, heatmap[:, index, :, ::-1]])
        key = 'heatmap_imgs' if 'imgs' in results else 'imgs'
        results[key] = heatmap
        return results

    def __repr__(self) -> str:
        repr_str = (f'{self.__class__.__name__}('
                    f'sigma={self.sigma}, '
                    f'use_score={self.use_score}, '
                    f'with_kp={self.with_kp}, '
                    f'with_limb={self.with_limb}, '
                    f'layout={self.layout}, '
                    f'skeletons={self.skeletons}, '
                    f'double={self.double}, '
                    f'kp_pairs={self.kp_pairs}, '
                    f'limb_pairs={self.limb_pairs}, '
                    f'scaling={self.scaling})')
        return repr_str
