"""The options of pose heatmaps, declared and checked once.

:class:`HeatmapSpec` holds what :class:`GeneratePoseHeatmaps` (in the
loader) and ``HeatmapDataPreprocessor`` (on the model's device) draw:
sigma, scores, joint and limb channels, flip doubling and scaling. Limbs
and left/right pairs come from a keypoint layout or from explicit lists as
in MMAction2's ``GeneratePoseTarget``; they are resolved at build time, so
a bad combination fails there and not on the first sample.
"""
from dataclasses import dataclass, field
from typing import List, Optional, Sequence, Tuple

import numpy as np

from mmmg.keypoints import get_layout

Pairs = List[Tuple[int, int]]


@dataclass
class HeatmapSpec:
    """Options of pseudo heatmaps drawn from keypoints.

    Args:
        sigma (float): The sigma of the Gaussian maps, in output pixels.
            Defaults to 0.6.
        use_score (bool): Use keypoint scores as the peaks of the maps;
            otherwise every point is drawn with peak 1. Defaults to True.
        with_kp (bool): Generate one map per keypoint. Defaults to True.
        with_limb (bool): Generate one map per limb, after the keypoint
            maps. At least one of ``with_kp`` and ``with_limb`` must be
            True. Defaults to False.
        layout (str, optional): Name of a layout of
            :mod:`mmmg.keypoints.layouts` (e.g. ``'mg36'``); its edges are
            the limbs and its flip pairs the keypoint pairs. Exclusive with
            ``skeletons`` and the left/right lists. Defaults to None.
        skeletons (Sequence[Sequence[int]], optional): Limbs as point pairs.
            Defaults to None.
        double (bool): Append the horizontally flipped maps (test-time flip
            averaging). Defaults to False.
        left_kp (Sequence[int], optional): Left keypoints, for ``double``.
            Defaults to None.
        right_kp (Sequence[int], optional): Right keypoints, one for each of
            ``left_kp``. Defaults to None.
        left_limb (Sequence[int], optional): Left limbs (indices into
            ``skeletons``), for ``double``. When both limb lists are
            omitted, limb ``(a, b)`` mirrors to limb ``(flip[a], flip[b])``
            of the keypoint pairs. Defaults to None.
        right_limb (Sequence[int], optional): Right limbs, one for each of
            ``left_limb``. Defaults to None.
        scaling (float): The ratio to scale the maps and coordinates by.
            Defaults to 1.

    Attributes:
        skeletons (tuple[tuple[int, int]]): The limbs, from the layout or
            the given list (empty when neither).
        kp_pairs (list[tuple[int, int]], optional): Keypoint channels a flip
            swaps; None when unknown.
        limb_pairs (list[tuple[int, int]], optional): Limb channels a flip
            swaps; None when unknown.
    """
    sigma: float = 0.6
    use_score: bool = True
    with_kp: bool = True
    with_limb: bool = False
    layout: Optional[str] = None
    skeletons: Optional[Sequence[Sequence[int]]] = None
    double: bool = False
    left_kp: Optional[Sequence[int]] = field(default=None, repr=False)
    right_kp: Optional[Sequence[int]] = field(default=None, repr=False)
    left_limb: Optional[Sequence[int]] = field(default=None, repr=False)
    right_limb: Optional[Sequence[int]] = field(default=None, repr=False)
    scaling: float = 1.
    kp_pairs: Optional[Pairs] = field(init=False)
    limb_pairs: Optional[Pairs] = field(init=False)

    def __post_init__(self) -> None:
        assert self.with_kp or self.with_limb, (
            'At least one of "with_kp" and "with_limb" should be True.')
        if self.layout is not None:
            if any(
                    arg is not None
                    for arg in (self.skeletons, self.left_kp, self.right_kp,
                                self.left_limb, self.right_limb)):
                raise ValueError('give either `layout` or explicit skeletons '
                                 'and left/right lists, not both')
            kp_layout = get_layout(self.layout)
            self.skeletons = kp_layout.edges
            self.kp_pairs = list(kp_layout.flip_pairs)
        else:
            self.kp_pairs = _zip_pairs(self.left_kp, self.right_kp, 'kp')
        self.skeletons = tuple(
            (int(a), int(b)) for a, b in (self.skeletons or ()))

        self.limb_pairs = _zip_pairs(self.left_limb, self.right_limb, 'limb')
        if (self.limb_pairs is None and self.kp_pairs is not None
                and self.skeletons):
            self.limb_pairs = _mirror_limbs(self.skeletons, self.kp_pairs)

        if self.with_limb and not self.skeletons:
            raise ValueError('`with_limb` needs `skeletons` or a `layout`')
        if self.double and self.with_kp and self.kp_pairs is None:
            raise ValueError(
                '`double` needs `left_kp`/`right_kp` or a `layout`')
        if self.double and self.with_limb and self.limb_pairs is None:
            raise ValueError('`double` needs `left_limb`/`right_limb`, '
                             '`left_kp`/`right_kp` or a `layout`')

    @property
    def limbs(self) -> Tuple[Tuple[int, int], ...]:
        """The limbs drawn: ``skeletons`` with ``with_limb``, else none."""
        return self.skeletons if self.with_limb else ()

    def num_channels(self, num_kp: Optional[int] = None) -> int:
        """Channels of one heatmap frame (joints first, then limbs).

        Args:
            num_kp (int, optional): Keypoints of the input; defaults to
                those of ``layout``.
        """
        if num_kp is None:
            if self.layout is None:
                raise ValueError('num_channels needs `num_kp` or a `layout`')
            num_kp = get_layout(self.layout).num_keypoints
        return (num_kp if self.with_kp else 0) + len(self.limbs)

    def output_shape(self, img_shape: Sequence[int]) -> Tuple[int, int]:
        """``(H, W)`` of the maps of frames of ``img_shape``."""
        img_h, img_w = img_shape
        if self.scaling != 1:
            img_h = int(img_h * self.scaling + 0.5)
            img_w = int(img_w * self.scaling + 0.5)
        return img_h, img_w

    def flip_index(self, num_kp: int) -> np.ndarray:
        """Channel permutation of the horizontally flipped maps of inputs
        with ``num_kp`` keypoints."""
        num_kp = num_kp if self.with_kp else 0
        index = np.arange(num_kp + len(self.limbs))
        channel_groups = ((0, num_kp, self.kp_pairs, 'kp'),
                          (num_kp, len(self.limbs), self.limb_pairs, 'limb'))
        for offset, count, pairs, what in channel_groups:
            if not count:
                continue
            if pairs is None:
                raise ValueError(f'flipping {what} heatmaps needs left/right '
                                 f'{what} pairs (or a `layout`)')
            for a, b in pairs:
                index[offset + a], index[offset + b] = offset + b, offset + a
        return index


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
