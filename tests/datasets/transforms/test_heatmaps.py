"""GeneratePoseHeatmaps: GeneratePoseTarget's maps, vectorised."""
import math

import numpy as np
import pytest
import torch
from mmaction.datasets.transforms import (FormatShape, GeneratePoseTarget,
                                          PackActionInputs)
from mmaction.registry import MODELS, TRANSFORMS

from mmmg.datasets.transforms import (GeneratePoseHeatmaps, HeatmapSpec,
                                      PackMGInputs)
from mmmg.keypoints import get_layout
from mmmg.keypoints.layouts import flip_lists

MG36 = get_layout('mg36')
# Equal up to float32 rounding (the contract with the stock maps is 1e-2).
ATOL = 1e-5


def random_pose(seed,
                num_person=3,
                num_frame=6,
                img_shape=(40, 56),
                num_kp=MG36.num_keypoints):
    """Keypoints spread over and around the frame, with scores at, below
    and above ``eps``, and some limbs shorter than one pixel."""
    rng = np.random.default_rng(seed)
    h, w = img_shape
    shape = (num_person, num_frame, num_kp)
    kp = np.stack(
        [rng.uniform(-4, w + 4, shape),
         rng.uniform(-4, h + 4, shape)], -1).astype(np.float32)
    # Just outside the left/top border, where int() truncation matters.
    kp[:, :, :3] = rng.uniform(-3, 0, (num_person, num_frame, 3, 2))
    kp[:, :, 3:5] = rng.uniform(-100, -20, (num_person, num_frame, 2, 2))
    kp[:, :, 6] = kp[:, :, 5] + rng.uniform(-.6, .6, kp[:, :, 5].shape)
    score = rng.uniform(0, 1, shape).astype(np.float32)
    score[rng.random(shape) < .15] = 0
    score[rng.random(shape) < .05] = 5e-5
    return dict(keypoint=kp, keypoint_score=score, img_shape=img_shape)


def limb_pairs(layout):
    """Left/right limb lists of ``layout`` for the stock transform."""
    flip = layout.flip_index
    index = {frozenset(e): i for i, e in enumerate(layout.edges)}
    left, right = [], []
    for i, (a, b) in enumerate(layout.edges):
        j = index[frozenset((flip[a], flip[b]))]
        if i < j:
            left.append(i)
            right.append(j)
    return left, right


def kp_pairs(layout):
    left, right = zip(*layout.flip_pairs)
    return list(left), list(right)


def run(transform, results):
    return transform({
        k: v.copy() if isinstance(v, np.ndarray) else v
        for k, v in results.items()
    })['imgs']


@pytest.mark.parametrize('seed', range(4))
@pytest.mark.parametrize('use_score', [True, False])
def test_joints_match_stock(seed, use_score):
    results = random_pose(seed)
    stock = run(GeneratePoseTarget(sigma=0.6, use_score=use_score), results)
    ours = run(GeneratePoseHeatmaps(sigma=0.6, use_score=use_score), results)
    assert ours.dtype == np.float32 and ours.shape == stock.shape
    np.testing.assert_allclose(ours, stock, rtol=0, atol=ATOL)


@pytest.mark.parametrize('seed', range(4))
@pytest.mark.parametrize('sigma', [0.6, 1.3])
def test_limbs_match_stock(seed, sigma):
    results = random_pose(seed, img_shape=(56, 48))
    stock = run(
        GeneratePoseTarget(
            sigma=sigma, with_kp=False, with_limb=True, skeletons=MG36.edges),
        results)
    ours = run(
        GeneratePoseHeatmaps(
            sigma=sigma, with_kp=False, with_limb=True, layout='mg36'),
        results)
    assert ours.shape == stock.shape
    assert stock.max() > 0.5
    np.testing.assert_allclose(ours, stock, rtol=0, atol=ATOL)


@pytest.mark.parametrize('with_limb', [False, True])
def test_flip_doubling_matches_stock(with_limb):
    results = random_pose(7, num_frame=4)
    left_kp, right_kp = kp_pairs(MG36)
    left_limb, right_limb = limb_pairs(MG36)
    stock = run(
        GeneratePoseTarget(
            with_kp=not with_limb,
            with_limb=with_limb,
            skeletons=MG36.edges,
            double=True,
            left_kp=left_kp,
            right_kp=right_kp,
            left_limb=left_limb,
            right_limb=right_limb), results)
    by_layout = GeneratePoseHeatmaps(
        with_kp=not with_limb, with_limb=with_limb, layout='mg36', double=True)
    # Limb pairs derived from explicit keypoint pairs, as from the layout.
    by_lists = GeneratePoseHeatmaps(
        with_kp=not with_limb,
        with_limb=with_limb,
        skeletons=MG36.edges,
        double=True,
        left_kp=left_kp,
        right_kp=right_kp)
    assert stock.shape[0] == 2 * 4
    for transform in (by_layout, by_lists):
        np.testing.assert_allclose(
            run(transform, results), stock, rtol=0, atol=ATOL)


@pytest.mark.parametrize('double', [False, True])
def test_joints_and_limbs_get_separate_channels(double):
    results = random_pose(3)
    num_kp = MG36.num_keypoints
    both = run(
        GeneratePoseHeatmaps(
            with_kp=True, with_limb=True, layout='mg36', double=double),
        results)
    joints = run(GeneratePoseHeatmaps(layout='mg36', double=double), results)
    limbs = run(
        GeneratePoseHeatmaps(
            with_kp=False, with_limb=True, layout='mg36', double=double),
        results)
    assert both.shape[1] == num_kp + len(MG36.edges)
    np.testing.assert_array_equal(both[:, :num_kp], joints)
    np.testing.assert_array_equal(both[:, num_kp:], limbs)


def reference_maps(kp, score, img_shape, sigma, skeletons, eps=1e-4):
    """GeneratePoseTarget's formula, pixel by pixel."""
    h, w = img_shape
    num_person, num_frame, num_kp = score.shape
    maps = np.zeros((num_frame, num_kp + len(skeletons), h, w))

    def cut(lo, hi, size):
        return max(int(lo - 3 * sigma), 0), min(int(hi + 3 * sigma), size - 1)

    def gauss(d2):
        return math.exp(-d2 / (2 * sigma**2))

    for m in range(num_person):
        for t in range(num_frame):
            prims = []
            for v in range(num_kp):
                prims.append((v, kp[m, t, v], kp[m, t, v], score[m, t, v]))
            for i, (a, b) in enumerate(skeletons):
                pa, pb = kp[m, t, a], kp[m, t, b]
                value = min(score[m, t, a], score[m, t, b])
                if value >= eps and ((pa - pb)**2).sum() < 1:
                    pb, value = pa, score[m, t, a]
                prims.append((num_kp + i, pa, pb, value))
            for c, pa, pb, value in prims:
                if value < eps:
                    continue
                x0, x1 = cut(min(pa[0], pb[0]), max(pa[0], pb[0]), w)
                y0, y1 = cut(min(pa[1], pb[1]), max(pa[1], pb[1]), h)
                seg = pb - pa
                len2 = float(seg @ seg)
                for y in range(y0, y1 + 1):
                    for x in range(x0, x1 + 1):
                        p = np.array([x, y], dtype=np.float64) - pa
                        u = 0. if len2 == 0 else min(max(p @ seg / len2, 0), 1)
                        d = p - u * seg
                        maps[t, c, y, x] = max(maps[t, c, y, x],
                                               value * gauss(d @ d))
    return maps


def test_matches_pixel_loop_reference():
    h, w = 9, 11
    skeletons = ((0, 1), (1, 2), (2, 3), (0, 3))
    rng = np.random.default_rng(5)
    kp = np.stack(
        [rng.uniform(-3, w + 2, (2, 3, 4)),
         rng.uniform(-3, h + 2, (2, 3, 4))], -1).astype(np.float32)
    kp[0, 0, 1] = kp[0, 0, 0] + .5  # a limb shorter than a pixel
    kp[1, 1, 2] = (-2.5, 4.2)  # touches column 0 only via int()
    score = rng.uniform(.2, 1, (2, 3, 4)).astype(np.float32)
    score[1, 2, 3] = 0
    results = dict(keypoint=kp, keypoint_score=score, img_shape=(h, w))
    ours = run(
        GeneratePoseHeatmaps(
            sigma=0.8, with_kp=True, with_limb=True, skeletons=skeletons),
        results)
    expect = reference_maps(
        kp.astype(np.float64), score, (h, w), 0.8, skeletons)
    np.testing.assert_allclose(ours, expect, rtol=0, atol=ATOL)


def test_long_limbs_with_far_ends_match_float64_reference():
    """Limbs that cross a small frame from ends far outside it, where
    float32 distances measured from an end lose ~3e-6 (so does the stock
    transform): the maps are exact to float32 rounding of the values."""
    h, w = 12, 10
    skeletons = ((0, 1), (1, 2), (2, 3), (0, 3), (1, 3))
    for seed in range(8):
        rng = np.random.default_rng(seed)
        kp = np.stack([
            rng.uniform(-150, w + 150, (2, 3, 4)),
            rng.uniform(-150, h + 150, (2, 3, 4))
        ], -1)
        kp[:, :, 0] = np.stack(
            [rng.uniform(0, w, (2, 3)),
             rng.uniform(0, h, (2, 3))], -1)
        kp = kp.astype(np.float32)
        score = rng.uniform(.2, 1, (2, 3, 4)).astype(np.float32)
        results = dict(keypoint=kp, keypoint_score=score, img_shape=(h, w))
        ours = run(
            GeneratePoseHeatmaps(
                sigma=0.6, with_kp=False, with_limb=True, skeletons=skeletons),
            results)
        expect = reference_maps(
            kp.astype(np.float64), score, (h, w), 0.6, skeletons)[:, 4:]
        assert expect.max() > 0.5
        np.testing.assert_allclose(ours, expect, rtol=0, atol=1e-6)


@pytest.mark.parametrize('img_shape', [(1, 1), (3, 7), (7, 3), (2, 40),
                                       (6, 4)])
@pytest.mark.parametrize('sigma', [0.6, 2.5])
def test_frames_smaller_than_a_patch_match_stock(img_shape, sigma):
    results = random_pose(4, num_frame=3, img_shape=img_shape)
    for with_kp in (True, False):
        stock = run(
            GeneratePoseTarget(
                sigma=sigma,
                with_kp=with_kp,
                with_limb=not with_kp,
                skeletons=MG36.edges), results)
        ours = run(
            GeneratePoseHeatmaps(
                sigma=sigma,
                with_kp=with_kp,
                with_limb=not with_kp,
                layout='mg36'), results)
        assert ours.shape == stock.shape
        np.testing.assert_allclose(ours, stock, rtol=0, atol=ATOL)


def test_benchmark_setting_matches_stock():
    """The speed benchmark's setting: 48 frames, one person, mg36, 56x56,
    sigma 0.6."""
    rng = np.random.default_rng(9)
    shape = (1, 48, MG36.num_keypoints)
    kp = rng.uniform(-6, 62, shape + (2, )).astype(np.float32)
    score = rng.uniform(0, 1, shape).astype(np.float32)
    score[rng.random(shape) < .2] = 0
    results = dict(keypoint=kp, keypoint_score=score, img_shape=(56, 56))
    for limb in (False, True):
        stock = run(
            GeneratePoseTarget(
                sigma=0.6,
                with_kp=not limb,
                with_limb=limb,
                skeletons=MG36.edges), results)
        ours = run(
            GeneratePoseHeatmaps(
                sigma=0.6, with_kp=not limb, with_limb=limb, layout='mg36'),
            results)
        np.testing.assert_allclose(ours, stock, rtol=0, atol=ATOL)


def test_scaling_and_missing_scores_match_stock():
    results = random_pose(11, img_shape=(112, 96))
    del results['keypoint_score']
    stock = run(GeneratePoseTarget(scaling=0.5), results)
    ours = run(GeneratePoseHeatmaps(scaling=0.5), results)
    assert ours.shape[-2:] == (56, 48)
    np.testing.assert_allclose(ours, stock, rtol=0, atol=ATOL)


def test_non_finite_points_are_skipped():
    results = random_pose(2)
    kp, score = results['keypoint'], results['keypoint_score']
    kp[0, 1, 4], kp[1, 2, 7, 0], kp[2, 0, 24, 1] = np.nan, np.inf, -np.inf
    bad = ~np.isfinite(kp).all(-1)
    clean = dict(
        results,
        keypoint=np.where(bad[..., None], 0, kp),
        keypoint_score=np.where(bad, 0, score))
    transform = GeneratePoseHeatmaps(with_limb=True, layout='mg36')
    ours = run(transform, results)
    assert np.isfinite(ours).all()
    np.testing.assert_array_equal(ours, run(transform, clean))


def test_keys_and_format_shape():
    results = random_pose(0, num_person=1, num_frame=8)
    results.update(num_clips=2, clip_len=4)
    out = GeneratePoseHeatmaps(layout='mg36', double=True)(dict(results))
    out = FormatShape('NCTHW_Heatmap')(out)
    assert out['imgs'].shape == (4, MG36.num_keypoints, 4, 40, 56)
    # Beside RGB frames the maps go to heatmap_imgs, as in the stock one.
    out = GeneratePoseHeatmaps()(dict(results, imgs=[]))
    assert out['imgs'] == [] and out['heatmap_imgs'].ndim == 4


@pytest.mark.parametrize('with_limb', [False, True])
def test_one_clip_formats_contiguous_without_copy(with_limb):
    results = random_pose(4, num_person=2, num_frame=5)
    results.update(num_clips=1, clip_len=5)
    stock = GeneratePoseTarget(
        with_kp=not with_limb, with_limb=with_limb, skeletons=MG36.edges)
    ours = GeneratePoseHeatmaps(
        with_kp=not with_limb, with_limb=with_limb, layout='mg36')
    out = ours(dict(results))
    maps = out['imgs']
    assert maps.shape[:2] == (5, len(MG36.edges) if with_limb else 36)
    assert maps.transpose(1, 0, 2, 3).flags.c_contiguous
    formatted = FormatShape('NCTHW_Heatmap')(out)['imgs']
    assert formatted.flags.c_contiguous
    assert np.shares_memory(formatted, maps)
    expected = FormatShape('NCTHW_Heatmap')(stock(dict(results)))['imgs']
    np.testing.assert_allclose(formatted, expected, rtol=0, atol=ATOL)


@pytest.mark.parametrize('with_limb', [False, True])
def test_uint8_maps_round_the_float_maps(with_limb):
    """uint8 maps hold round(255 v) of the float32 ones (also where two
    persons overlap), and the stock data preprocessor with std 255 brings
    them back within 1/510 of the stock maps."""
    results = random_pose(5, num_person=2, num_frame=6)
    # A peak above 1 is clipped to 1 instead of wrapping around.
    results['keypoint_score'][0, 0, :3] = 3.
    results.update(num_clips=1, clip_len=6)
    args = dict(with_kp=not with_limb, with_limb=with_limb, layout='mg36')
    clipped = np.minimum(results['keypoint_score'], 1)
    full = run(
        GeneratePoseHeatmaps(**args), dict(results, keypoint_score=clipped))
    small = run(GeneratePoseHeatmaps(dtype='uint8', **args), results)
    assert small.dtype == np.uint8
    expected = np.floor(full * 255 + .5)
    # float32 rounding of v * 255 may tip a value onto the other side.
    assert np.abs(small - expected).max() <= 1
    assert np.mean(small != expected) < 1e-4

    stock = GeneratePoseTarget(
        with_kp=not with_limb, with_limb=with_limb, skeletons=MG36.edges)
    results['keypoint_score'][0, 0, :3] = 1.
    pack = PackActionInputs()
    packed = pack(
        FormatShape('NCTHW_Heatmap')(GeneratePoseHeatmaps(
            dtype='uint8', **args)(dict(results))))
    preprocessor = MODELS.build(
        dict(
            type='ActionDataPreprocessor',
            mean=[0.],
            std=[255.],
            format_shape='NCTHW'))
    batch = preprocessor(
        dict(inputs=[packed['inputs']],
             data_samples=[packed['data_samples']]))['inputs']
    reference = pack(FormatShape('NCTHW_Heatmap')(stock(dict(results))))
    assert batch.dtype == torch.float32
    diff = (batch[0] - reference['inputs']).abs().max().item()
    assert 1e-3 < diff <= 1 / 510 + ATOL


class _WorkerSamples(torch.utils.data.Dataset):
    """Samples packed in a loader worker, with whether their inputs were
    already in shared memory before the hand-off."""

    def __init__(self, results, **kwargs):
        self.results = results
        self.pipeline = [
            GeneratePoseHeatmaps(layout='mg36', **kwargs),
            FormatShape('NCTHW_Heatmap'),
            PackMGInputs()
        ]

    def __len__(self):
        return 2

    def __getitem__(self, index):
        results = dict(self.results)
        for transform in self.pipeline:
            results = transform(results)
        return results['inputs'], results['inputs'].is_shared()


@pytest.mark.parametrize('dtype', ['float32', 'uint8'])
def test_worker_draws_into_shared_memory(dtype):
    """In a DataLoader worker the maps are drawn into shared memory and
    packed on it (the hand-off copies nothing); in the main process they
    are not. The values are those of the plain path."""
    results = random_pose(6, num_person=2, num_frame=5)
    results.update(num_clips=1, clip_len=5)
    samples = _WorkerSamples(results, dtype=dtype)
    plain, shared = samples[0]
    assert not shared
    loader = torch.utils.data.DataLoader(
        samples, batch_size=None, num_workers=1)
    for inputs, shared in loader:
        assert shared
        torch.testing.assert_close(inputs, plain, rtol=0, atol=0)
    # Forced on in the main process, too.
    forced, shared = _WorkerSamples(
        results, dtype=dtype, shared_memory=True)[0]
    assert shared and forced.is_contiguous()
    torch.testing.assert_close(forced, plain, rtol=0, atol=0)
    # Doubled maps are concatenated, not drawn in place: packed as usual.
    doubled = GeneratePoseHeatmaps(
        layout='mg36', double=True, shared_memory=True)(
            dict(results))
    assert not PackMGInputs()(doubled)['inputs'].is_shared()


def test_build_from_registry_and_repr():
    transform = TRANSFORMS.build(
        dict(type='GeneratePoseHeatmaps', with_limb=True, layout='mg36'))
    assert isinstance(transform, GeneratePoseHeatmaps)
    assert 'layout=mg36' in repr(transform)
    assert repr(transform).endswith('dtype=float32)')


def test_bad_arguments():
    with pytest.raises(ValueError, match='dtype'):
        GeneratePoseHeatmaps(dtype='float16')
    with pytest.raises(AssertionError):
        GeneratePoseHeatmaps(with_kp=False)
    with pytest.raises(ValueError, match='not both'):
        GeneratePoseHeatmaps(layout='mg36', skeletons=((0, 1), ))
    with pytest.raises(ValueError, match='with_limb'):
        GeneratePoseHeatmaps(with_limb=True)
    with pytest.raises(ValueError, match='double'):
        GeneratePoseHeatmaps(double=True)
    with pytest.raises(ValueError, match='same length'):
        GeneratePoseHeatmaps(double=True, left_kp=(1, 2), right_kp=(3, ))
    # (0, 1) mirrors to (0, 2), which is not a limb.
    with pytest.raises(ValueError, match='mirror'):
        GeneratePoseHeatmaps(
            with_limb=True,
            skeletons=((0, 1), ),
            double=True,
            left_kp=(1, ),
            right_kp=(2, ))


def test_config_helpers_follow_the_layout():
    assert flip_lists('mg36') == kp_pairs(MG36)
    spec = HeatmapSpec(with_kp=True, with_limb=True, layout='mg36')
    assert spec.num_channels() == MG36.num_keypoints + len(MG36.edges)
    assert HeatmapSpec(skeletons=((0, 1), )).num_channels(5) == 5
    with pytest.raises(ValueError, match='num_kp'):
        HeatmapSpec().num_channels()
