"""The ST-GCN++ configs on MG36: every full stream scores a real sample of
the tiny pose pickle through its test pipeline, and the toy joint stream
trains through tools/train.py with a falling loss and dumps a fusable score
file through tools/test.py."""
import copy
import glob
import json
import os.path as osp
import pickle

import numpy as np
import pytest
import torch
from mmaction.registry import MODELS, TRANSFORMS
from mmaction.utils import register_all_modules
from mmengine.dataset import Compose, pseudo_collate

from mmmg.evaluation import load_scores
from mmmg.keypoints import gcn_layout
from mmmg.utils.config import read_config
from ..conftest import REPO, run_tool

STREAMS = ('joint', 'bone', 'joint_motion', 'bone_motion')
TOY = osp.join(REPO, 'configs', 'skeleton', 'stgcnpp',
               'stgcnpp_mg36_joint_toy.py')


def _path(stream):
    return osp.join(REPO, 'configs', 'skeleton', 'stgcnpp',
                    f'stgcnpp_mg36_{stream}_imigue.py')


@pytest.mark.parametrize('stream', STREAMS)
def test_full_stream_scores_a_real_sample(stream, tiny_pose_ann):
    register_all_modules()
    cfg = read_config(_path(stream))
    assert cfg.model.backbone.graph_cfg.layout == gcn_layout('mg36')
    assert cfg.train_dataloader.dataset.times == 5
    assert cfg.train_dataloader.batch_size * 8 == 128
    test_set = cfg.test_dataloader.dataset
    feats = [
        t for t in test_set.pipeline if t['type'] == 'LayoutSkeletonFeatures'
    ]
    assert feats[0]['feats'] == [{
        'joint': 'j',
        'bone': 'b',
        'joint_motion': 'jm',
        'bone_motion': 'bm'
    }[stream]]
    with open(tiny_pose_ann, 'rb') as f:
        ann = pickle.load(f)['annotations'][0]
    pipeline = Compose([TRANSFORMS.build(t) for t in test_set.pipeline])
    data = pipeline(dict(copy.deepcopy(ann), start_index=0, modality='Pose'))
    # 10 clips of 100 frames, one person, 36 points, x / y / score.
    assert tuple(data['inputs'].shape) == (10, 1, 100, 36, 3)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model).eval()
    with torch.no_grad():
        [out] = model.test_step(pseudo_collate([data]))
    scores = out.pred_scores.item
    assert scores.shape == (32, )
    assert torch.isclose(scores.sum(), torch.tensor(1.), atol=1e-4)


def _losses(work_dir):
    [scalars] = glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))
    with open(scalars) as f:
        return [r['loss'] for r in map(json.loads, f) if 'loss' in r]


def test_toy_stream_trains_and_dumps_fusable_scores(tiny_pose_ann, tmp_path):
    opts = []
    for loader in ('train', 'val', 'test'):
        opts += [
            f'{loader}_dataloader.dataset.ann_file={tiny_pose_ann}',
            f'{loader}_dataloader.num_workers=0',
            f'{loader}_dataloader.persistent_workers=False'
        ]
    work_dir = str(tmp_path / 'train')
    proc = run_tool([
        'tools/train.py', TOY, '--work-dir', work_dir, '--cfg-options',
        'train_cfg.max_epochs=4', 'train_cfg.val_interval=4',
        'train_dataloader.batch_size=4', 'default_hooks.logger.interval=1',
        'param_scheduler.0.T_max=4'
    ] + opts)
    assert proc.returncode == 0, proc.stderr[-4000:]
    losses = _losses(work_dir)
    assert np.mean(losses[-3:]) < np.mean(losses[:3]), losses
    out = str(tmp_path / 'gcn_joint.pkl')
    proc = run_tool([
        'tools/test.py', TOY,
        osp.join(work_dir, 'epoch_4.pth'), '--work-dir',
        str(tmp_path /
            'test'), '--dump', out, '--stream', 'gcn_joint', '--cfg-options'
    ] + opts)
    assert proc.returncode == 0, proc.stderr[-4000:]
    scores = load_scores(out)
    assert scores['streams'] == ['gcn_joint']
    with open(tiny_pose_ann, 'rb') as f:
        test_ids = pickle.load(f)['split']['test']
    assert sorted(s['id'] for s in scores['samples']) == sorted(test_ids)
