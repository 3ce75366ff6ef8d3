"""HeatmapDataPreprocessor: the transform's maps, drawn in batch in torch."""
import numpy as np
import pytest
import torch
from mmaction.datasets.transforms import FormatShape, PackActionInputs
from mmaction.models import ActionDataPreprocessor
from mmaction.registry import MODELS
from mmengine.dataset import pseudo_collate

from mmmg.datasets.transforms import GeneratePoseHeatmaps
from mmmg.datasets.transforms.heatmaps import render_heatmaps as render_numpy
from mmmg.keypoints import get_layout
from mmmg.models.data_preprocessors import HeatmapDataPreprocessor
from mmmg.models.data_preprocessors.heatmap_renderer import render_heatmaps

ATOL = 1e-5


def random_samples(num_samples=3,
                   num_clips=1,
                   clip_len=5,
                   img_shape=(40, 48),
                   seed=0):
    """Samples with different person counts, off-frame and unsure points."""
    rng = np.random.default_rng(seed)
    h, w = img_shape
    samples = []
    for i in range(num_samples):
        shape = (i % 3 + 1, num_clips * clip_len, 36)
        kp = np.stack(
            [rng.uniform(-4, w + 4, shape),
             rng.uniform(-4, h + 4, shape)], -1).astype(np.float32)
        # Limb (5, 6) shorter than a pixel.
        kp[:, :, 6] = kp[:, :, 5] + rng.uniform(-.6, .6, kp[:, :, 5].shape)
        kp[0, 0, 7] = np.nan
        score = rng.uniform(0, 1, shape).astype(np.float32)
        score[rng.random(shape) < .2] = 0
        samples.append(
            dict(
                keypoint=kp,
                keypoint_score=score,
                img_shape=img_shape,
                num_clips=num_clips,
                clip_len=clip_len,
                label=i))
    return samples


def by_transform(samples, **kwargs):
    """The pipeline path: transform, FormatShape, pack, collate, stack."""
    pipeline = [
        GeneratePoseHeatmaps(**kwargs),
        FormatShape('NCTHW_Heatmap'),
        PackActionInputs()
    ]
    packed = []
    for sample in samples:
        results = dict(sample)
        for transform in pipeline:
            results = transform(results)
        packed.append(results)
    stacker = ActionDataPreprocessor(format_shape='NCTHW')
    return stacker(pseudo_collate(packed))['inputs']


def pack_keypoints(samples, keys=('keypoint', 'keypoint_score')):
    pack = PackActionInputs(
        collect_keys=keys, meta_keys=('img_shape', 'num_clips', 'clip_len'))
    return pseudo_collate([pack(dict(s)) for s in samples])


@pytest.mark.parametrize('kwargs', [
    dict(),
    dict(with_kp=False, with_limb=True, layout='mg36'),
    dict(with_limb=True, layout='mg36', sigma=1.1),
    dict(use_score=False, scaling=0.5),
])
def test_equals_transform(kwargs):
    samples = random_samples()
    preprocessor = HeatmapDataPreprocessor(**kwargs)
    out = preprocessor(pack_keypoints(samples))
    expect = by_transform(samples, **kwargs)
    assert out['inputs'].shape == expect.shape
    assert out['inputs'].dtype == torch.float32
    torch.testing.assert_close(out['inputs'], expect, rtol=0, atol=ATOL)
    assert out['data_samples'][1].gt_labels.item == 1


@pytest.mark.parametrize('with_limb', [False, True])
def test_flip_doubling_and_clips_equal_transform(with_limb):
    samples = random_samples(num_clips=2, clip_len=3)
    kwargs = dict(
        with_kp=not with_limb, with_limb=with_limb, layout='mg36', double=True)
    out = HeatmapDataPreprocessor(**kwargs)(pack_keypoints(samples))
    expect = by_transform(samples, **kwargs)
    assert expect.shape[:2] == (3, 4)  # 2 flips x 2 clips per sample
    torch.testing.assert_close(out['inputs'], expect, rtol=0, atol=ATOL)


def test_flip_doubling_is_test_time_only():
    """``double`` never doubles a training batch; the loader's
    ``heatmap_double`` decides per batch in inference."""
    samples = random_samples(num_clips=2, clip_len=3)
    kwargs = dict(layout='mg36', double=True)
    preprocessor = HeatmapDataPreprocessor(**kwargs)
    train = preprocessor(pack_keypoints(samples), training=True)['inputs']
    torch.testing.assert_close(
        train, by_transform(samples, layout='mg36'), rtol=0, atol=ATOL)

    def flagged(double):
        batch = pack_keypoints(samples)
        for data_sample in batch['data_samples']:
            data_sample.set_metainfo(dict(heatmap_double=double))
        return batch

    single = HeatmapDataPreprocessor(layout='mg36')
    torch.testing.assert_close(
        single(flagged(True))['inputs'],
        by_transform(samples, **kwargs),
        rtol=0,
        atol=ATOL)
    assert preprocessor(flagged(False))['inputs'].shape == train.shape
    mixed = flagged(True)
    mixed['data_samples'][0].set_metainfo(dict(heatmap_double=False))
    with pytest.raises(ValueError, match='heatmap_double'):
        single(mixed)


def test_without_scores_equals_transform():
    samples = random_samples()
    for sample in samples:
        del sample['keypoint_score']
    out = HeatmapDataPreprocessor()(pack_keypoints(samples, ('keypoint', )))
    torch.testing.assert_close(
        out['inputs'], by_transform(samples), rtol=0, atol=ATOL)


def test_heatmap_inputs_are_only_stacked():
    samples = random_samples()
    packed = []
    for sample in samples:
        results = FormatShape('NCTHW_Heatmap')(
            GeneratePoseHeatmaps()(dict(sample)))
        packed.append(PackActionInputs()(results))
    preprocessor = MODELS.build(
        dict(type='HeatmapDataPreprocessor', layout='mg36'))
    out = preprocessor(pseudo_collate(packed))
    torch.testing.assert_close(out['inputs'], by_transform(samples))


def test_normalisation():
    samples = random_samples()
    preprocessor = HeatmapDataPreprocessor(mean=[0.5] * 36, std=[2.] * 36)
    out = preprocessor(pack_keypoints(samples))
    torch.testing.assert_close(
        out['inputs'], (by_transform(samples) - 0.5) / 2, rtol=0, atol=ATOL)


def test_mixed_img_shapes_raise():
    samples = random_samples(2) + random_samples(1, img_shape=(48, 48))
    with pytest.raises(ValueError, match='img_shape'):
        HeatmapDataPreprocessor()(pack_keypoints(samples))


def test_renderer_equals_numpy_for_limbs_with_far_ends():
    """Long limbs from ends far outside the frame: both renderers measure
    from a point of the segment near the patch, so they agree to float32
    rounding (measured from an end, they would differ by ~1e-5)."""
    rng = np.random.default_rng(3)
    h, w = 56, 48
    shape = (3, 2, 6, 36)
    kp = np.stack(
        [rng.uniform(-100, w + 100, shape),
         rng.uniform(-100, h + 100, shape)], -1).astype(np.float32)
    score = rng.uniform(0, 1, shape).astype(np.float32)
    score[rng.random(shape) < .2] = 0
    skeletons = get_layout('mg36').edges
    ours = render_heatmaps(
        torch.from_numpy(kp), torch.from_numpy(score), (h, w), 0.6, True,
        skeletons)
    expect = np.stack([
        render_numpy(k, s, (h, w), 0.6, True, skeletons)
        for k, s in zip(kp, score)
    ])
    assert expect.max() > 0.5
    torch.testing.assert_close(
        ours, torch.from_numpy(expect), rtol=0, atol=5e-6)


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs CUDA')
def test_renderer_on_cuda_equals_cpu():
    rng = np.random.default_rng(0)
    kp = torch.from_numpy(
        rng.uniform(-4, 60, (4, 2, 8, 36, 2)).astype(np.float32))
    score = torch.from_numpy(
        rng.uniform(0, 1, (4, 2, 8, 36)).astype(np.float32))
    skeletons = ((0, 1), (1, 2), (2, 5), (4, 30))
    cpu = render_heatmaps(kp, score, (56, 56), 0.6, True, skeletons)
    cuda = render_heatmaps(kp.cuda(), score.cuda(), (56, 56), 0.6, True,
                           skeletons)
    torch.testing.assert_close(cuda.cpu(), cpu, rtol=0, atol=ATOL)
