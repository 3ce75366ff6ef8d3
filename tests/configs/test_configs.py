"""Every config reads, builds its model, and agrees with the layouts."""
import glob
import os.path as osp

import pytest
from mmaction.registry import MODELS
from mmaction.utils import register_all_modules

import mmmg  # noqa: F401
from mmmg.keypoints import get_layout
from mmmg.utils import read_config

from ..conftest import REPO

CONFIGS = sorted(
    p for p in glob.glob(osp.join(REPO, 'configs', '**', '*.py'),
                         recursive=True)
    if '_base_' not in p)


def _pipelines(cfg):
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        loader = cfg.get(key)
        if loader:
            yield loader['dataset'].get('pipeline', [])


@pytest.mark.parametrize('path', CONFIGS,
                         ids=[osp.basename(p) for p in CONFIGS])
def test_config(path):
    register_all_modules()
    cfg = read_config(path)
    assert cfg.custom_imports['imports'] == ['mmmg']
    MODELS.build(cfg.model)
    layout = get_layout(cfg.get('layout', 'mg36'))
    for pipeline in _pipelines(cfg):
        for t in pipeline:
            if t['type'] == 'Flip' and 'left_kp' in t:
                pairs = list(zip(t['left_kp'], t['right_kp']))
                assert pairs == layout.flip_pairs, path


@pytest.mark.parametrize('path', CONFIGS,
                         ids=[osp.basename(p) for p in CONFIGS])
def test_heatmap_channels_match_backbone(path):
    cfg = read_config(path)
    for pipeline in _pipelines(cfg):
        for t in pipeline:
            if t['type'] != 'GeneratePoseHeatmaps':
                continue
            layout = get_layout(t['layout'])
            channels = (layout.num_keypoints * t.get('with_kp', True) +
                        len(layout.edges) * t.get('with_limb', False))
            assert cfg.model.backbone.in_channels == channels, path
