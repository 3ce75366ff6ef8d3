"""Taylor video converter: streaming, real mp4 round trips, resume, bad
files, the command line."""
import json
import os
import os.path as osp
import re
import runpy

import decord
import numpy as np
import pytest

from mmmg.data_prep.taylor_videos import (META_FILE, TaylorStream,
                                          TaylorVideoConverter, convert_frames,
                                          write_taylor_meta)
from mmmg.data_prep.video_jobs import VideoJob, VideoStream, run_video_jobs
from mmmg.datasets.transforms import TaylorVideo
from mmmg.datasets.transforms.taylor import (DEFAULT_TAYLOR_SCALE,
                                             compute_taylor, pad_frames,
                                             to_gray)
from mmmg.utils.job_runner import JobError
from ..cli_helpers import run_cli
from ..conftest import run_tool
from .synthetic_video import (translating_frames, write_garbage_video,
                              write_truncated_video, write_video)

TOOL = 'data_prep/make_taylor_videos.py'


def whole_clip(frames, num_terms=3, keep_length=False):
    """The Taylor frames of a clip computed at once."""
    gray = to_gray(frames)
    window = num_terms + 3
    gray = pad_frames(gray, len(gray) + window - 1 if keep_length else window)
    return compute_taylor(gray, num_terms, DEFAULT_TAYLOR_SCALE)


def read_all(path):
    with VideoStream(path) as video:
        return video.read(range(video.num_frames)), video.fps


@pytest.fixture
def video_tree(tmp_path):
    """Two good videos in nested folders."""
    root = tmp_path / 'videos'
    lengths = {'a.mp4': 20, 'sub/b.avi': 13}
    for i, (rel, n) in enumerate(lengths.items()):
        write_video(root / rel, translating_frames(n, seed=i), fps=24)
    return str(root), lengths


def jobs_for(root, names, out):
    return [
        VideoJob(
            osp.join(root, n), osp.join(out,
                                        osp.splitext(n)[0] + '.mp4'))
        for n in names
    ]


# -------------------------------------------------------------- streaming --
def stream_frames(stream, frames, chunk):
    """Feed ``frames`` in chunks as the converter does; all Taylor frames."""
    parts = [
        stream.push(frames[i:i + chunk]).copy()
        for i in range(0, len(frames), chunk)
    ]
    return np.concatenate(parts + [stream.finish()])


@pytest.mark.parametrize('keep_length', [False, True])
@pytest.mark.parametrize('num_terms', [1, 3, 4])
def test_chunked_stream_equals_the_whole_clip(keep_length, num_terms):
    frames = translating_frames(23, size=(24, 16), seed=5)
    expected = whole_clip(frames, num_terms, keep_length)
    assert len(expected) == (23 if keep_length else 23 - num_terms - 2)
    for batch in (1, 4, 48):
        stream = TaylorStream(
            num_terms, keep_length=keep_length, batch_frames=batch)
        for chunk in (1, 2, 5, 8, 23, 64):
            stream.reset()  # buffers are reused from video to video
            np.testing.assert_array_equal(
                stream_frames(stream, frames, chunk), expected)
    converter = TaylorVideoConverter(
        num_terms=num_terms, keep_length=keep_length)
    np.testing.assert_array_equal(
        convert_frames(frames, converter, 7), expected)


def test_stream_returns_frames_once_a_batch_is_pending():
    frames = translating_frames(20, size=(16, 16))
    stream = TaylorStream(batch_frames=4)
    assert len(stream.push(frames[:8])) == 0  # 3 windows complete
    assert len(stream.push(frames[8:9])) == 4
    assert len(stream.push(frames[9:20])) == 11
    assert len(stream.finish()) == 0 and stream.frames_out == 15
    # A new video of another size reuses the stream.
    stream.reset()
    other = translating_frames(7, size=(8, 12))
    np.testing.assert_array_equal(
        stream_frames(stream, other, 3), whole_clip(other))


def test_the_transform_makes_the_same_pixels():
    frames = translating_frames(12, size=(24, 16), seed=2)
    results = TaylorVideo(keep_length=True)(
        dict(imgs=list(frames), clip_len=12, num_clips=1))
    np.testing.assert_array_equal(
        np.stack(results['imgs']), convert_frames(frames, chunk_size=5))


@pytest.mark.parametrize('num_frames', [1, 3, 5])
def test_short_videos_are_padded_or_rejected(num_frames):
    frames = translating_frames(num_frames, size=(16, 16))
    out = convert_frames(frames, TaylorVideoConverter(keep_length=False), 2)
    np.testing.assert_array_equal(out, whole_clip(frames))
    assert len(out) == 1
    out = convert_frames(frames, TaylorVideoConverter(keep_length=True), 2)
    assert len(out) == num_frames
    stream = TaylorStream(short_video='error')
    assert len(stream.push(frames)) == 0
    with pytest.raises(ValueError, match=f'{num_frames} frames are fewer'):
        stream.finish()


def test_stream_checks_its_input():
    stream = TaylorStream()
    with pytest.raises(ValueError, match='no frames'):
        stream.finish()
    with pytest.raises(ValueError, match='uint8 frames'):
        stream.push(np.zeros((2, 4, 4), np.uint8))
    stream.push(np.zeros((2, 4, 4, 3), np.uint8))
    with pytest.raises(ValueError, match='frame size changed'):
        stream.push(np.zeros((2, 4, 6, 3), np.uint8))


# --------------------------------------------------------------- mp4 files --
@pytest.mark.parametrize('keep_length', [True, False])
def test_converted_video_decodes_with_decord(tmp_path, keep_length):
    frames = translating_frames(20, size=(64, 48), seed=1)
    src = write_video(tmp_path / 'in.mp4', frames, fps=24)
    dst = str(tmp_path / 'out.mp4')
    converter = TaylorVideoConverter(keep_length=keep_length, chunk_size=6)
    written = converter(src, dst)

    reader = decord.VideoReader(dst)
    assert len(reader) == written == (20 if keep_length else 15)
    assert reader.get_avg_fps() == pytest.approx(24)
    taylor = reader.get_batch(list(range(len(reader)))).asnumpy()
    assert taylor.shape == (written, 48, 64, 3)
    # mp4v is lossy (see the module docstring), but follows what was
    # computed from the decoded source, each channel in its place.
    decoded, _ = read_all(src)
    expected = convert_frames(decoded, converter).astype(float)
    assert np.abs(taylor - expected).mean() < 8
    corr = np.corrcoef(taylor.reshape(-1, 3).T,
                       expected.reshape(-1, 3).T)[:3, 3:]
    assert (np.diag(corr) > 0.6).all()
    assert (np.argmax(corr, axis=1) == np.arange(3)).all()


def test_lossless_codec_stores_the_exact_frames(tmp_path):
    frames = translating_frames(11, size=(64, 48), seed=4)
    src = write_video(tmp_path / 'in.mp4', frames)
    dst = str(tmp_path / 'out.mp4')
    converter = TaylorVideoConverter(fourcc='FFV1', chunk_size=4)
    assert converter(src, dst) == 11
    taylor = decord.VideoReader(dst).get_batch(list(range(11))).asnumpy()
    decoded, _ = read_all(src)
    # Also checks the channel order through the BGR writer.
    np.testing.assert_array_equal(taylor, convert_frames(decoded, converter))


def test_runner_resumes_and_skips_finished_outputs(tmp_path, video_tree):
    root, lengths = video_tree
    out = str(tmp_path / 'taylor')
    jobs = jobs_for(root, lengths, out)
    converter = TaylorVideoConverter(chunk_size=4)
    report = run_video_jobs(jobs, converter, workers=2, progress=False)
    assert [j.src for j in report.done] == [j.src for j in jobs]
    assert report.frames == sum(lengths.values())
    for job in jobs:
        assert len(decord.VideoReader(job.dst)) == lengths[osp.relpath(
            job.src, root)]
    stamps = {j.dst: os.stat(j.dst).st_mtime_ns for j in jobs}

    report = run_video_jobs(jobs, converter, progress=False)
    assert report.done == [] and len(report.skipped) == 2
    assert {j.dst: os.stat(j.dst).st_mtime_ns for j in jobs} == stamps
    assert not [
        f for _, _, fs in os.walk(out) for f in fs if f.startswith('.')
    ]  # no partial files

    # A killed run's zero-byte and truncated outputs are redone.
    open(jobs[0].dst, 'wb').close()
    data = open(jobs[1].dst, 'rb').read()
    open(jobs[1].dst, 'wb').write(data[:len(data) // 2])
    report = run_video_jobs(jobs, converter, progress=False, workers=0)
    assert report.done == jobs and report.frames == sum(lengths.values())


@pytest.mark.parametrize('workers', [1, 2])
def test_bad_videos_are_logged_and_skipped(tmp_path, video_tree, workers):
    root, lengths = video_tree
    write_garbage_video(osp.join(root, 'garbage.mp4'))
    write_truncated_video(osp.join(root, 'cut.mp4'))
    out = str(tmp_path / 'taylor')
    names = ['a.mp4', 'garbage.mp4', 'cut.mp4', 'sub/b.avi']
    log = str(tmp_path / 'failures.jsonl')
    report = run_video_jobs(
        jobs_for(root, names, out),
        TaylorVideoConverter(),
        workers=workers,
        failure_log=log,
        progress=False)
    assert len(report.done) == 2
    assert sorted(osp.basename(f['video'])
                  for f in report.failed) == ['cut.mp4', 'garbage.mp4']
    entries = [json.loads(line) for line in open(log)]
    assert sorted(osp.basename(e['video'])
                  for e in entries) == ['cut.mp4', 'garbage.mp4']
    for entry in entries:  # the message names the unreadable file
        assert osp.basename(entry['video']) in entry['error']
    assert sorted(os.listdir(out)) == ['a.mp4', 'sub']


def test_strict_mode_raises_naming_the_file(tmp_path, video_tree):
    root, _ = video_tree
    write_truncated_video(osp.join(root, 'cut.mp4'))
    jobs = jobs_for(root, ['cut.mp4', 'a.mp4'], str(tmp_path / 'taylor'))
    with pytest.raises(JobError, match=r'cut\.mp4'):
        run_video_jobs(
            jobs, TaylorVideoConverter(), strict=True, progress=False)
    assert not osp.exists(jobs[0].dst)


def test_short_video_error_mode_names_the_file(tmp_path):
    src = write_video(tmp_path / 'tiny.mp4',
                      translating_frames(3, size=(32, 32)))
    converter = TaylorVideoConverter(keep_length=False, short_video='error')
    job = VideoJob(src, str(tmp_path / 'out' / 'tiny.mp4'))
    with pytest.raises(JobError, match=r'tiny\.mp4.*3 frames are fewer'):
        run_video_jobs([job], converter, strict=True, progress=False)


def test_meta_file_guards_the_output_root(tmp_path):
    out = str(tmp_path / 'taylor')
    path = write_taylor_meta(out, TaylorVideoConverter())
    meta = json.load(open(path))
    assert meta['scale'] == list(DEFAULT_TAYLOR_SCALE)
    assert meta['window'] == 6 and meta['num_terms'] == 3
    write_taylor_meta(out, TaylorVideoConverter())  # same settings: fine
    with pytest.raises(ValueError, match='other settings'):
        write_taylor_meta(out, TaylorVideoConverter(num_terms=4))
    write_taylor_meta(out, TaylorVideoConverter(num_terms=4), overwrite=True)
    assert json.load(open(path))['num_terms'] == 4


def test_converter_option_errors():
    with pytest.raises(ValueError, match='short_video'):
        TaylorVideoConverter(short_video='skip')
    with pytest.raises(ValueError, match='scale'):
        TaylorVideoConverter(scale=(1.0, 0.0, 1.0))
    with pytest.raises(ValueError, match='offset'):
        TaylorVideoConverter(offset=300)


# --------------------------------------------------------------------- CLI --
def cli_main():
    return runpy.run_path(TOOL, run_name='make_taylor_videos')['main']


def test_cli_converts_resumes_and_logs(tmp_path, video_tree, capsys,
                                       monkeypatch):
    root, lengths = video_tree
    write_garbage_video(osp.join(root, 'garbage.mp4'))
    out = str(tmp_path / 'taylor')
    args = [
        '--input-dir', root, '--out', out, '--no-progress', '--chunk-size', '8'
    ]
    # A fresh interpreter, two worker processes.
    proc = run_tool([TOOL] + args + ['--workers', '2'])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert '2 written' in proc.stdout and '1 failed' in proc.stdout
    assert len(decord.VideoReader(osp.join(out, 'sub', 'b.mp4'))) == 13
    log = [json.loads(line) for line in open(osp.join(out, 'failures.jsonl'))]
    assert [osp.basename(e['video']) for e in log] == ['garbage.mp4']
    assert json.load(open(osp.join(out, META_FILE)))['keep_length'] is True

    main = cli_main()
    main(args + ['--workers', '1'])
    assert '0 written' in capsys.readouterr().out  # resumed: all done

    with pytest.raises(SystemExit) as error:
        main(args + ['--num-terms', '2'])
    assert error.value.code == 2
    assert 'other settings' in capsys.readouterr().err

    strict = run_cli(TOOL,
                     args + ['--workers', '1', '--strict', '--overwrite'],
                     capsys, monkeypatch)
    assert strict.returncode == 2
    assert re.search(r'error: .*garbage\.mp4', strict.stderr)


def test_cli_rejects_bad_scale(tmp_path, video_tree, capsys):
    root, _ = video_tree
    with pytest.raises(SystemExit):
        cli_main()([
            '--input-dir', root, '--out',
            str(tmp_path / 'o'), '--scale', '1', '2'
        ])
    assert '--scale takes 1 or 3' in capsys.readouterr().err


def test_cli_exits_1_when_every_video_fails(tmp_path, capsys):
    root = tmp_path / 'videos'
    os.makedirs(root)
    write_garbage_video(str(root / 'g.mp4'))
    with pytest.raises(SystemExit) as error:
        cli_main()([
            '--input-dir',
            str(root), '--out',
            str(tmp_path / 'o'), '--no-progress', '--workers', '0'
        ])
    assert error.value.code == 1
    assert ', 0 already done, 1 failed of 1' in capsys.readouterr().out
