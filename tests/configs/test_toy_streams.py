"""Every toy stream trains with a falling loss and dumps one score per test
sample through tools/train.py and tools/test.py."""
import glob
import json
import os.path as osp
import pickle

import numpy as np
import pytest

from mmmg.evaluation import load_scores
from ..conftest import REPO, make_tiny_depth_model, run_tool

# config -> (data, streams in the score pickle)
STREAMS = {
    'skeleton/posec3d/posec3d_slowonly_mg36_limb_toy.py': ('pose', ['limb']),
    'multimodal/rgbposec3d/rgbposec3d_mg36_joint_toy.py':
    ('rgbpose', ['rgb', 'pose']),
    'multimodal/rgbposec3d/rgbposec3d_mg36_limb_toy.py':
    ('rgbpose', ['rgb', 'pose']),
    'multimodal/rgbposec3d/slowonly_r50_rgb_only_toy.py':
    ('rgbpose', ['rgb_only']),
    'recognition/swin/swin_tiny_rgb_toy.py': ('video', ['rgb']),
    'recognition/swin/swin_tiny_flow_toy.py': ('flow', ['flow']),
    'recognition/swin/swin_tiny_depth_toy.py': ('depth', ['depth']),
    'recognition/swin/swin_tiny_taylor_toy.py': ('taylor', ['taylor']),
}
# data_prep converter command per derived video modality
CONVERTERS = {
    'flow':
    lambda model_dir:
    ['data_prep/make_flow_videos.py', '--preset', 'ultrafast', '--pad-last'],
    'depth':
    lambda model_dir: [
        'data_prep/make_depth_videos.py', '--model',
        make_tiny_depth_model(model_dir)
    ],
    'taylor':
    lambda model_dir: ['data_prep/make_taylor_videos.py'],
}
LOADERS = {
    'train_dataloader': 'train',
    'val_dataloader': 'val',
    'test_dataloader': 'test'
}


@pytest.fixture(scope='module')
def video_roots(toy_imigue, tmp_path_factory):
    """Video root per data kind; derived modalities are converted from the
    toy release on first use by their data_prep tool."""
    roots = dict(rgbpose=toy_imigue['release'], video=toy_imigue['release'])

    def get(data):
        if data not in roots:
            tmp = tmp_path_factory.mktemp(data)
            out = str(tmp / 'videos')
            proc = run_tool(CONVERTERS[data](str(tmp / 'model')) + [
                '--input-dir', toy_imigue['release'], '--out', out,
                '--workers', '0', '--no-progress'
            ])
            assert proc.returncode == 0, proc.stderr[-4000:]
            roots[data] = out
        return roots[data]

    return get


def _options(data, toy_imigue, tiny_pose_ann, epochs, video_root=None):
    opts = [
        f'train_cfg.max_epochs={epochs}', 'train_cfg.val_interval=100',
        'train_dataloader.batch_size=6', 'default_hooks.logger.interval=1',
        'param_scheduler=[]', 'default_hooks.checkpoint.save_best=None'
    ]
    for loader, split in LOADERS.items():
        if data == 'pose':
            ann = tiny_pose_ann
        elif data == 'rgbpose':
            ann = toy_imigue['ann_file']
        else:
            ann = osp.join(toy_imigue['annotations'], f'rgb_{split}.txt')
        if data != 'pose':
            opts.append(f'{loader}.dataset.data_prefix.video={video_root}')
        opts += [
            f'{loader}.dataset.ann_file={ann}', f'{loader}.num_workers=0',
            f'{loader}.persistent_workers=False'
        ]
    return opts


def _losses(work_dir):
    [scalars] = sorted(
        glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json')))[-1:]
    with open(scalars) as f:
        return [r['loss'] for r in map(json.loads, f) if 'loss' in r]


@pytest.mark.slow
@pytest.mark.parametrize('config', sorted(STREAMS))
def test_toy_stream_trains_and_dumps(config, toy_imigue, tiny_pose_ann,
                                     video_roots, tmp_path):
    data, streams = STREAMS[config]
    root = None if data == 'pose' else video_roots(data)
    path = osp.join(REPO, 'configs', config)
    work_dir = str(tmp_path)
    proc = run_tool(
        ['tools/train.py', path, '--work-dir', work_dir, '--cfg-options'] +
        _options(data, toy_imigue, tiny_pose_ann, epochs=6, video_root=root))
    assert proc.returncode == 0, proc.stderr[-4000:]
    losses = _losses(work_dir)
    assert np.mean(losses[-2:]) < np.mean(losses[:2]), losses

    out = str(tmp_path / 'scores.pkl')
    proc = run_tool([
        'tools/test.py', path,
        osp.join(work_dir, 'epoch_6.pth'), '--work-dir', work_dir, '--dump',
        out, '--stream', streams[0], '--cfg-options'
    ] + _options(data, toy_imigue, tiny_pose_ann, epochs=6, video_root=root))
    assert proc.returncode == 0, proc.stderr[-4000:]
    scores = load_scores(out)
    ann = toy_imigue['ann_file'] if data != 'pose' else tiny_pose_ann
    with open(ann, 'rb') as f:
        test_ids = pickle.load(f)['split']['test']
    assert sorted(s['id'] for s in scores['samples']) == sorted(test_ids)
    assert sorted(scores['streams']) == sorted(streams)
    for s in scores['samples']:
        for stream in streams:
            assert abs(s['scores'][stream].sum() - 1) < 1e-4


@pytest.mark.slow
def test_ma52_pretraining_then_imigue_finetuning(toy_imigue, video_roots,
                                                 tmp_path):
    """The RGB stream's two steps at toy size: pre-train on MA-52-format
    clip lists (clips cut by data_prep/cut_clips.py), then fine-tune the
    iMiGUE model from that checkpoint; only the 52-class head is dropped."""
    ma52 = tmp_path / 'ma52'
    for split, name in (('train', 'train'), ('val', 'val')):
        proc = run_tool([
            'data_prep/cut_clips.py',
            osp.join(toy_imigue['annotations'], f'rgb_{split}.txt'),
            '--video-root', toy_imigue['release'], '--out',
            str(ma52 / name), '--clip-list',
            str(ma52 / f'{name}_list_videos.txt'), '--workers', '1',
            '--no-progress'
        ])
        assert proc.returncode == 0, proc.stderr[-4000:]
    pre = osp.join(REPO, 'configs', 'recognition', 'swin',
                   'swin_tiny_rgb_ma52_toy.py')
    common = [
        'train_cfg.val_interval=100', 'param_scheduler=[]',
        'default_hooks.checkpoint.save_best=None',
        'default_hooks.logger.interval=1'
    ]
    for loader in LOADERS:
        common += [
            f'{loader}.num_workers=0', f'{loader}.persistent_workers=False'
        ]
    opts = common + ['train_cfg.max_epochs=2', 'train_dataloader.batch_size=5']
    for loader, split in (('train_dataloader', 'train'),
                          ('val_dataloader', 'val'), ('test_dataloader',
                                                      'val')):
        opts += [
            f'{loader}.dataset.ann_file={ma52}/{split}_list_videos.txt',
            f'{loader}.dataset.data_prefix.video={ma52}/{split}'
        ]
    proc = run_tool([
        'tools/train.py', pre, '--work-dir',
        str(tmp_path / 'pre'), '--cfg-options'
    ] + opts)
    assert proc.returncode == 0, proc.stderr[-4000:]

    fine = osp.join(REPO, 'configs', 'recognition', 'swin',
                    'swin_tiny_rgb_toy.py')
    work = str(tmp_path / 'fine')
    proc = run_tool([
        'tools/train.py', fine, '--work-dir', work, '--cfg-options',
        f'load_from={tmp_path}/pre/epoch_2.pth'
    ] + _options('video', toy_imigue, None, 4, video_roots('video')))
    assert proc.returncode == 0, proc.stderr[-4000:]
    log = proc.stdout + proc.stderr
    assert 'Load checkpoint from' in log
    # The backbone loads; only the classifier's shape differs.
    mismatched = [
        line for line in log.splitlines()
        if 'size mismatch' in line or 'copying a param' in line
    ]
    assert mismatched and all('cls_head.fc_cls' in line
                              for line in mismatched), mismatched
    losses = _losses(work)
    assert np.mean(losses[-2:]) < np.mean(losses[:2]), losses
