"""Tube masking of VideoMAE: one random spatial mask per clip, the same on
every temporal slice of tokens.

Video is highly redundant in time: masking tokens independently per slice
lets the model copy a masked patch from the neighbouring slice. VideoMAE
therefore draws one spatial mask per clip and repeats it over all temporal
token slices (a "tube"), at a very high ratio (0.9).
"""
from typing import Dict, Optional, Sequence, Union

import torch
from mmaction.registry import MODELS
from torch import Tensor


def num_masked_per_slice(ratio: float, num_patches: int) -> int:
    """Masked patches on one temporal slice: ``round(ratio * num_patches)``.

    Python's ``round`` (half to even) is used; at the recipe's 196 patches
    (224 px, patch 16) and ratio 0.9 that is 176 masked, 20 visible, the
    same as VideoMAE's ``int(ratio * num_patches)``.

    Raises:
        ValueError: The ratio is outside (0, 1), or it masks no patch or
            every patch of a slice.
    """
    if not 0. < ratio < 1.:
        raise ValueError(f'mask ratio must be in (0, 1), got {ratio}')
    num_mask = int(round(ratio * num_patches))
    if not 0 < num_mask < num_patches:
        raise ValueError(
            f'mask ratio {ratio} masks {num_mask} of {num_patches} patches '
            'per slice; at least one must be masked and one visible (use '
            'larger frames or smaller patches)')
    return num_mask


def tube_mask(batch_size: int,
              grid: Sequence[int],
              ratio: float,
              generator: Optional[torch.Generator] = None,
              device: Union[str, torch.device, None] = None) -> Tensor:
    """Tube masks for a batch of clips.

    Args:
        batch_size (int): Clips in the batch.
        grid (Sequence[int]): Token grid ``(T, H, W)`` (temporal slices and
            patch rows/columns).
        ratio (float): Fraction of the ``H * W`` patches of a slice to mask.
        generator (torch.Generator, optional): Random source; it must live on
            ``device``. Defaults to torch's global generator.
        device (str | torch.device, optional): Where the mask is made.
            Defaults to the generator's device, else the CPU.

    Returns:
        Tensor: Bool, shape ``(batch_size, T * H * W)`` in the ``(t, h, w)``
        order of the patch embedding's flattened tokens; True marks a masked
        token. Every clip has exactly ``round(ratio * H * W)`` masked
        patches on every slice, at the same spatial positions.
    """
    num_t, num_h, num_w = (int(g) for g in grid)
    num_patches = num_h * num_w
    num_mask = num_masked_per_slice(ratio, num_patches)
    if device is None:
        device = generator.device if generator is not None else 'cpu'
    noise = torch.rand(
        batch_size, num_patches, generator=generator, device=device)
    # The num_mask patches with the smallest noise are masked: a uniformly
    # random subset of exactly that size.
    order = noise.argsort(dim=1)
    spatial = torch.zeros(
        batch_size, num_patches, dtype=torch.bool, device=device)
    spatial.scatter_(1, order[:, :num_mask], True)
    return spatial.unsqueeze(1).expand(batch_size, num_t,
                                       num_patches).reshape(batch_size, -1)


@MODELS.register_module()
class TubeMaskGenerator:
    """Draws tube masks (:func:`tube_mask`) for each batch.

    Args:
        ratio (float): Fraction of patches masked on every slice. Defaults to
            0.9 (VideoMAE).
        seed (int, optional): Seeds a generator of the model's own, one per
            device, created on the device of the first input there; masks
            then follow only from the seed and the number of batches drawn.
            Defaults to None: torch's global generator of that device, which
            the runner's ``randomness.seed`` seeds.
    """

    def __init__(self, ratio: float = 0.9, seed: Optional[int] = None) -> None:
        if not 0. < ratio < 1.:
            raise ValueError(f'mask ratio must be in (0, 1), got {ratio}')
        self.ratio = ratio
        self.seed = seed
        self._generators: Dict[str, torch.Generator] = {}

    def generator(self,
                  device: Union[str,
                                torch.device]) -> Optional[torch.Generator]:
        """The seeded generator of ``device`` (None without a seed)."""
        if self.seed is None:
            return None
        device = torch.device(device)
        key = str(device)
        if key not in self._generators:
            gen = torch.Generator(device=device)
            gen.manual_seed(self.seed)
            self._generators[key] = gen
        return self._generators[key]

    def __call__(self,
                 batch_size: int,
                 grid: Sequence[int],
                 device: Union[str, torch.device] = 'cpu') -> Tensor:
        """Masks of ``batch_size`` clips on ``grid``, made on ``device``."""
        return tube_mask(batch_size, grid, self.ratio, self.generator(device),
                         device)

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(ratio={self.ratio}, '
                f'seed={self.seed})')
