"""The GCN configs on MG36 (ST-GCN++ and CTR-GCN): every full stream scores
a real sample of the tiny pose pickle through its test pipeline, each
CTR-GCN stream is its ST-GCN++ stream with only the backbone changed (as in
PYSKL), and each toy joint stream trains through tools/train.py with a
falling loss and dumps a fusable score file through tools/test.py."""
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
from mmmg.utils.pipelines import update_transforms
from ..conftest import REPO, run_tool

STREAMS = ('joint', 'bone', 'joint_motion', 'bone_motion')
FEATS = dict(joint='j', bone='b', joint_motion='jm', bone_motion='bm')


def _path(model, stream):
    name = 'joint_toy' if stream == 'toy' else f'{stream}_imigue'
    return osp.join(REPO, 'configs', 'skeleton', model,
                    f'{model}_mg36_{name}.py')


def _score_first_sample(cfg, pipeline, ann_file):
    """The model of ``cfg`` scores the first sample of ``ann_file`` through
    ``pipeline``; returns the packed inputs and the class scores."""
    with open(ann_file, 'rb') as f:
        ann = pickle.load(f)['annotations'][0]
    pipeline = Compose([TRANSFORMS.build(t) for t in pipeline])
    data = pipeline(dict(copy.deepcopy(ann), start_index=0, modality='Pose'))
    torch.manual_seed(0)
    model = MODELS.build(cfg.model).eval()
    with torch.no_grad():
        [out] = model.test_step(pseudo_collate([data]))
    scores = out.pred_scores.item
    assert scores.shape == (32, )
    assert torch.isclose(scores.sum(), torch.tensor(1.), atol=1e-4)
    return data['inputs']


@pytest.mark.parametrize('stream', STREAMS)
def test_full_stream_scores_a_real_sample(stream, tiny_pose_ann):
    register_all_modules()
    cfg = read_config(_path('stgcnpp', stream))
    assert cfg.model.backbone.graph_cfg.layout == gcn_layout('mg36')
    assert cfg.train_dataloader.dataset.times == 5
    assert cfg.train_dataloader.batch_size * 8 == 128
    # Every pipeline, the top-level ones too (MMAction2's inference API
    # reads test_pipeline), computes this stream's features.
    for pipeline in (cfg.train_pipeline, cfg.val_pipeline, cfg.test_pipeline,
                     cfg.train_dataloader.dataset.dataset.pipeline,
                     cfg.val_dataloader.dataset.pipeline,
                     cfg.test_dataloader.dataset.pipeline):
        [feats] = [
            t['feats'] for t in pipeline
            if t['type'] == 'LayoutSkeletonFeatures'
        ]
        assert feats == [FEATS[stream]]
    inputs = _score_first_sample(cfg, cfg.test_dataloader.dataset.pipeline,
                                 tiny_pose_ann)
    # 10 clips of 100 frames, one person, 36 points, x / y / score.
    assert tuple(inputs.shape) == (10, 1, 100, 36, 3)


@pytest.mark.parametrize('stream', STREAMS + ('toy', ))
def test_ctrgcn_stream_is_the_stgcnpp_stream_with_ctrgcn(stream):
    register_all_modules()
    ctr = read_config(_path('ctrgcn', stream)).to_dict()
    stgcnpp = read_config(_path('stgcnpp', stream)).to_dict()
    backbone = ctr['model'].pop('backbone')
    expected = dict(
        type='CTRGCN',
        num_person=1,
        graph_cfg=stgcnpp['model'].pop('backbone')['graph_cfg'])
    if stream == 'toy':
        expected.update(
            base_channels=8, num_stages=4, inflate_stages=[3], down_stages=[3])
        ctr['model']['cls_head'].update(in_channels=32)
    assert backbone == expected
    ctr.pop('ctrgcn_backbone')
    assert ctr == stgcnpp
    # The head takes what the backbone gives.
    built = MODELS.build(backbone)
    assert built.out_channels == (16 if stream == 'toy' else 256)


def test_ctrgcn_full_model_scores_a_real_sample(tiny_pose_ann):
    register_all_modules()
    cfg = read_config(_path('ctrgcn', 'joint'))
    # One test clip of the ten keeps this quick; the pipeline is ST-GCN++'s.
    pipeline = update_transforms(
        cfg.test_dataloader.dataset.pipeline,
        UniformSampleFrames=dict(num_clips=1))
    inputs = _score_first_sample(cfg, pipeline, tiny_pose_ann)
    assert tuple(inputs.shape) == (1, 1, 100, 36, 3)


def _losses(work_dir):
    [scalars] = glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))
    with open(scalars) as f:
        return [r['loss'] for r in map(json.loads, f) if 'loss' in r]


# tools/train.py, then tools/test.py, in one fresh interpreter: one start-up
# fewer than two commands, the same code path as the command line.
TRAIN_THEN_TEST = '''
import json, runpy, sys
for tool, argv in zip(('train', 'test'), json.loads(sys.argv[1])):
    runpy.run_path(f'tools/{tool}.py', run_name='tool')['main'](argv)
'''


@pytest.mark.slow
@pytest.mark.parametrize('model', ('stgcnpp', 'ctrgcn'))
def test_toy_stream_trains_and_dumps_fusable_scores(model, tiny_pose_ann,
                                                    tmp_path):
    toy = _path(model, 'toy')
    opts = []
    for loader in ('train', 'val', 'test'):
        opts += [
            f'{loader}_dataloader.dataset.ann_file={tiny_pose_ann}',
            f'{loader}_dataloader.num_workers=0',
            f'{loader}_dataloader.persistent_workers=False'
        ]
    work_dir = str(tmp_path / 'train')
    out = str(tmp_path / 'gcn_joint.pkl')
    train = [
        toy, '--work-dir', work_dir, '--cfg-options', 'train_cfg.max_epochs=4',
        'train_cfg.val_interval=4', 'train_dataloader.batch_size=4',
        'default_hooks.logger.interval=1', 'param_scheduler.0.T_max=4'
    ] + opts
    test = [
        toy,
        osp.join(work_dir, 'epoch_4.pth'), '--work-dir',
        str(tmp_path / 'test'), '--dump', out, '--stream', 'gcn_joint',
        '--cfg-options'
    ] + opts
    proc = run_tool(['-c', TRAIN_THEN_TEST, json.dumps([train, test])])
    assert proc.returncode == 0, proc.stderr[-4000:]
    losses = _losses(work_dir)
    assert np.mean(losses[-3:]) < np.mean(losses[:3]), losses
    scores = load_scores(out)
    assert scores['streams'] == ['gcn_joint']
    with open(tiny_pose_ann, 'rb') as f:
        test_ids = pickle.load(f)['split']['test']
    assert sorted(s['id'] for s in scores['samples']) == sorted(test_ids)
