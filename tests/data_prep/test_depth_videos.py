"""Depth videos with a tiny randomly initialised Depth Anything from disk."""
import json
import os
import os.path as osp
import runpy

import numpy as np
import pytest

pytest.importorskip('transformers')

from mmmg.data_prep.depth_videos import DepthEstimator  # noqa: E402
from mmmg.data_prep.depth_videos import (DepthVideoConverter, colormap_code,
                                         depth_to_uint8)
from mmmg.data_prep.video_jobs import VideoStream  # noqa: E402
from ..cli_helpers import run_cli  # noqa: E402
from ..conftest import REPO, make_tiny_depth_model  # noqa: E402
from .synthetic_video import translating_frames  # noqa: E402
from .synthetic_video import write_corrupt_video, write_video

CLI = osp.join(REPO, 'data_prep', 'make_depth_videos.py')


def read_all(path):
    with VideoStream(path) as video:
        return video.read(range(video.num_frames))


@pytest.fixture(scope='module')
def tiny_model(tmp_path_factory):
    return make_tiny_depth_model(
        str(tmp_path_factory.mktemp('models') / 'tiny-depth-anything'))


@pytest.fixture(scope='module')
def video(tmp_path_factory):
    path = tmp_path_factory.mktemp('depth') / 'v.mp4'
    return write_video(path, translating_frames(7, (96, 64)))


def test_depth_to_uint8_mapping():
    depth = np.array([[-1.0, 0.0, 0.5, 1.0, 2.0]], np.float32)
    np.testing.assert_array_equal(
        depth_to_uint8(depth, 0, 1), [[0, 0, 128, 255, 255]])
    # A constant image (hi == lo) maps to 0 instead of dividing by zero.
    np.testing.assert_array_equal(depth_to_uint8(depth, 1, 1), [[0] * 5])
    assert colormap_code(None) is None
    with pytest.raises(ValueError, match="unknown colour map 'nope'"):
        colormap_code('nope')


def test_estimator_returns_frame_sized_depth(tiny_model, video):
    frames = read_all(video)
    depth = DepthEstimator(tiny_model, batch_size=3)(frames)
    assert depth.shape == (7, 64, 96) and depth.dtype == np.float32
    assert np.isfinite(depth).all() and depth.std() > 0
    # Batching does not change the result.
    np.testing.assert_allclose(
        DepthEstimator(tiny_model, batch_size=7)(frames),
        depth,
        rtol=1e-4,
        atol=1e-6 * np.abs(depth).max())


def test_video_normalisation_end_to_end(tmp_path, tiny_model, video):
    out = str(tmp_path / 'depth.mp4')
    converter = DepthVideoConverter(
        tiny_model, batch_size=2, chunk_size=3, range_samples=4)
    assert converter(video, out) == 7
    rgb = read_all(out).astype(int)
    assert rgb.shape == (7, 64, 96, 3)
    # Grey replicated to the three channels (up to codec error).
    assert np.abs(rgb - rgb.mean(-1, keepdims=True)).mean() < 3

    # The documented scale: 1st-99th percentile of 4 evenly spaced frames.
    frames = read_all(video)
    depth = DepthEstimator(tiny_model)(frames)
    lo, hi = np.percentile(depth[[0, 2, 4, 6]], (1, 99))
    expected = depth_to_uint8(depth, lo, hi)
    assert np.abs(rgb[..., 1] - expected).mean() < 4
    assert expected.max() - expected.min() > 100  # the range is used


def test_frame_fixed_and_colormap_modes(tmp_path, tiny_model, video):
    depth = DepthEstimator(tiny_model)(read_all(video))
    out = str(tmp_path / 'frame.mp4')
    DepthVideoConverter(tiny_model, normalize='frame', scale=2 / 3)(video, out)
    rgb = read_all(out).astype(int)
    assert rgb.shape == (7, 42, 64, 3)
    assert rgb[..., 1].max(axis=(1, 2)).min() > 200  # each frame spans
    assert rgb[..., 1].min(axis=(1, 2)).max() < 50  # the full range

    out = str(tmp_path / 'fixed.mp4')
    lo, hi = float(depth.min()), float(np.median(depth))
    DepthVideoConverter(
        tiny_model, normalize='fixed', depth_range=(lo, hi))(video, out)
    expected = depth_to_uint8(depth, lo, hi)
    assert np.abs(read_all(out)[..., 1].astype(int) - expected).mean() < 4

    out = str(tmp_path / 'inferno.mp4')
    DepthVideoConverter(tiny_model, colormap='inferno')(video, out)
    rgb = read_all(out).astype(int)
    assert np.abs(rgb[..., 0] - rgb[..., 2]).mean() > 20  # not grey


def test_model_and_option_errors(tmp_path, tiny_model):
    with pytest.raises(FileNotFoundError, match='no-model'):
        DepthEstimator(str(tmp_path / 'no-model'))
    (tmp_path / 'empty').mkdir()
    with pytest.raises(ValueError, match='cannot load a depth model .*empty'):
        DepthEstimator(str(tmp_path / 'empty'))
    with pytest.raises(ValueError, match='depth_range'):
        DepthVideoConverter(tiny_model, normalize='fixed')
    with pytest.raises(ValueError, match='percentiles'):
        DepthVideoConverter(tiny_model, percentiles=(99, 1))
    with pytest.raises(ValueError, match='unknown normalisation'):
        DepthVideoConverter(tiny_model, normalize='global')


def test_cli_end_to_end_with_a_list(tmp_path, tiny_model, capsys, monkeypatch):
    root = tmp_path / 'data'
    write_video(root / 'a' / 'x.mp4', translating_frames(5, (96, 64)))
    write_video(root / 'b' / 'y.avi', translating_frames(3, (64, 48)))
    bad = write_corrupt_video(str(root / 'bad.mp4'))
    listing = tmp_path / 'videos.txt'
    listing.write_text('a/x.mp4 0\nb/y.avi 1\nbad.mp4 2\n')
    out = tmp_path / 'depth'
    log = tmp_path / 'logs' / 'depth_failures.jsonl'
    args = [
        '--list',
        str(listing), '--root',
        str(root), '--out',
        str(out), '--model', tiny_model, '--no-progress', '--batch-size', '2',
        '--failure-log',
        str(log)
    ]
    main = runpy.run_path(CLI)['main']

    report = main(args)  # one spawned worker process (the default)
    assert len(read_all(str(out / 'a' / 'x.mp4'))) == 5
    assert read_all(str(out / 'b' / 'y.mp4')).shape == (3, 48, 64, 3)
    assert [f['video'] for f in report.failed] == [bad]
    with open(log) as f:
        assert json.loads(f.readline())['video'] == bad

    # Reruns in this process (--workers 0) skip the finished videos.
    mtime = os.stat(out / 'a' / 'x.mp4').st_mtime_ns
    assert len(main(args + ['--workers', '0']).skipped) == 2
    assert os.stat(out / 'a' / 'x.mp4').st_mtime_ns == mtime

    strict = run_cli(CLI, args + ['--workers', '0', '--strict'], capsys,
                     monkeypatch)
    assert strict.returncode == 2 and 'bad.mp4' in strict.stderr
    with pytest.raises(SystemExit):
        main(args + ['--depth-range', '0', '1'])
    assert '--depth-range needs --normalize fixed' in capsys.readouterr().err
