"""Every config reads, builds its model, and agrees with the layouts."""
import glob
import os.path as osp

import pytest
from mmaction.registry import MODELS
from mmaction.utils import register_all_modules

import mmmg  # noqa: F401
from mmmg.keypoints import get_layout
from mmmg.utils.config import read_config
from ..conftest import REPO

CONFIGS = sorted(
    p for p in glob.glob(
        osp.join(REPO, 'configs', '**', '*.py'), recursive=True)
    if '_base_' not in osp.relpath(p, REPO).split(osp.sep))


def _pipelines(cfg):
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        loader = cfg.get(key)
        if loader:
            yield loader['dataset'].get('pipeline', [])


@pytest.mark.parametrize(
    'path', CONFIGS, ids=[osp.basename(p) for p in CONFIGS])
def test_config(path):
    register_all_modules()
    cfg = read_config(path)
    assert cfg.custom_imports['imports'] == ['mmmg']
    # Long-tail models read their training annotations or class vectors
    # when built: test_long_tail_configs builds them on test data.
    if osp.basename(osp.dirname(path)) != 'long_tail':
        MODELS.build(cfg.model)
    layout = get_layout(cfg.get('layout', 'mg36'))
    for pipeline in _pipelines(cfg):
        for t in pipeline:
            if t['type'] == 'Flip' and 'left_kp' in t:
                pairs = list(zip(t['left_kp'], t['right_kp']))
                assert pairs == layout.flip_pairs, path


@pytest.mark.parametrize(
    'path', CONFIGS, ids=[osp.basename(p) for p in CONFIGS])
def test_heatmap_channels_match_backbone(path):
    cfg = read_config(path)
    for pipeline in _pipelines(cfg):
        for t in pipeline:
            if t['type'] != 'GeneratePoseHeatmaps':
                continue
            layout = get_layout(t['layout'])
            channels = (
                layout.num_keypoints * t.get('with_kp', True) +
                len(layout.edges) * t.get('with_limb', False))
            backbone = cfg.model.backbone
            if backbone.type == 'RGBPoseConv3D':
                backbone = backbone.pose_pathway
            assert backbone.in_channels == channels, path


# The *_gpu_render.py variants load keypoints, not maps:
# tests/configs/test_gpu_render_configs.py runs them against these.
RECIPES = [
    p for p in CONFIGS if osp.basename(p).startswith('posec3d') and not any(
        s in osp.basename(p) for s in ('_toy', '_gpu_render'))
]


@pytest.fixture(scope='module')
def tiny_smg_ann(tmp_path_factory):
    """Kinect-25 annotations of the synthetic SMG release."""
    from mmmg.data_prep.smg_release import convert_smg_release
    from ..data_prep.test_smg_release import make_release
    root = tmp_path_factory.mktemp('smg')
    make_release(str(root / 'release'))
    convert_smg_release(
        str(root / 'release'), str(root / 'ann'), progress=False)
    return str(root / 'ann' / 'smg_kinect25.pkl')


@pytest.mark.parametrize(
    'path', RECIPES, ids=[osp.basename(p) for p in RECIPES])
def test_posec3d_recipe_runs(path, tiny_pose_ann, tiny_smg_ann):
    """The full MiGA-2025 recipe: 48 frames, 56 train / 64 test maps, ten
    flipped test clips, and one training step of the full-size model."""
    import torch
    from mmaction.registry import DATASETS
    from mmengine.dataset import pseudo_collate

    register_all_modules()
    cfg = read_config(path)
    ann = tiny_smg_ann if cfg.layout == 'kinect25' else tiny_pose_ann
    channels = cfg.model.backbone.in_channels
    # The recipes repeat the training set (RepeatDataset x10, as the anchor).
    repeat = cfg.train_dataloader.dataset
    assert repeat.type == 'RepeatDataset' and repeat.times == 10
    train = DATASETS.build(dict(repeat.dataset, ann_file=ann))
    test = DATASETS.build(
        dict(
            cfg.test_dataloader.dataset,
            ann_file=ann,
            split=repeat.dataset.split))
    assert train[0]['inputs'].shape == (1, channels, 48, 56, 56)
    # 10 clips x (original + mirror), one sample id for all of them.
    assert test[0]['inputs'].shape == (20, channels, 48, 64, 64)

    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    batch = model.data_preprocessor(
        pseudo_collate([train[0], train[1]]), training=True)
    losses = model(**batch, mode='loss')
    loss = sum(v for k, v in losses.items() if 'loss' in k)
    assert torch.isfinite(loss)
    loss.backward()
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    assert grads and all(torch.isfinite(g).all() for g in grads)
