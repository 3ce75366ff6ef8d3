"""Pixel targets against a plain numpy version of VideoMAE's definition."""
import numpy as np
import torch
import torch.nn.functional as F

from mmmg.models.ssl import (patchify, teacher_feature_targets,
                             tubelet_pixel_targets)

MEAN = np.array([123.675, 116.28, 103.53])
STD = np.array([58.395, 57.12, 57.375])


def reference_targets(x, mean, std, patch, tubelet, norm_pix=True, eps=1e-6):
    """Unnormalise, scale to [0, 1], cut tubelets in (t, h, w) order,
    z-score each tubelet per channel (unbiased std + eps), flatten pixels
    with the channel fastest."""
    x = x * std[None, :, None, None, None] + mean[None, :, None, None, None]
    x = x / 255.
    b, c, t, h, w = x.shape
    rows = []
    for bi in range(b):
        tokens = []
        for ti in range(t // tubelet):
            for hi in range(h // patch):
                for wi in range(w // patch):
                    cube = x[bi, :, ti * tubelet:(ti + 1) * tubelet,
                             hi * patch:(hi + 1) * patch,
                             wi * patch:(wi + 1) * patch]
                    pixels = cube.reshape(c, -1).T  # (t*p*p, C)
                    if norm_pix:
                        pixels = (pixels - pixels.mean(0)) / (
                            pixels.std(0, ddof=1) + eps)
                    tokens.append(pixels.reshape(-1))
        rows.append(tokens)
    return np.array(rows)


def _clips(seed=0, shape=(2, 3, 4, 8, 12)):
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, shape).astype(np.float64)
    pixels[0, :, :2, :4, :4] = 77.  # one flat tubelet: std 0
    return (pixels - MEAN[None, :, None, None, None]) / STD[None, :, None,
                                                            None, None]


def test_pixel_targets_match_numpy_reference():
    x = _clips()
    ours = tubelet_pixel_targets(
        torch.tensor(x, dtype=torch.float32),
        MEAN.tolist(),
        STD.tolist(),
        patch_size=4,
        tubelet_size=2)
    ref = reference_targets(x, MEAN, STD, 4, 2)
    assert ours.dtype == torch.float32
    assert ours.shape == (2, 2 * 2 * 3, 2 * 4 * 4 * 3) == ref.shape
    np.testing.assert_allclose(ours.numpy(), ref, atol=2e-4)
    # The flat tubelet is all zeros, not NaN.
    assert torch.all(ours[0, 0] == 0)


def test_unnormalised_targets_without_norm_pix():
    x = _clips(1)
    ours = tubelet_pixel_targets(
        torch.tensor(x, dtype=torch.float32),
        torch.tensor(MEAN),
        torch.tensor(STD),
        patch_size=4,
        tubelet_size=2,
        norm_pix=False)
    ref = reference_targets(x, MEAN, STD, 4, 2, norm_pix=False)
    np.testing.assert_allclose(ours.numpy(), ref, atol=1e-5)
    assert -1e-5 <= ours.min() and ours.max() <= 1 + 1e-5


def test_patchify_order_is_the_conv3d_patch_embedding_order():
    torch.manual_seed(0)
    x = torch.randn(2, 3, 4, 8, 12)
    weight = torch.randn(5, 3, 2, 4, 4)
    conv = F.conv3d(x, weight, stride=(2, 4, 4)).flatten(2).transpose(1, 2)
    # A Conv3d with stride = kernel is one linear map per tubelet.
    flat = weight.permute(0, 2, 3, 4, 1).reshape(5, -1)
    linear = patchify(x, 4, 2).flatten(2) @ flat.T
    assert torch.allclose(conv, linear, atol=1e-4)


def test_teacher_targets_are_z_scored_per_token():
    feats = torch.randn(2, 5, 16, dtype=torch.bfloat16) * 3 + 1
    z = teacher_feature_targets(feats)
    assert z.dtype == torch.float32
    assert torch.allclose(z.mean(-1), torch.zeros(2, 5), atol=1e-4)
    assert torch.allclose(
        z.var(-1, unbiased=False), torch.ones(2, 5), atol=1e-3)
