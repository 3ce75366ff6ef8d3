"""Gaussian joint and limb heatmaps, vectorised over persons, frames and
keypoints.

The maps are pixel-for-pixel those of MMAction2's ``GeneratePoseTarget``
(same 3-sigma cut, same out-of-frame behaviour), but each point or limb is
drawn as a small patch: all patches of a size class are computed in one
array operation and pasted into the output at once.
"""
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from mmaction.registry import TRANSFORMS
from mmcv.transforms import BaseTransform
from numpy.lib.stride_tricks import sliding_window_view

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
         size: int) -> Tuple[np.ndarray, np.ndarray]:
    """First and last pixel (inclusive) of a patch along one axis.

    ``GeneratePoseTarget`` cuts at ``int(lo - 3 sigma)`` and
    ``int(hi + 3 sigma)``; ``int`` truncates towards zero, so a point up to
    one pixel left of ``-3 sigma`` still touches column 0. Kept for
    equality.
    """
    first = np.clip(np.trunc(lo - radius), 0, size).astype(np.intp)
    last = np.clip(np.trunc(hi + radius), -1, size - 1).astype(np.intp)
    return first, last


def _patch_axis(first: np.ndarray, last: np.ndarray, size: int
                ) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Equal-length patches covering ``[first, last]`` along one axis.

    Patches are shifted back where they would stick out of the frame, so
    they can be pasted without bounds checks; ``inside`` masks the pixels
    beyond the cut.

    Returns:
        tuple: ``start`` ``[N]``, float32 pixel positions ``[N, L]`` and
        ``inside`` ``[N, L]``.
    """
    offset = np.arange(int((last - first).max()) + 1)
    start = np.minimum(first, size - len(offset))
    inside = ((offset >= (first - start)[:, None]) &
              (offset <= (last - start)[:, None]))
    pos = (start[:, None] + offset).astype(np.float32)
    return start, pos, inside


def _paste(maps: np.ndarray, channel: np.ndarray, y0: np.ndarray,
           x0: np.ndarray, patch: np.ndarray, fresh: bool) -> None:
    """Max-merge ``patch[i]`` into ``maps[channel[i]]`` at ``(y0, x0)``.

    Callers pass at most one patch per channel, so the fancy assignment has
    no duplicate targets; ``fresh`` channels are still zero and need no
    read-back.
    """
    windows = sliding_window_view(
        maps, patch.shape[1:], axis=(1, 2), writeable=True)
    if not fresh:
        patch = np.maximum(windows[channel, y0, x0], patch)
    windows[channel, y0, x0] = patch


def _draw_points(maps: np.ndarray, channel: np.ndarray, x: np.ndarray,
                 y: np.ndarray, value: np.ndarray, sigma: float,
                 fresh: bool) -> None:
    height, width = maps.shape[1:]
    radius = 3 * sigma
    x0, x1 = _cut(x, x, radius, width)
    y0, y1 = _cut(y, y, radius, height)
    keep = (value >= EPS) & (x0 <= x1) & (y0 <= y1)
    if not keep.any():
        return
    channel, x, y, value, x0, x1, y0, y1 = (
        v[keep] for v in (channel, x, y, value, x0, x1, y0, y1))
    x_start, xs, in_x = _patch_axis(x0, x1, width)
    y_start, ys, in_y = _patch_axis(y0, y1, height)
    k = np.float32(-0.5 / sigma**2)
    # exp(-(dx^2 + dy^2) k) factorises: a patch is an outer product.
    gx = np.exp(np.square(xs - x[:, None]) * k) * in_x
    gy = np.exp(np.square(ys - y[:, None]) * k) * (in_y * value[:, None])
    patch = np.einsum('ni,nj->nij', gy, gx)
    _paste(maps, channel, y_start, x_start, patch, fresh)


def _draw_segments(maps: np.ndarray, channel: np.ndarray, ax: np.ndarray,
                   ay: np.ndarray, bx: np.ndarray, by: np.ndarray,
                   value: np.ndarray, x0: np.ndarray, x1: np.ndarray,
                   y0: np.ndarray, y1: np.ndarray, sigma: float,
                   fresh: bool) -> None:
    height, width = maps.shape[1:]
    x_start, xs, in_x = _patch_axis(x0, x1, width)
    y_start, ys, in_y = _patch_axis(y0, y1, height)
    dx, dy = bx - ax, by - ay
    len2 = dx * dx + dy * dy
    inv = np.divide(1, len2, out=np.zeros_like(len2), where=len2 > 0)
    px, py = xs - ax[:, None], ys - ay[:, None]
    # Projection of each pixel onto the segment (0 at a, 1 at b), clamped:
    # the distance is to the nearest end outside, to the line inside.
    tx, ty = px * (dx * inv)[:, None], py * (dy * inv)[:, None]
    t = tx[:, None, :] + ty[:, :, None]
    np.clip(t, 0, 1, out=t)
    ex = px[:, None, :] - t * dx[:, None, None]
    ey = py[:, :, None] - t * dy[:, None, None]
    d2 = np.square(ex, out=ex)
    d2 += np.square(ey, out=ey)
    d2 *= np.float32(-0.5 / sigma**2)
    patch = np.exp(d2, out=d2)
    patch *= (in_y * value[:, None])[:, :, None]
    patch *= in_x[:, None, :]
    _paste(maps, channel, y_start, x_start, patch, fresh)


def _size_class(n: np.ndarray) -> np.ndarray:
    # Power-of-two patch sizes from 8 up: at most 4x wasted area per patch
    # (more for the tiniest limbs, which are cheap), and few size classes
    # to loop over.
    return np.maximum(np.ceil(np.log2(n)), 3).astype(np.intp)


def _draw_limbs(maps: np.ndarray, channel: np.ndarray, a: np.ndarray,
                b: np.ndarray, a_val: np.ndarray, b_val: np.ndarray,
                sigma: float, fresh: bool) -> None:
    height, width = maps.shape[1:]
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
    channel, ax, ay, bx, by, value, x0, x1, y0, y1 = (
        v[keep] for v in (channel, ax, ay, bx, by, value, x0, x1, y0, y1))
    size = _size_class(x1 - x0 + 1) * 64 + _size_class(y1 - y0 + 1)
    for key in np.unique(size):
        sel = size == key
        _draw_segments(maps, channel[sel], ax[sel], ay[sel], bx[sel],
                       by[sel], value[sel], x0[sel], x1[sel], y0[sel],
                       y1[sel], sigma, fresh)


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
    missing = ~np.isfinite(keypoint).all(-1)
    if missing.any():
        keypoint = np.where(missing[..., None], 0, keypoint)
        value = np.where(missing, 0, value)
    maps = heatmap.reshape(-1, height, width)
    frame_base = np.arange(num_frame)[:, None] * num_c
    kp_channel = (frame_base + np.arange(num_kp)).ravel()
    if skeletons:
        start, end = np.asarray(skeletons, dtype=np.intp).T
        limb_channel = (frame_base + kp_channels +
                        np.arange(len(skeletons))).ravel()
    # One person draws each channel at most once; persons are merged one
    # after another.
    for person, (kp, val) in enumerate(zip(keypoint, value)):
        if with_kp:
            _draw_points(maps, kp_channel, kp[..., 0].ravel(),
                         kp[..., 1].ravel(), val.ravel(), sigma, person == 0)
        if skeletons:
            _draw_limbs(maps, limb_channel, kp[:, start].reshape(-1, 2),
                        kp[:, end].reshape(-1, 2), val[:, start].ravel(),
                        val[:, end].ravel(), sigma, person == 0)
    return heatmap


@TRANSFORMS.register_module()
class GeneratePoseHeatmaps(BaseTransform):
    """Generate pseudo heatmaps from keypoints, fast.

    A vectorised ``GeneratePoseTarget`` with the same maps, except that
    joints and limbs, when both are on, get separate channels (joints
    first), and that flip doubling also swaps limb channels when joints and
    limbs are stacked. Limbs and left/right pairs come from a ``layout`` or
    from explicit lists as in ``GeneratePoseTarget``.

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
