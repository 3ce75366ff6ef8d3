"""Optical-flow videos: encoding, recovered motion, RAFT from a file, CLI."""
import json
import os
import os.path as osp
import pickle
import runpy

import numpy as np
import pytest

from mmmg.data_prep.optical_flow import (FlowVideoConverter, OpenCVFlow,
                                         RaftFlow, decode_flow, encode_flow)
from mmmg.data_prep.video_jobs import (VideoJob, VideoReadError, VideoStream,
                                       run_video_jobs)
from mmmg.utils.job_runner import JobError
from ..cli_helpers import assert_known_error, run_cli
from ..conftest import REPO, run_tool
from .synthetic_video import (plain_frames, translating_frames,
                              write_corrupt_video, write_video)

CLI = osp.join(REPO, 'data_prep', 'make_flow_videos.py')
SHIFT = (3, -2)  # content moves 3 px right and 2 px up per frame
# The codec moves uniform colours by up to ~3 levels, ~0.5 px at bound 20.
TOLERANCE = 0.6


def read_all(path):
    with VideoStream(path) as video:
        return video.read(range(video.num_frames))


def median_flow(path, bound=20.0):
    """Median decoded flow of the frames, away from the borders."""
    rgb = read_all(path)
    return np.median(decode_flow(rgb[:, 8:-8, 8:-8], bound), axis=(0, 1, 2))


@pytest.fixture(scope='module')
def moving_video(tmp_path_factory):
    path = tmp_path_factory.mktemp('flow') / 'moving.mp4'
    return write_video(path, translating_frames(10, (96, 64), SHIFT))


def test_encoding_is_documented_and_invertible():
    flow = np.array([[[0, 0], [20, -20], [5, 2.5], [40, -100]]], np.float32)
    rgb = encode_flow(flow, bound=20)
    np.testing.assert_array_equal(rgb[0, 0], [128, 128, 0])  # no motion
    np.testing.assert_array_equal(rgb[0, 1], [255, 1, 255])  # +-bound
    np.testing.assert_array_equal(rgb[0, 3], [255, 1, 255])  # saturated
    np.testing.assert_allclose(
        decode_flow(rgb, 20)[0, :3], flow[0, :3], atol=20 / 127 / 2 + 1e-6)
    # A smaller bound spends the 8 bits on smaller motions.
    assert encode_flow(flow, bound=5)[0, 2, 0] == 255
    assert encode_flow(flow, bound=10)[0, 2, 0] == 128 + round(127 * 0.5)
    with pytest.raises(ValueError, match='bound'):
        encode_flow(flow, bound=0)


def test_encoding_matches_the_documented_formula():
    flow = np.random.default_rng(0).normal(0, 12, (3, 20, 30, 2))
    bound = 15
    x, y = flow[..., 0], flow[..., 1]
    expected = np.stack([
        128 + np.rint(127 * np.clip(x, -bound, bound) / bound),
        128 + np.rint(127 * np.clip(y, -bound, bound) / bound),
        np.rint(255 * np.minimum(np.hypot(x, y), bound) / bound),
    ],
                        axis=-1)
    rgb = encode_flow(flow, bound)
    assert rgb.shape == (3, 20, 30, 3) and rgb.dtype == np.uint8
    # Float32 arithmetic may round a half level the other way.
    assert np.abs(rgb - expected).max() <= 1


@pytest.mark.parametrize('method', ['dis', 'farneback'])
def test_estimators_recover_a_translation(moving_video, method):
    flows = OpenCVFlow(method)(read_all(moving_video))
    assert flows.shape == (9, 64, 96, 2) and flows.dtype == np.float32
    median = np.median(flows[:, 8:-8, 8:-8], axis=(0, 1, 2))
    np.testing.assert_allclose(median, SHIFT, atol=0.3)


@pytest.mark.parametrize('method', ['dis', 'farneback'])
def test_flow_video_encodes_the_direction(tmp_path, moving_video, method):
    out = str(tmp_path / 'flow.mp4')
    # Chunks of 3 frames: pairs across chunk boundaries must not be lost.
    frames = FlowVideoConverter(method=method, chunk_size=3)(moving_video, out)
    rgb = read_all(out)
    assert frames == len(rgb) == 9  # N frames give N - 1 flow frames
    assert rgb.shape[1:] == (64, 96, 3)
    centre = np.median(rgb[:, 8:-8, 8:-8].reshape(-1, 3), axis=0)
    # Rightwards: R above 128; upwards: G below 128; B = |flow| / bound.
    expected = encode_flow(np.array(SHIFT, np.float32))
    np.testing.assert_allclose(centre, expected, atol=4)
    np.testing.assert_allclose(median_flow(out), SHIFT, atol=TOLERANCE)


def test_bound_scale_and_padding_options(tmp_path):
    # 128x96 halves to 64x48 (decord 0.6 cannot decode 48-pixel widths).
    src = write_video(tmp_path / 'v.mp4',
                      translating_frames(10, (128, 96), SHIFT))
    out = str(tmp_path / 'flow.mp4')
    FlowVideoConverter(bound=8, scale=0.5, pad_last=True)(src, out)
    rgb = read_all(out)
    assert rgb.shape == (10, 48, 64, 3)  # padded to N frames, half size
    # Flow is measured in the downscaled pixels and decoded with its bound.
    np.testing.assert_allclose(
        np.median(decode_flow(rgb[:, 4:-4, 4:-4], 8), axis=(0, 1, 2)),
        np.array(SHIFT) / 2,
        atol=0.4)
    np.testing.assert_array_equal(rgb[-1], rgb[-2])


def test_single_frame_and_bad_options(tmp_path):
    one = write_video(tmp_path / 'one.mp4', plain_frames(1))
    with pytest.raises(VideoReadError, match='one.mp4: optical flow needs'):
        FlowVideoConverter()(one, str(tmp_path / 'out.mp4'))
    with pytest.raises(ValueError, match='unknown flow method'):
        FlowVideoConverter(method='tvl1')
    with pytest.raises(ValueError, match='unknown DIS preset'):
        FlowVideoConverter(preset='slow')
    with pytest.raises(ValueError, match='scale'):
        FlowVideoConverter(scale=2)
    with pytest.raises(ValueError, match='needs a local weights file'):
        FlowVideoConverter(method='raft_small')


@pytest.fixture(scope='module')
def raft_weights(tmp_path_factory):
    """A randomly initialised raft_small, saved as a local state_dict."""
    import torch
    from torchvision.models.optical_flow import raft_small
    torch.manual_seed(0)
    path = str(tmp_path_factory.mktemp('raft') / 'raft_small.pth')
    torch.save(raft_small(weights=None).state_dict(), path)
    return path


def test_raft_from_a_local_file(tmp_path, raft_weights):
    src = write_video(tmp_path / 'v.mp4',
                      translating_frames(4, (64, 48), SHIFT))
    out = str(tmp_path / 'flow.mp4')
    # 64x48 frames are padded to RAFT's 128 minimum and cropped back.
    converter = FlowVideoConverter(
        method='raft_small',
        raft_weights=raft_weights,
        num_flow_updates=1,
        batch_size=2)
    assert converter(src, out) == 3
    assert read_all(out).shape == (3, 48, 64, 3)
    flows = RaftFlow(raft_weights, num_flow_updates=1)(read_all(src))
    assert flows.shape == (3, 48, 64, 2) and np.isfinite(flows).all()


def test_raft_runs_in_a_spawned_worker(tmp_path, raft_weights):
    src = write_video(tmp_path / 'v.mp4', translating_frames(3, (64, 48)))
    converter = FlowVideoConverter(
        method='raft_small', raft_weights=raft_weights,
        num_flow_updates=1).load()
    assert converter.start_method == 'spawn'
    # The loaded model stays behind: each worker loads its own.
    assert pickle.loads(pickle.dumps(converter))._model is None
    job = VideoJob(src, str(tmp_path / 'out' / 'v.mp4'))
    report = run_video_jobs([job], converter, workers=1, progress=False)
    assert report.done == [job] and report.frames == 2


def test_raft_weight_errors_name_the_file(tmp_path, raft_weights):
    with pytest.raises(FileNotFoundError, match='missing.pth'):
        RaftFlow(str(tmp_path / 'missing.pth'))
    with pytest.raises(
            ValueError, match='raft_small.pth does not hold '
            'raft_large weights'):
        RaftFlow(raft_weights, variant='raft_large')
    junk = tmp_path / 'junk.pth'
    junk.write_bytes(b'not a checkpoint')
    with pytest.raises(ValueError, match='junk.pth'):
        RaftFlow(str(junk))


def test_runner_with_flow_skips_bad_and_finished(tmp_path, moving_video):
    bad = write_corrupt_video(str(tmp_path / 'bad.mp4'))
    jobs = [
        VideoJob(moving_video, str(tmp_path / 'out' / 'moving.mp4')),
        VideoJob(bad, str(tmp_path / 'out' / 'bad.mp4'))
    ]
    converter = FlowVideoConverter(preset='ultrafast')
    report = run_video_jobs(jobs, converter, workers=2, progress=False)
    assert report.done == jobs[:1] and report.frames == 9
    assert report.failed[0]['video'] == bad
    with pytest.raises(JobError, match='bad.mp4'):
        run_video_jobs(jobs, converter, strict=True, progress=False)
    assert run_video_jobs(
        jobs[:1], converter, progress=False).skipped == jobs[:1]


def test_cli_resumes_and_logs_failures(tmp_path):
    videos = tmp_path / 'videos'
    write_video(videos / 'a.mp4', translating_frames(6, (64, 48), SHIFT))
    write_video(videos / 'sub' / 'b.mp4', translating_frames(4, (64, 48)))
    write_corrupt_video(str(videos / 'sub' / 'bad.mp4'))
    out = tmp_path / 'flow'
    args = [
        '--input-dir',
        str(videos), '--out',
        str(out), '--workers', '2', '--no-progress', '--preset', 'fast',
        '--pad-last'
    ]
    main = runpy.run_path(CLI)['main']

    report = main(args)
    assert len(report.done) == 2 and len(report.failed) == 1
    assert len(read_all(str(out / 'a.mp4'))) == 6  # --pad-last: N frames
    assert len(read_all(str(out / 'sub' / 'b.mp4'))) == 4
    with open(out / 'failures.jsonl') as f:
        (entry, ) = [json.loads(line) for line in f]
    assert entry['video'] == str(videos / 'sub' / 'bad.mp4')
    assert 'bad.mp4' in entry['error']

    mtime = os.stat(out / 'a.mp4').st_mtime_ns
    again = main(args)
    assert len(again.skipped) == 2 and not again.done
    assert os.stat(out / 'a.mp4').st_mtime_ns == mtime

    # In a fresh interpreter: --strict exits non-zero naming the video.
    proc = run_tool([CLI, *args, '--strict', '--overwrite'])
    assert proc.returncode != 0
    assert 'bad.mp4' in proc.stderr


def test_cli_rejects_raft_without_usable_weights(tmp_path, capsys,
                                                 monkeypatch):
    main = runpy.run_path(CLI)['main']
    with pytest.raises(SystemExit):
        main([
            '--input-dir',
            str(tmp_path), '--out',
            str(tmp_path / 'o'), '--method', 'raft_small'
        ])
    assert 'needs a local weights file' in capsys.readouterr().err
    assert_known_error(
        run_cli(CLI, [
            '--input-dir', tmp_path, '--out', tmp_path / 'o', '--method',
            'raft_small', '--raft-weights', tmp_path / 'none.pth'
        ], capsys, monkeypatch), CLI, 'none.pth do not exist')
