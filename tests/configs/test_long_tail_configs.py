"""The configs/long_tail toy configs: they point the class weights at the
dataset's own training annotations, build with the weights of those
annotations, and train through tools/train.py with a falling loss; the
options of benchmarks/bench_long_tail.py resolve to those configs."""
import glob
import json
import os.path as osp
import pickle
import sys

import numpy as np
import pytest
import torch
from mmaction.registry import MODELS
from mmaction.utils import register_all_modules

from mmmg.keypoints.gap_filling import fill_keypoint_gaps
from mmmg.utils.config import read_config
from ..conftest import REPO, run_tool

sys.path.insert(0, osp.join(REPO, 'benchmarks'))
import bench_long_tail  # noqa: E402

# config -> (data, head type, class-weighted CE)
CONFIGS = {
    'posec3d_mg36_joint_toy_class_balanced.py': ('pose', 'I3DHead', False),
    'posec3d_mg36_joint_toy_class_balanced_sqrt_weights.py':
    ('pose', 'I3DHead', True),
    'posec3d_mg36_joint_toy_sqrt_weights.py': ('pose', 'I3DHead', True),
    'posec3d_mg36_joint_toy_semantic_embedding.py':
    ('pose', 'SemanticEmbeddingHead', True),
    'posec3d_mg36_joint_toy_label_embedding.py':
    ('pose', 'LabelEmbeddingHead', False),
    'swin_tiny_rgb_toy_sqrt_weights.py': ('video', 'I3DHead', True),
    'swin_tiny_rgb_toy_semantic_embedding.py':
    ('video', 'SemanticEmbeddingHead', True),
    'swin_tiny_rgb_toy_label_embedding.py': ('video', 'LabelEmbeddingHead',
                                             False),
}
# The sampler alone is not trained: the sampler + weights config trains
# both of its parts in one run.
TRAINED = sorted(set(CONFIGS) - {'posec3d_mg36_joint_toy_class_balanced.py'})
EPOCHS = {'pose': 4, 'video': 6}
LOADERS = {
    'train_dataloader': 'train',
    'val_dataloader': 'val',
    'test_dataloader': 'test'
}
NUM_CLASSES = 32


def _path(name):
    return osp.join(REPO, 'configs', 'long_tail', name)


@pytest.fixture(scope='module')
def long_tail_pose_ann(tiny_pose_ann, tmp_path_factory):
    """The tiny pose pickle with a long-tailed training split: 12 / 6 / 3
    clips of classes 10 / 16 / 22."""
    with open(tiny_pose_ann, 'rb') as f:
        data = pickle.load(f)
    keep = {10: 12, 16: 6, 22: 3}
    label_of = {a['frame_dir']: a['label'] for a in data['annotations']}
    train = []
    for sample_id in data['split']['train']:
        if keep[label_of[sample_id]] > 0:
            keep[label_of[sample_id]] -= 1
            train.append(sample_id)
    data['split']['train'] = train
    path = str(tmp_path_factory.mktemp('long_tail') / 'long_tail_mg36.pkl')
    with open(path, 'wb') as f:
        pickle.dump(data, f)
    return path


@pytest.fixture(scope='module')
def label_vectors(tmp_path_factory):
    """A random stand-in for 300-d class word vectors (norm about 5)."""
    path = str(tmp_path_factory.mktemp('label_vectors') / 'vectors.npy')
    rng = np.random.default_rng(0)
    np.save(path,
            (0.3 * rng.normal(size=(NUM_CLASSES, 300))).astype(np.float32))
    return path


def _train_ann(data, pose_ann, toy_imigue):
    if data == 'pose':
        return pose_ann
    return osp.join(toy_imigue['annotations'], 'rgb_train.txt')


def _train_counts(data, ann):
    """Training clips per class, counted independently of mmmg."""
    if data == 'pose':
        with open(ann, 'rb') as f:
            d = pickle.load(f)
        train = set(d['split']['train'])
        labels = [
            a['label'] for a in d['annotations'] if a['frame_dir'] in train
        ]
    else:
        with open(ann) as f:
            labels = [int(line.split()[-1]) for line in f if line.strip()]
    return np.bincount(labels, minlength=NUM_CLASSES)


def _model_overrides(name, data, pose_ann, toy_imigue, label_vectors):
    _, head, weighted = CONFIGS[name]
    opts = {}
    if weighted:
        opts['model.cls_head.loss_cls.class_weight.ann_file'] = _train_ann(
            data, pose_ann, toy_imigue)
    if head == 'LabelEmbeddingHead':
        opts['model.cls_head.embedding_file'] = label_vectors
    return opts


@pytest.mark.parametrize('name', sorted(CONFIGS))
def test_config_builds_with_weights_of_its_annotations(name,
                                                       long_tail_pose_ann,
                                                       toy_imigue,
                                                       label_vectors):
    data, head, weighted = CONFIGS[name]
    register_all_modules()
    cfg = read_config(_path(name))
    assert cfg.custom_imports['imports'] == ['mmmg']
    assert cfg.model.cls_head.type == head
    assert cfg.model.cls_head.in_channels == 128
    if 'class_balanced' in name:
        # Both sampler configs draw classes in proportion to sqrt(n_c).
        assert cfg.train_dataloader.sampler == dict(
            type='ClassBalancedSampler', power=0.5)
    if weighted:
        spec = cfg.model.cls_head.loss_cls.class_weight
        train_set = cfg.train_dataloader.dataset
        # The weights come from the training data the config trains on.
        assert spec.ann_file == train_set.ann_file
        assert spec.get('split') == train_set.get('split')
        assert spec.mode == 'sqrt_inverse'
        assert spec.num_classes == NUM_CLASSES
    cfg.merge_from_dict(
        _model_overrides(name, data, long_tail_pose_ann, toy_imigue,
                         label_vectors))
    model = MODELS.build(cfg.model)
    loss_cls = model.cls_head.loss_cls
    if weighted:
        n = _train_counts(data, _train_ann(data, long_tail_pose_ann,
                                           toy_imigue)).astype(float)
        raw = np.full(NUM_CLASSES, (1 / np.sqrt(n[n > 0])).max())
        raw[n > 0] = 1 / np.sqrt(n[n > 0])
        np.testing.assert_allclose(
            loss_cls.class_weight.numpy(), raw / raw.mean(), rtol=1e-6)
    else:
        assert loss_cls.class_weight is None
    if head == 'SemanticEmbeddingHead':
        torch.testing.assert_close(model.cls_head.class_embeddings,
                                   torch.eye(NUM_CLASSES))
    if head == 'LabelEmbeddingHead':
        np.testing.assert_array_equal(model.cls_head.class_embeddings,
                                      np.load(label_vectors))


def _train_options(name, pose_ann, toy_imigue, label_vectors):
    data = CONFIGS[name][0]
    opts = [
        f'train_cfg.max_epochs={EPOCHS[data]}', 'train_cfg.val_interval=100',
        'train_dataloader.batch_size=6', 'default_hooks.logger.interval=1',
        'param_scheduler=[]', 'default_hooks.checkpoint.save_best=None'
    ]
    for loader, split in LOADERS.items():
        if data == 'pose':
            ann = pose_ann
        else:
            ann = osp.join(toy_imigue['annotations'], f'rgb_{split}.txt')
            opts.append(f'{loader}.dataset.data_prefix.video='
                        f'{toy_imigue["release"]}')
        opts += [
            f'{loader}.dataset.ann_file={ann}', f'{loader}.num_workers=0',
            f'{loader}.persistent_workers=False'
        ]
    opts += [
        f'{k}={v}' for k, v in _model_overrides(
            name, data, pose_ann, toy_imigue, label_vectors).items()
    ]
    return opts


def _logged(work_dir, key):
    [scalars] = sorted(
        glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json')))[-1:]
    with open(scalars) as f:
        return [r[key] for r in map(json.loads, f) if key in r]


@pytest.mark.parametrize('name', TRAINED)
def test_config_trains_with_falling_loss(name, long_tail_pose_ann, toy_imigue,
                                         label_vectors, tmp_path):
    work_dir = str(tmp_path)
    proc = run_tool([
        'tools/train.py',
        _path(name), '--work-dir', work_dir, '--cfg-options'
    ] + _train_options(name, long_tail_pose_ann, toy_imigue, label_vectors))
    assert proc.returncode == 0, proc.stderr[-4000:]
    log = proc.stdout + proc.stderr
    if CONFIGS[name][2]:
        assert 'MGCrossEntropyLoss: class weights (sqrt_inverse)' in log
    losses = _logged(work_dir, 'loss')
    assert np.mean(losses[-2:]) < np.mean(losses[:2]), losses
    if CONFIGS[name][1] != 'I3DHead':
        embed = _logged(work_dir, 'loss_embed')
        assert len(embed) == len(losses)
        assert embed[-1] < embed[0], embed


def test_benchmark_options_resolve_to_distinct_runs():
    """Every option of the benchmark reads an existing config with its
    overrides and has its own run folder (runs are resumed by folder)."""
    options = bench_long_tail.OPTIONS
    assert len({o.slug for o in options.values()}) == len(options)
    samplers = {}
    for name, option in options.items():
        cfg = read_config(osp.join(REPO, option.config))
        cfg.merge_from_dict(dict(o.split('=', 1) for o in option.cfg_options))
        samplers[name] = cfg.train_dataloader.sampler
    assert float(samplers['class-balanced p=1'].power) == 1
    assert samplers['class-balanced p=0.5'].power == 0.5
    assert samplers['class-bal. p=0.5 + sqrt w.'].power == 0.5
    assert samplers['plain CE'].type == 'DefaultSampler'
    assert options['plain CE, gaps filled'].filled
    assert options['plain CE, gaps filled'].config == (
        options['plain CE'].config)


def test_benchmark_counts_hidden_and_restored_points(tmp_path):
    """The gap-filling table's counts, against a hand-made dropout
    pattern: per track, a 2-frame gap (restored by --fill-gaps 5), a
    7-frame gap (kept) and a gap at the clip's end (kept)."""
    rng = np.random.default_rng(0)
    frames, points, tracks = 30, 4, 3
    kp = rng.uniform(0, 64, (1, frames, points, 2)).astype(np.float32)
    score = np.ones((1, frames, points), np.float32)
    score[0, 5:7, :tracks] = 0
    score[0, 12:19, :tracks] = 0
    score[0, 27:, :tracks] = 0
    paths = []
    for name, max_gap in (('raw', 0), ('filled', 5)):
        new_kp, new_score, _ = fill_keypoint_gaps(kp, score, max_gap)
        clip = dict(keypoint=new_kp, keypoint_score=new_score)
        path = tmp_path / f'{name}.pkl'
        with open(path, 'wb') as f:
            pickle.dump(dict(split={}, annotations=[clip, clip]), f)
        paths.append(str(path))
    assert bench_long_tail.missing_points(paths[0]) == (2 * tracks * 12,
                                                        2 * frames * points)
    assert bench_long_tail.missing_points(paths[1]) == (2 * tracks * 10,
                                                        2 * frames * points)
