"""GPU-rendering variants (``*_gpu_render.py``): the loader ships keypoints,
the data preprocessor draws the maps, and the model gets the same batch
as from the CPU config it inherits."""
import copy
import os.path as osp
import random

import numpy as np
import pytest
import torch
from mmaction.registry import MODELS
from mmaction.utils import register_all_modules
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate

from mmmg.keypoints import get_layout
from mmmg.utils.config import read_config
from mmmg.utils.gpu_render import render_on_device
from ..conftest import REPO
from ..video_helpers import write_index_video

POSE = 'configs/skeleton/posec3d/posec3d_slowonly_{}.py'
RGBPOSE = 'configs/multimodal/rgbposec3d/rgbposec3d_mg36_{}.py'
CPU_CONFIGS = [
    POSE.format(s) for s in ('mg36_joint_imigue', 'mg36_limb_imigue',
                             'kinect25_joint_smg', 'kinect25_limb_smg')
] + [RGBPOSE.format(s) for s in ('joint_imigue', 'limb_imigue')]
LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')
# The maps of both paths agree to float32 rounding
# (tests/models/data_preprocessors).
ATOL = 1e-5
BATCH = 2
# Test clips per sample here (the configs' 10 make 1.1 GB of CPU maps a
# batch); the same on both paths.
TEST_CLIPS = 2
VIDEO_FRAMES = 40
VIDEO_SIZE = (64, 48)  # (W, H)


def gpu_config(cpu_config):
    return cpu_config[:-3] + '_gpu_render.py'


@pytest.fixture(scope='module')
def video(tmp_path_factory):
    register_all_modules()
    return write_index_video(
        tmp_path_factory.mktemp('gpu_render') / 'interview.mp4',
        VIDEO_FRAMES,
        size=VIDEO_SIZE)


def synthetic_samples(layout, video=None, seed=0):
    """One- and two-person samples wandering over the frame, with missed
    and unsure points; RGBPose samples are segments of ``video``."""
    rng = np.random.default_rng(seed)
    num_kp = get_layout(layout).num_keypoints
    if video is None:
        h, w = 480, 640
        frames = 70
    else:
        (w, h), frames = VIDEO_SIZE, VIDEO_FRAMES - 4
    samples = []
    for i in range(BATCH):
        shape = (i + 1, frames, num_kp)
        centre = rng.uniform(0.3, 0.7, (i + 1, 1, 1, 2)) * (w, h)
        walk = np.cumsum(rng.normal(0, 0.01, shape[:2] + (1, 2)), 1)
        kp = centre + (rng.uniform(-.25, .25, shape + (2, )) + walk) * h
        score = rng.uniform(0.2, 1, shape)
        score[rng.random(shape) < 0.1] = 0
        sample = dict(
            frame_dir=f'clip{i}',
            sample_id=f'clip{i}',
            label=i,
            total_frames=frames,
            img_shape=(h, w),
            original_shape=(h, w),
            keypoint=kp.astype(np.float32),
            keypoint_score=score.astype(np.float32),
            start_index=0,
            modality='Pose')
        if video is not None:
            sample.update(filename=video, start=2 * i)
        samples.append(sample)
    return samples


def run_loader(cfg, loader, samples, seed):
    """What the loader of ``cfg`` makes of ``samples`` (every sample's
    random draws seeded alike on both paths): the batch, and the bytes of
    the first sample's inputs."""
    dataset = cfg[loader]['dataset']
    while 'pipeline' not in dataset:
        dataset = dataset['dataset']
    pipeline = Compose([
        dict(t, num_clips=TEST_CLIPS)
        if t['type'].endswith('UniformSampleFrames')
        and t.get('num_clips', 1) > 1 else t for t in dataset['pipeline']
    ])
    packed = []
    for i, sample in enumerate(samples):
        random.seed(seed + i)
        np.random.seed(seed + i)
        packed.append(pipeline(copy.deepcopy(sample)))
    inputs = packed[0]['inputs']
    if not isinstance(inputs, dict):
        inputs = dict(inputs=inputs)
    return pseudo_collate(packed), {
        k: v.numpy().nbytes
        for k, v in inputs.items()
    }


def preprocessor(cfg):
    return MODELS.build(
        cfg.model.get('data_preprocessor')
        or dict(type='ActionDataPreprocessor'))


@pytest.fixture(scope='module')
def configs():
    register_all_modules()
    return {
        path: (read_config(osp.join(REPO, path)),
               read_config(osp.join(REPO, gpu_config(path))))
        for path in CPU_CONFIGS
    }


@pytest.mark.parametrize('path', CPU_CONFIGS, ids=osp.basename)
def test_variant_equals_cpu_path(path, configs, video):
    """Train, val and (flip-doubled) test batches of the GPU-rendering
    variant equal those of the CPU config after the data preprocessor; the
    loader moves at most 1/20 of the bytes of the maps it no longer draws
    (RGBPose's RGB frames travel as before)."""
    cpu_cfg, gpu_cfg = configs[path]
    rgbpose = 'rgbpose' in path
    samples = synthetic_samples(cpu_cfg.layout, video if rgbpose else None)
    cpu_pre, gpu_pre = preprocessor(cpu_cfg), preprocessor(gpu_cfg)
    # The variant only swaps the pipeline tail and the data preprocessor.
    assert gpu_cfg.model.backbone == cpu_cfg.model.backbone
    assert gpu_cfg.optim_wrapper == cpu_cfg.optim_wrapper
    assert gpu_cfg.custom_imports == cpu_cfg.custom_imports
    for seed, loader in enumerate(LOADERS):
        training = loader == 'train_dataloader'
        cpu_batch, cpu_bytes = run_loader(cpu_cfg, loader, samples, seed)
        gpu_batch, gpu_bytes = run_loader(gpu_cfg, loader, samples, seed)
        expect = cpu_pre(cpu_batch, training)
        out = gpu_pre(gpu_batch, training)
        if rgbpose:
            torch.testing.assert_close(out['inputs']['imgs'],
                                       expect['inputs']['imgs'])
            maps, expect_maps = (out['inputs']['heatmap_imgs'],
                                 expect['inputs']['heatmap_imgs'])
            # The pose branch: keypoints against its maps.
            pose_bytes = gpu_bytes['keypoint'] + gpu_bytes['keypoint_score']
            assert pose_bytes * 20 <= cpu_bytes['heatmap_imgs']
            assert gpu_bytes['imgs'] == cpu_bytes['imgs']
        else:
            maps, expect_maps = out['inputs'], expect['inputs']
            assert sum(gpu_bytes.values()) * 20 <= cpu_bytes['inputs']
        assert maps.shape == expect_maps.shape
        torch.testing.assert_close(maps, expect_maps, rtol=0, atol=ATOL)
        assert expect_maps.amax() > 0.5
        assert [s.gt_labels.item for s in out['data_samples']
                ] == [s.gt_labels.item for s in expect['data_samples']]
        assert [s.sample_id for s in out['data_samples']] == ['clip0', 'clip1']
    # The last loader is the test one: its clips, each with its mirror for
    # PoseConv3D.
    assert maps.shape[1] == TEST_CLIPS * (1 if rgbpose else 2)


def test_variants_read_their_cpu_configs_heatmaps(configs):
    for path, (cpu_cfg, gpu_cfg) in configs.items():
        cpu_maps = cpu_cfg.train_dataloader
        pre = gpu_cfg.model.data_preprocessor
        if pre.type == 'MultiModalHeatmapDataPreprocessor':
            assert pre.preprocessors.imgs == (
                cpu_cfg.model.data_preprocessor.preprocessors.imgs)
            pre = pre.preprocessors.heatmap_imgs
        while 'pipeline' not in cpu_maps:
            cpu_maps = cpu_maps['dataset']
        cpu_maps = next(t for t in cpu_maps['pipeline']
                        if t['type'] == 'GeneratePoseHeatmaps')
        assert pre == dict(
            type='HeatmapDataPreprocessor',
            **{
                k: v
                for k, v in cpu_maps.items() if k != 'type'
            }), path
        # Test-time flip doubling is the loader's word, per pipeline.
        pack = gpu_cfg.test_dataloader.dataset.pipeline[-1]
        assert pack.type == 'PackPoseKeypoints'
        assert pack.double == ('skeleton' in path)


def test_render_on_device_refuses_what_it_cannot_move():
    base = dict(
        model=dict(type='Recognizer3D'),
        train_dataloader=dict(dataset=dict(pipeline=[])),
        val_dataloader=dict(dataset=dict(pipeline=[])),
        test_dataloader=dict(dataset=dict(pipeline=[])))
    heatmaps = dict(type='GeneratePoseHeatmaps', layout='mg36')
    tail = [
        dict(type='FormatShape', input_format='NCTHW_Heatmap'),
        dict(type='PackMGInputs')
    ]

    def cfg(**pipelines):
        c = Config(copy.deepcopy(base))
        for loader, pipeline in pipelines.items():
            c[loader].dataset.pipeline = pipeline
        return c

    good = [heatmaps] + tail
    with pytest.raises(ValueError, match='train_dataloader: expected one'):
        render_on_device(cfg(val_dataloader=good, test_dataloader=good))
    with pytest.raises(ValueError, match='cannot move Flip'):
        render_on_device(
            cfg(train_dataloader=[heatmaps, dict(type='Flip')] + tail,
                val_dataloader=good,
                test_dataloader=good))
    with pytest.raises(ValueError, match='test_dataloader draws heatmaps'):
        render_on_device(
            cfg(train_dataloader=good,
                val_dataloader=good,
                test_dataloader=[dict(heatmaps, sigma=1.)] + tail))
    model, train, _, test = render_on_device(
        cfg(train_dataloader=good,
            val_dataloader=good,
            test_dataloader=[dict(heatmaps, double=True)] + tail))
    assert model == dict(
        data_preprocessor=dict(type='HeatmapDataPreprocessor', layout='mg36'))
    assert train['dataset']['pipeline'] == [
        dict(type='PackPoseKeypoints', double=False, collect_keys=())
    ]
    assert test['dataset']['pipeline'][-1]['double'] is True
    # uint8 maps in the loader reach the model as 255 x the maps; the
    # device draws them in [0, 1], so its normalisation scales them alike.
    uint8 = [dict(heatmaps, dtype='uint8')] + tail
    model, *_ = render_on_device(
        cfg(train_dataloader=uint8,
            val_dataloader=uint8,
            test_dataloader=uint8))
    assert model == dict(
        data_preprocessor=dict(
            type='HeatmapDataPreprocessor',
            layout='mg36',
            mean=[0.],
            std=[1 / 255]))


def test_toy_variant_trains(tiny_pose_ann):
    """The joint toy, derived as the full variants are, learns from maps
    drawn by its data preprocessor (never flip-doubled in training)."""
    from mmaction.registry import DATASETS
    from mmengine.optim import build_optim_wrapper

    register_all_modules()
    cfg = read_config(osp.join(REPO, POSE.format('mg36_joint_toy')))
    model_cfg, train, _, _ = render_on_device(cfg)
    cfg.merge_from_dict(dict(model=model_cfg, train_dataloader=train))
    dataset = DATASETS.build(
        dict(cfg.train_dataloader.dataset, ann_file=tiny_pose_ann))
    np.random.seed(0)
    batch = pseudo_collate([dataset[i] for i in range(0, 36, 6)])
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    optim = build_optim_wrapper(
        model, dict(optimizer=dict(type='SGD', lr=0.05, momentum=0.9)))
    inputs = model.data_preprocessor(batch, training=True)['inputs']
    assert inputs.shape == (6, 1, 36, 16, 32, 32)
    losses = [
        float(model.train_step(batch, optim)['loss_cls']) for _ in range(4)
    ]
    assert losses[-1] < 0.7 * losses[0], losses
