"""Tube masks: exact count per slice, one spatial mask over time, seeded."""
import pytest
import torch

from mmmg.models.ssl import TubeMaskGenerator, num_masked_per_slice, tube_mask


def _per_slice(mask, grid):
    t, h, w = grid
    return mask.reshape(mask.shape[0], t, h * w)


@pytest.mark.parametrize(
    'grid,ratio,expected',
    [
        ((8, 14, 14), 0.9, 176),  # the recipe: 20 of 196 patches visible
        ((3, 4, 5), 0.6, 12),
        ((2, 4, 4), 0.75, 12),
        ((1, 3, 3), 0.5, 4),  # 4.5 rounds half to even
    ])
def test_exact_ratio_and_same_mask_over_time(grid, ratio, expected):
    mask = tube_mask(6, grid, ratio, torch.Generator().manual_seed(0))
    t, h, w = grid
    assert mask.dtype == torch.bool and mask.shape == (6, t * h * w)
    slices = _per_slice(mask, grid)
    assert (slices.sum(-1) == expected).all()
    assert (slices == slices[:, :1]).all()
    assert num_masked_per_slice(ratio, h * w) == expected


def test_masks_differ_between_clips_and_cover_positions_evenly():
    grid = (2, 4, 4)
    mask = tube_mask(400, grid, 0.75, torch.Generator().manual_seed(1))
    spatial = _per_slice(mask, grid)[:, 0].float()
    assert len({tuple(row.tolist()) for row in spatial}) > 100
    # Every patch is masked about 75% of the time.
    assert torch.allclose(spatial.mean(0), torch.full((16, ), 0.75), atol=0.1)


def test_seeded_generator_reproduces_and_advances():
    grid = (2, 4, 4)
    a, b = TubeMaskGenerator(0.75, seed=3), TubeMaskGenerator(0.75, seed=3)
    first = a(4, grid, 'cpu')
    assert torch.equal(first, b(4, grid, 'cpu'))
    assert not torch.equal(a(4, grid, 'cpu'), first)  # the stream moves on
    assert a.generator('cpu').device == torch.device('cpu')
    assert not torch.equal(TubeMaskGenerator(0.75, seed=4)(4, grid), first)
    # Without a seed, torch's global generator decides.
    torch.manual_seed(0)
    m1 = TubeMaskGenerator(0.75)(4, grid)
    torch.manual_seed(0)
    assert torch.equal(m1, TubeMaskGenerator(0.75)(4, grid))


@pytest.mark.parametrize('ratio', [0., 1., 1.5, 0.01, 0.99])
def test_degenerate_ratios_raise(ratio):
    with pytest.raises(ValueError):
        tube_mask(1, (2, 4, 4), ratio)
