"""FacialVisibilitySample on a real index of synthetic interviews: the
sampling rule against plain numpy, the distribution of durations and
starts, caching that changes nothing, bounded retries and the keypoint
slices."""
import pickle

import numpy as np
import pytest

from mmmg.data_prep.ssl_clip_sampler import visible_prefix
from mmmg.data_prep.ssl_index import (IndexedVideo, IndexOptions, SSLIndex,
                                      index_files, pose_path, write_ssl_index)
from mmmg.datasets.transforms import FacialVisibilitySample

DURATIONS = [12, 20, 20, 35, 50]


def make_index(folder, visible, pose=None):
    """An index of videos with the given per-frame visibility flags."""
    videos = []
    for v, flags in enumerate(visible):
        prefix = visible_prefix(flags[:, None].astype(float), [0], 0.5)
        videos.append((IndexedVideo(f'{v:04d}', None, None, len(flags),
                                    len(flags), 0, int(prefix[-1]), 720,
                                    1280), prefix))
    index = str(folder / 'index')
    write_ssl_index(index, videos, DURATIONS, {}, IndexOptions())
    if pose is not None:
        pose_dir = index_files(index)[2]
        folder.joinpath('index_pose').mkdir()
        np.save(pose_path(pose_dir, '0000'), pose)
    return SSLIndex(index)


def sample(index, row=0, epoch=0, k=0, draws=10):
    return dict(
        vid=index.videos[row]['vid'],
        ssl_index=index,
        video_row=row,
        ssl_epoch=epoch,
        draw_index=k,
        draws_per_video=draws,
        height=720,
        width=1280)


@pytest.fixture(scope='module')
def bursty(tmp_path_factory):
    rng = np.random.default_rng(0)
    flags = np.ones(3000, bool)
    for start in rng.integers(0, 3000, 40):
        flags[start:start + rng.integers(1, 30)] = False
    return flags, make_index(tmp_path_factory.mktemp('bursty'), [flags])


def test_clips_obey_the_rule(bursty):
    flags, index = bursty
    transform = FacialVisibilitySample(seed=1, min_gap=3)
    for epoch in range(5):
        clips = []
        for k in range(10):
            out = transform(sample(index, epoch=epoch, k=k))
            start, end = out['ssl_interval']
            assert (out['start'], out['end']) == (start, end)
            assert out['total_frames'] == end - start + 1 in DURATIONS
            assert flags[start:end + 1].all()
            clips.append((start, end))
        clips.sort()
        assert all(b[0] - a[1] > 3 for a, b in zip(clips, clips[1:]))


def test_durations_and_starts_follow_the_distribution(tmp_path):
    index = make_index(tmp_path, [np.ones(400, bool)])
    transform = FacialVisibilitySample(avoid_overlap=False)
    draws = [
        transform(sample(index, epoch=e, draws=1))['ssl_interval']
        for e in range(3000)
    ]
    lengths = np.array([e - s + 1 for s, e in draws])
    starts = np.array([s for s, _ in draws])
    for d in set(DURATIONS):
        assert abs(np.mean(lengths == d) - DURATIONS.count(d) / 5) < 0.03
    # Starts uniform on [0, 400 - length]: relative position ~ U(0, 1).
    rel = starts / (400 - lengths)
    assert abs(rel.mean() - 0.5) < 0.02 and abs(rel.var() - 1 / 12) < 0.01


def test_cache_and_pickling_change_nothing(bursty):
    _, index = bursty
    cached = FacialVisibilitySample(seed=2)
    order = [(e, k) for e in (0, 1) for k in range(10)]
    np.random.default_rng(0).shuffle(order)
    first = {
        (e, k): cached(sample(index, epoch=e, k=k))['ssl_interval']
        for e, k in order
    }
    fresh = FacialVisibilitySample(seed=2, cache_size=0)
    clone = pickle.loads(pickle.dumps(cached))
    for (e, k), clip in first.items():
        assert fresh(sample(index, epoch=e, k=k))['ssl_interval'] == clip
        assert clone(sample(index, epoch=e, k=k))['ssl_interval'] == clip
    # Other seeds and epochs draw other clips.
    assert {first[(0, k)]
            for k in range(10)} != {first[(1, k)]
                                    for k in range(10)}


def test_retries_are_bounded(tmp_path):
    # Visible runs of 10 frames: shorter than every duration.
    flags = np.tile(np.r_[np.ones(10, bool), False], 300)
    index = make_index(tmp_path, [flags])
    transform = FacialVisibilitySample(max_tries=500)
    assert transform(sample(index)) is None
    assert transform.draw(sample(index, k=5)) is None
    with pytest.raises(ValueError, match='max_tries'):
        FacialVisibilitySample(max_tries=0)


def test_keypoint_slice(tmp_path):
    pose = np.random.default_rng(0).random((300, 59, 3)).astype(np.float32)
    index = make_index(tmp_path, [np.ones(300, bool)], pose)
    out = FacialVisibilitySample(with_pose=True)(sample(index))
    start, end = out['ssl_interval']
    np.testing.assert_array_equal(out['keypoint'][0],
                                  pose[start:end + 1, :, :2])
    np.testing.assert_array_equal(out['keypoint_score'][0],
                                  pose[start:end + 1, :, 2])
    assert out['keypoint'].shape == (1, end - start + 1, 59, 2)
    assert out['img_shape'] == (720, 1280)
