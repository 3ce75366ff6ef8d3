"""The shared index of online SSL sampling: built from a real toy release,
checked against plain numpy counts, memory-mapped, reused while its inputs
are unchanged, written atomically."""
import json
import os
import os.path as osp
import pickle

import numpy as np

from mmmg.data_prep.imigue_release import (discover_release,
                                           load_openpose_skeleton)
from mmmg.data_prep.ssl_clip_sampler import anchor_indices
from mmmg.data_prep.ssl_index import (IndexedVideo, IndexOptions, SSLIndex,
                                      ensure_ssl_index, index_files,
                                      write_ssl_index)
from mmmg.keypoints import convert_pose

ANCHORS = anchor_indices('openpose137')


def test_index_is_compact_shared_and_reused(toy_imigue, tmp_path):
    release = toy_imigue['release']
    index = str(tmp_path / 'idx' / 'toy')
    options = IndexOptions(threshold=0.5, pose_layout='upper_body59')
    built, fresh = ensure_ssl_index(release, index, options)
    assert fresh
    npy, meta_path, _ = index_files(index)
    prefix = np.load(npy, mmap_mode='r')
    assert isinstance(prefix, np.memmap) and prefix.dtype == np.uint16
    assert os.path.getsize(npy) == prefix.nbytes + 128  # .npy header
    videos, _ = discover_release(release)
    assert [v['vid'] for v in built.videos] == sorted(v.vid for v in videos)
    for row, files in enumerate(sorted(videos, key=lambda v: v.vid)):
        pose = load_openpose_skeleton(files.skeleton, files.vid)[0]
        # Plain numpy: cumulative count of frames with all anchors >= 0.5.
        flags = np.array([
            all(pose[t, a, 2] >= 0.5 for a in ANCHORS)
            for t in range(len(pose))
        ])
        np.testing.assert_array_equal(
            built.prefix(row), np.concatenate([[0], np.cumsum(flags)]))
        kp, score = convert_pose(pose[..., :2], pose[..., 2], 'openpose137',
                                 'upper_body59')
        stored = built.pose(row)
        np.testing.assert_array_equal(stored[..., :2], kp)
        np.testing.assert_array_equal(stored[..., 2], score)
    # Pickled into workers without the maps; they reopen them.
    clone = pickle.loads(pickle.dumps(built))
    assert clone._prefix is None and not clone._poses
    np.testing.assert_array_equal(clone.prefix(1), built.prefix(1))
    # Same inputs and settings: reused; other settings or a touched input:
    # rebuilt.
    stamp = os.stat(meta_path).st_mtime_ns
    assert not ensure_ssl_index(release, index, options)[1]
    assert os.stat(meta_path).st_mtime_ns == stamp
    assert ensure_ssl_index(release, index,
                            IndexOptions(0.4, pose_layout='upper_body59'))[1]
    assert json.load(open(meta_path))['options']['threshold'] == 0.4
    os.utime(videos[0].label, ns=(1, 1))
    assert ensure_ssl_index(release, index,
                            IndexOptions(0.4, pose_layout='upper_body59'))[1]
    assert not [n for n in os.listdir(osp.dirname(npy)) if 'partial' in n]


def test_long_videos_get_wider_counts(tmp_path):
    frames = 70_000
    visible = np.ones(frames, bool)
    visible[::1000] = False
    prefix = np.concatenate([[0], np.cumsum(visible)])
    record = IndexedVideo('0001', None, None, frames, frames, 0,
                          int(prefix[-1]), 720, 1280)
    short = IndexedVideo('0002', None, None, 3, 3, 0, 3, 720, 1280)
    meta = write_ssl_index(
        str(tmp_path / 'index'), [(record, prefix), (short, np.arange(4))],
        [10, 20], {'0001': [(5, 9)]}, IndexOptions())
    index = SSLIndex(str(tmp_path / 'index'))
    assert np.load(index.npy, mmap_mode='r').dtype == np.uint32
    np.testing.assert_array_equal(index.prefix(0), prefix)
    np.testing.assert_array_equal(index.prefix(1), np.arange(4))
    assert meta['videos'][1]['offset'] == frames + 1
    assert index.mg_segments == {'0001': [(5, 9)]}
