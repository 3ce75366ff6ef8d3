"""MultiModalHeatmapDataPreprocessor: RGB frames as MMAction2 handles them,
keypoints drawn into the ``heatmap_imgs`` modality."""
import pytest
import torch
from mmaction.datasets.transforms import PackActionInputs
from mmaction.models import MultiModalDataPreprocessor
from mmaction.registry import MODELS
from mmengine.dataset import pseudo_collate

from mmmg.models.data_preprocessors import MultiModalHeatmapDataPreprocessor
from .test_heatmap_preprocessor import ATOL, by_transform, random_samples

RGB = dict(
    type='ActionDataPreprocessor',
    mean=[100., 110., 120.],
    std=[50., 60., 70.],
    format_shape='NCTHW')
MAPS = dict(sigma=0.7, layout='mg36', with_kp=False, with_limb=True)


def test_keypoints_become_heatmap_imgs():
    """As MMAction2's preprocessor on maps the loader drew."""
    samples = random_samples(num_clips=1, clip_len=4)
    gen = torch.Generator().manual_seed(0)
    imgs = [torch.rand(1, 3, 2, 8, 8, generator=gen) * 255 for _ in samples]
    pack = PackActionInputs(
        collect_keys=('keypoint', 'keypoint_score'),
        meta_keys=('img_shape', 'num_clips', 'clip_len'))
    packed = []
    for sample, img in zip(samples, imgs):
        results = pack(dict(sample))
        results['inputs']['imgs'] = img
        packed.append(results)
    ours = MODELS.build(
        dict(
            type='MultiModalHeatmapDataPreprocessor',
            preprocessors=dict(
                imgs=RGB,
                heatmap_imgs=dict(type='HeatmapDataPreprocessor', **MAPS))))
    out = ours(pseudo_collate(packed))['inputs']

    stock = MultiModalDataPreprocessor(
        dict(imgs=RGB, heatmap_imgs=dict(type='ActionDataPreprocessor')))
    loader_maps = by_transform(samples, **MAPS)
    expect = stock(
        dict(
            inputs=dict(imgs=imgs, heatmap_imgs=list(loader_maps)),
            data_samples=pseudo_collate(packed)['data_samples']))['inputs']
    assert set(out) == {'imgs', 'heatmap_imgs'}
    torch.testing.assert_close(out['imgs'], expect['imgs'])
    torch.testing.assert_close(
        out['heatmap_imgs'], expect['heatmap_imgs'], rtol=0, atol=ATOL)


def test_heatmap_imgs_needs_the_heatmap_preprocessor():
    with pytest.raises(TypeError, match='HeatmapDataPreprocessor'):
        MultiModalHeatmapDataPreprocessor(
            dict(imgs=RGB, heatmap_imgs=dict(type='ActionDataPreprocessor')))
