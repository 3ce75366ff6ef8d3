"""MGPoseCompact: PoseCompact's behaviour without numpy-1-only names."""
import numpy as np
import pytest

from mmmg.datasets.transforms import MGPoseCompact


def _reference(kp, img_shape, padding, threshold):
    """Tight box of non-zero coordinates, padded, shifted to the origin."""
    xs, ys = kp[..., 0], kp[..., 1]
    x0, x1 = xs[xs != 0].min(), xs[xs != 0].max()
    y0, y1 = ys[ys != 0].min(), ys[ys != 0].max()
    if x1 - x0 < threshold or y1 - y0 < threshold:
        return kp, img_shape
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    hw, hh = (x1 - x0) / 2 * (1 + padding), (y1 - y0) / 2 * (1 + padding)
    left, top = int(cx - hw), int(cy - hh)
    right, bottom = int(cx + hw), int(cy + hh)
    out = kp.copy()
    out[..., 0][xs != 0] -= left
    out[..., 1][ys != 0] -= top
    return out, (bottom - top, right - left)


def test_matches_reference_and_keeps_missed_points():
    rng = np.random.default_rng(0)
    kp = rng.uniform(200, 600, (2, 8, 36, 2)).astype(np.float32)
    kp[0, 3, 5] = 0  # a missed detection stays at 0, 0
    expect_kp, expect_shape = _reference(kp.copy(), (720, 1280), 0.25, 10)
    res = MGPoseCompact(padding=0.25)(
        dict(keypoint=kp.copy(), img_shape=(720, 1280)))
    np.testing.assert_allclose(res['keypoint'], expect_kp)
    assert res['img_shape'] == expect_shape
    assert (res['keypoint'][0, 3, 5] == 0).all()
    x, y, w, h = res['crop_quadruple']
    assert w == pytest.approx(expect_shape[1] / 1280)
    assert h == pytest.approx(expect_shape[0] / 720)


def test_hw_ratio_square_and_nan():
    kp = np.zeros((1, 2, 3, 2), np.float32)
    kp[0, :, :, 0] = [[100, 300, 200], [110, 290, 210]]
    kp[0, :, :, 1] = [[100, 150, 120], [105, 140, 125]]
    kp[0, 1, 2] = np.nan
    res = MGPoseCompact(
        padding=0., hw_ratio=1.)(
            dict(keypoint=kp, img_shape=(480, 640)))
    h, w = res['img_shape']
    assert abs(h - w) <= 1
    assert not np.isnan(res['keypoint']).any()


def test_all_missed_or_tiny_is_a_no_op():
    for kp in (np.zeros((1, 4, 5, 2),
                        np.float32), np.full((1, 4, 5, 2), 50, np.float32)):
        res = MGPoseCompact()(dict(keypoint=kp.copy(), img_shape=(64, 64)))
        assert res['img_shape'] == (64, 64) and 'crop_quadruple' not in res
        np.testing.assert_array_equal(res['keypoint'], kp)


@pytest.mark.parametrize('allow_imgpad', [True, False])
def test_mm_compact_matches_stock_on_numpy1_names(monkeypatch, allow_imgpad):
    """MGMMCompact equals MMAction2's MMCompact run with np.Inf restored."""
    from mmaction.datasets.transforms import MMCompact

    from mmmg.datasets.transforms import MGMMCompact
    rng = np.random.default_rng(1)
    kp = rng.uniform(100, 300, (1, 4, 36, 2)).astype(np.float32)
    kp[0, 1, 7] = 0
    imgs = list(rng.integers(0, 255, (4, 360, 640, 3), dtype=np.uint8))

    def run(cls):
        return cls(
            hw_ratio=1., allow_imgpad=allow_imgpad)(
                dict(
                    keypoint=kp.copy(),
                    imgs=[i.copy() for i in imgs],
                    img_shape=(360, 640)))

    ours = run(MGMMCompact)
    monkeypatch.setattr(np, 'Inf', np.inf, raising=False)
    stock = run(MMCompact)
    assert ours['img_shape'] == stock['img_shape'] != (360, 640)
    np.testing.assert_array_equal(ours['keypoint'], stock['keypoint'])
    np.testing.assert_array_equal(
        np.stack(ours['imgs']), np.stack(stock['imgs']))
