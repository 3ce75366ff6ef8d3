"""LongVideoDataset + FacialVisibilitySample on real toy releases (OpenPose
workbooks, mp4s): the shared index, equivalence with the offline tool,
determinism across workers and processes, the sampling rule and bad
input."""
import json
import logging
import multiprocessing
import os
import os.path as osp
import shutil
import socket

import pytest
import xlsxwriter
from mmengine.logging import MMLogger
from mmengine.registry import init_default_scope
from torch.utils.data import DataLoader

import mmmg
from mmmg.data_prep.imigue_release import (discover_release,
                                           load_openpose_skeleton)
from mmmg.data_prep.ssl_clip_sampler import anchor_indices
from mmmg.data_prep.ssl_clips import SamplerOptions, sample_release_clips
from mmmg.data_prep.ssl_index import SSLIndex
from mmmg.datasets import LongVideoDataset, OnlineClipSampler
from mmmg.utils.cli import DataFileError

ANCHORS = anchor_indices('openpose137')


@pytest.fixture(autouse=True)
def scope():
    mmmg.register_all_modules()
    init_default_scope('mmaction')


@pytest.fixture
def mm_log():
    """The messages mmengine's current logger receives during a test."""
    records = []
    handler = logging.Handler()
    handler.emit = lambda record: records.append(record.getMessage())
    logger = MMLogger.get_current_instance()
    logger.addHandler(handler)
    yield records
    logger.removeHandler(handler)


def dataset(root, index, draws=4, threshold=0.0, seed=0, **kwargs):
    transform = dict(type='FacialVisibilitySample', seed=seed)
    transform.update(kwargs.pop('transform', {}))
    return LongVideoDataset(
        data_root=root,
        index_file=index,
        pipeline=[transform],
        draws_per_video=draws,
        threshold=threshold,
        **kwargs)


def draws_of(ds, epoch):
    """``{sample_id: (start, end)}`` of every sample of an epoch."""
    out = {}
    for i in range(len(ds)):
        sample = ds[(epoch, i)]
        out[sample['sample_id']] = sample['ssl_interval']
    return out


def skeletons(root):
    videos, _ = discover_release(root)
    return {
        v.vid: load_openpose_skeleton(v.skeleton, v.vid)[0]
        for v in videos if v.skeleton
    }


def test_epoch_zero_equals_offline_tool(toy_imigue, tmp_path):
    release = toy_imigue['release']
    out = str(tmp_path / 'offline' / 'ssl.txt')
    sample_release_clips(
        release,
        out,
        SamplerOptions(seed=3, quota=4, threshold=0.0),
        progress=False)
    offline = {}
    for line in open(out):
        clip_id, _, start, end = line.split()
        offline.setdefault(clip_id.split('_ssl')[0], []).append(
            (int(start), int(end)))
    ds = dataset(release, str(tmp_path / 'index'), draws=4, seed=3)
    online = {}
    for sample_id, clip in draws_of(ds, 0).items():
        online.setdefault(sample_id.split('_')[0], []).append(clip)
    assert offline and {k: sorted(v) for k, v in online.items()} == offline
    # Later epochs draw other clips under the same rule.
    assert draws_of(ds, 1) != draws_of(ds, 0)
    assert draws_of(ds, 1) == draws_of(
        dataset(release, str(tmp_path / 'index'), draws=4, seed=3), 1)


def _collate(batch):
    return [(s['sample_id'], s['ssl_interval']) for s in batch]


def _loader_draws(ds, workers, epoch):
    sampler = OnlineClipSampler(ds, shuffle=True, seed=5)
    sampler.set_epoch(epoch)
    loader = DataLoader(
        ds,
        batch_size=3,
        sampler=sampler,
        num_workers=workers,
        collate_fn=_collate,
        multiprocessing_context='fork' if workers else None)
    return dict(pair for batch in loader for pair in batch)


def test_same_clips_with_any_worker_count(toy_imigue, tmp_path):
    ds = dataset(toy_imigue['release'], str(tmp_path / 'index'), draws=5)
    for epoch in (0, 2):
        inline = _loader_draws(ds, 0, epoch)
        assert inline == _loader_draws(ds, 2, epoch) == draws_of(ds, epoch)


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _rank_main(rank, port, root, index, out):
    import torch.distributed as dist
    from mmengine.dist import get_rank, get_world_size
    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port))
    dist.init_process_group('gloo', rank=rank, world_size=2)
    try:
        mmmg.register_all_modules()
        init_default_scope('mmaction')
        ds = dataset(root, index, draws=5)
        assert (get_rank(), get_world_size()) == (rank, 2)
        sampler = OnlineClipSampler(ds, shuffle=True, seed=5)
        sampler.set_epoch(3)
        draws = {}
        for idx in sampler:
            sample = ds[idx]
            draws[sample['sample_id']] = list(sample['ssl_interval'])
        with open(out, 'w') as f:
            json.dump(draws, f)
    finally:
        dist.destroy_process_group()


def test_same_clips_under_two_processes(toy_imigue, tmp_path):
    """Two gloo ranks share the epoch's indices; rank 0 builds the index
    while rank 1 waits; together they draw the single process's clips."""
    release, index = toy_imigue['release'], str(tmp_path / 'dist' / 'index')
    port = _free_port()
    ctx = multiprocessing.get_context('fork')
    outs = [str(tmp_path / f'rank{r}.json') for r in range(2)]
    procs = [
        ctx.Process(
            target=_rank_main, args=(r, port, release, index, outs[r]))
        for r in range(2)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0, 0]
    ranks = [json.load(open(o)) for o in outs]
    assert all(ranks) and set(ranks[0]) != set(ranks[1])
    merged = {k: tuple(v) for r in ranks for k, v in r.items()}
    single = dataset(release, str(tmp_path / 'single'), draws=5)
    assert merged == draws_of(single, 3)


def _write_workbook(path, pose):
    book = xlsxwriter.Workbook(path, {'constant_memory': True})
    sheet = book.add_worksheet()
    for r, row in enumerate(pose.reshape(len(pose), -1).tolist()):
        sheet.write_row(r, 0, row)
    book.close()


@pytest.fixture(scope='module')
def bad_release(toy_imigue, tmp_path_factory):
    """The toy release with: 0001 without pose file; 0002 with a pose file
    shorter than its video whose face drops out every 8th frame; 0003
    visible at 0.3 but for a gap of frames 60-80; 0004 (a copy of 0003)
    whose face is never visible."""
    root = str(tmp_path_factory.mktemp('bad') / 'release')
    shutil.copytree(toy_imigue['release'], root)
    videos = {v.vid: v for v in discover_release(root)[0]}
    poses = skeletons(root)
    os.remove(videos['0001'].skeleton)
    flicker = poses['0002'][:120].copy()
    flicker[::8, ANCHORS[0], 2] = 0
    _write_workbook(videos['0002'].skeleton, flicker)
    pose = poses['0003'].copy()
    pose[:, ANCHORS, 2] = 0.9
    pose[60:81, ANCHORS[1], 2] = 0.1
    _write_workbook(videos['0003'].skeleton, pose)
    pose[:, ANCHORS, 2] = 0
    for path in (videos['0003'].skeleton, videos['0003'].label,
                 videos['0003'].video):
        folder = osp.dirname(path).replace('0003', '0004')
        os.makedirs(folder, exist_ok=True)
        shutil.copy(
            path, osp.join(folder,
                           osp.basename(path).replace('0003', '0004')))
    _write_workbook(
        osp.join(
            osp.dirname(videos['0003'].skeleton).replace('0003', '0004'),
            '0004_openpose.xlsx'), pose)
    return root


def test_bad_videos_are_left_out_with_a_reason(bad_release, tmp_path, mm_log):
    ds = dataset(bad_release, str(tmp_path / 'index'), draws=3, threshold=0.3)
    log = '\n'.join(mm_log)
    assert 'leaves out video 0001' in log and '0001_openpose.xlsx' in log
    assert ('video 0002: the pose file has 120 frames but the video 175; '
            'clips are drawn from the first 120 frames only') in log
    assert 'leaves out video 0004: the face is never visible' in log
    assert [v['vid'] for v in ds.data_list] == ['0002', '0003']
    poses = skeletons(bad_release)
    for epoch in range(3):
        for sample_id, (start, end) in draws_of(ds, epoch).items():
            vid = sample_id[:4]
            assert end < len(poses[vid])
            # Every frame of the clip has all face anchors >= 0.3.
            assert (poses[vid][start:end + 1][:, ANCHORS, 2] >= 0.3).all()


def test_retries_are_bounded(bad_release, toy_imigue, tmp_path, mm_log):
    # 0003 holds clips; 0002's face drops out every 8th frame (no visible
    # run as long as the shortest MG), so its draws fall back to 0003.
    ds = dataset(bad_release, str(tmp_path / 'index'), draws=2, threshold=0.3)
    assert [v['vid'] for v in ds.data_list] == ['0002', '0003']
    samples = [ds[(0, i)] for i in range(len(ds))]
    assert 'video 0002, epoch 0: no clip 0' in '\n'.join(mm_log)
    # 0002's draw 0 becomes 0003's extra draw 2, a clip no other sample
    # has. 0003 has room for 3 clips only, so 0002's draw 1 repeats 0003's
    # draw 1, and says so.
    assert [s['sample_id'] for s in samples
            ] == ['0003_e0_d2', '0003_e0_d1', '0003_e0_d0', '0003_e0_d1']
    assert ('epoch 0: video 0002 has no clip 1 and no other video one to '
            'spare; repeating clip 1 of video 0003') in '\n'.join(mm_log)
    clips = sorted({s['ssl_interval'] for s in samples})
    assert len(clips) == 3
    assert all(a[1] < b[0] for a, b in zip(clips, clips[1:])), clips
    # No video can give a clip (at 0.7 the toy's faces are visible for a
    # few frames at a time): an error after max_refetch videos, not an
    # endless loop.
    ds = dataset(
        toy_imigue['release'],
        str(tmp_path / 'toy'),
        draws=2,
        threshold=0.7,
        max_refetch=3,
        transform=dict(max_tries=50))
    with pytest.raises(RuntimeError, match='no clip after trying 4 videos'):
        ds[(0, 0)]


def test_missing_release_and_index_without_poses(toy_imigue, tmp_path):
    with pytest.raises(DataFileError, match='is not a folder'):
        dataset(str(tmp_path / 'nowhere'), str(tmp_path / 'index'))
    ds = dataset(
        toy_imigue['release'],
        str(tmp_path / 'index'),
        transform=dict(with_pose=True))
    with pytest.raises(FileNotFoundError, match='build it with a pose_layout'):
        ds[0]
    assert isinstance(SSLIndex(str(tmp_path / 'index')).videos, list)
