"""tools/video_mean_std.py against a plain-numpy reference on real mp4s."""
import json
import os.path as osp
import runpy

import cv2
import numpy as np
import pytest

from ..cli_helpers import assert_known_error, run_cli
from ..conftest import REPO

TOOL = 'tools/video_mean_std.py'
NUM_FRAMES = 40


def write_video(path, num_frames=NUM_FRAMES, seed=0):
    """An mp4 whose channels differ: red bright and flat, green a moving
    ramp, blue dark and noisy (written in OpenCV's BGR order)."""
    rng = np.random.default_rng(seed)
    writer = cv2.VideoWriter(
        str(path), cv2.VideoWriter_fourcc(*'mp4v'), 25, (64, 48))
    for i in range(num_frames):
        frame = np.empty((48, 64, 3), np.uint8)
        frame[..., 2] = 210 + i % 20
        frame[..., 1] = (np.arange(64)[None] * 4 + i * 3) % 256
        frame[..., 0] = rng.integers(0, 60, (48, 64))
        writer.write(frame)
    writer.release()
    return str(path)


def decoded(path, indices=None):
    """All (or the given) frames, RGB, as decord decodes them."""
    import decord
    reader = decord.VideoReader(str(path))
    indices = range(len(reader)) if indices is None else indices
    return reader.get_batch(list(indices)).asnumpy()


def reference(*frame_sets):
    pixels = np.concatenate(
        [f.reshape(-1, 3).astype(np.float64) for f in frame_sets])
    return pixels.mean(0), pixels.std(0)


@pytest.fixture(scope='module')
def videos(tmp_path_factory):
    root = tmp_path_factory.mktemp('videos')
    (root / 'broken.mp4').write_bytes(b'not a video at all' * 100)
    return dict(
        a=write_video(root / 'a.mp4', seed=0),
        b=write_video(root / 'b.mp4', num_frames=25, seed=1),
        broken=str(root / 'broken.mp4'),
        root=str(root))


def run(argv, capsys, monkeypatch):
    """A run that stops (a known error, exit status 1): its status and
    output."""
    return run_cli(TOOL, [*argv, '--no-progress'], capsys, monkeypatch)


def run_ok(argv, capsys):
    """A run that completes: its stdout and stderr."""
    main = runpy.run_path(osp.join(REPO, TOOL), run_name='tool_under_test')
    main['main']([str(a) for a in argv] + ['--no-progress'])
    return capsys.readouterr()


def test_whole_videos_match_numpy(videos, tmp_path, capsys, monkeypatch):
    out = tmp_path / 'stats.json'
    run_ok([videos['a'], videos['b'], '--out', out], capsys)
    stats = json.loads(out.read_text())
    mean, std = reference(decoded(videos['a']), decoded(videos['b']))
    np.testing.assert_allclose(stats['mean'], mean, rtol=0, atol=1e-9)
    np.testing.assert_allclose(stats['std'], std, rtol=0, atol=1e-9)
    assert stats['frames'] == NUM_FRAMES + 25 and stats['videos'] == 2
    assert stats['channel_order'] == 'RGB' and stats['failed'] == []
    # RGB order, whatever the decoder: red is the bright flat channel.
    assert stats['mean'][0] > 200 and stats['mean'][2] < 40
    assert stats['std'][0] < stats['std'][1]


def test_segment_list_and_frame_step(videos, tmp_path, capsys, monkeypatch):
    seg_list = tmp_path / 'rgb_train.txt'
    # Relative videos, read below --video-root; the clips overlap.
    seg_list.write_text('a_0 a.mp4 3 17 1\n'
                        'a_1 a.mp4 10 30 2\n'
                        'b_0 b.mp4 0 24 0\n')
    out = tmp_path / 'stats.json'
    run_ok([
        seg_list, '--video-root', videos['root'], '--frame-step', '3', '--out',
        out
    ], capsys)
    stats = json.loads(out.read_text())
    a = [*range(3, 18, 3), *range(10, 31, 3)]
    b = list(range(0, 25, 3))
    mean, std = reference(decoded(videos['a'], a), decoded(videos['b'], b))
    np.testing.assert_allclose(stats['mean'], mean, rtol=0, atol=1e-9)
    np.testing.assert_allclose(stats['std'], std, rtol=0, atol=1e-9)
    assert stats['frames'] == len(a) + len(b) and stats['frame_step'] == 3


def test_workers_give_the_same_result(videos, tmp_path, capsys, monkeypatch):
    outs = [tmp_path / 'inline.json', tmp_path / 'workers.json']
    for out, workers in zip(outs, ('0', '2')):
        run_ok([videos['a'], videos['b'], '--workers', workers, '--out', out],
               capsys)
    inline, workers = (json.loads(p.read_text()) for p in outs)
    assert inline['mean'] == workers['mean']
    assert inline['std'] == workers['std']


def test_bad_video_is_skipped_and_logged(videos, tmp_path, capsys,
                                         monkeypatch):
    out = tmp_path / 'stats.json'
    result = run_ok([videos['broken'], videos['a'], '--out', out], capsys)
    assert 'skipped' in result.err and videos['broken'] in result.err
    stats = json.loads(out.read_text())
    assert len(stats['failed']) == 1 and videos['broken'] in stats['failed'][0]
    mean, _ = reference(decoded(videos['a']))
    np.testing.assert_allclose(stats['mean'], mean, rtol=0, atol=1e-9)


def test_strict_stops_in_one_line(videos, tmp_path, capsys, monkeypatch):
    out = tmp_path / 'stats.json'
    result = run([videos['a'], videos['broken'], '--strict', '--out', out],
                 capsys, monkeypatch)
    assert_known_error(result, TOOL, videos['broken'], '--strict')
    assert not out.exists()


def test_nothing_readable_exits_1_without_output(videos, tmp_path, capsys,
                                                 monkeypatch):
    out = tmp_path / 'stats.json'
    result = run([videos['broken'], '--out', out], capsys, monkeypatch)
    assert result.returncode == 1
    assert not out.exists()


def test_segment_past_the_video_fails_that_video(videos, tmp_path, capsys,
                                                 monkeypatch):
    seg_list = tmp_path / 'bad_segments.txt'
    seg_list.write_text(f"a_0 {videos['a']} 0 5\n"
                        f"b_0 {videos['b']} 20 90\n")
    out = tmp_path / 'stats.json'
    run_ok([seg_list, '--out', out], capsys)
    stats = json.loads(out.read_text())
    assert stats['videos'] == 1 and stats['frames'] == 6
    assert 'does not fit the video' in stats['failed'][0]


@pytest.mark.parametrize('argv, names', [
    (['--frame-step', '0'], ['--frame-step']),
    (['missing_list.txt'], ['missing_list.txt']),
    (['missing.mp4'], ['missing.mp4']),
])
def test_bad_inputs_refused_before_work(argv, names, tmp_path, capsys,
                                        monkeypatch):
    if argv[0].startswith('--'):
        argv = [str(tmp_path / 'x.mp4')] + argv
    result = run([*argv, '--out', tmp_path / 'stats.json'], capsys,
                 monkeypatch)
    assert_known_error(result, TOOL, *names)


def test_histogram_statistics_are_exact():
    """Mean and std from value counts equal numpy's on the raw values,
    also for counts far beyond float32 precision."""
    tool = runpy.run_path(f'{REPO}/{TOOL}', run_name='tool_under_test')
    rng = np.random.default_rng(0)
    values = rng.integers(0, 256, (3, 100_000))
    hist = np.stack([np.bincount(v, minlength=256) for v in values])
    mean, std = tool['stats_from_histograms'](hist)
    np.testing.assert_allclose(mean, values.mean(1), rtol=1e-12)
    np.testing.assert_allclose(std, values.std(1), rtol=1e-12)
    # 10^12 pixels of one value and one of another: var = 1e-12-ish.
    big = np.zeros((3, 256), np.int64)
    big[:, 100] = 10**12
    big[:, 101] = 1
    mean, std = tool['stats_from_histograms'](big)
    n = 10**12 + 1
    assert mean[0] == pytest.approx(100 + 1 / n, abs=1e-15)
    assert std[0] == pytest.approx((10**12)**0.5 / n, rel=1e-9)
