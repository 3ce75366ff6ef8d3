"""Batch video jobs: inputs, chunked decoding, atomic writes, resume."""
import json
import os
import os.path as osp
import signal

import numpy as np
import pytest

from mmmg.data_prep.video_jobs import (FrameWriter, VideoJob, VideoReadError,
                                       VideoStream, discover_videos,
                                       plan_video_jobs, resize_frames,
                                       run_video_jobs, scaled_size,
                                       video_is_complete)
from mmmg.utils.io import partial_path
from mmmg.utils.job_runner import JobError
from mmmg.utils.video_list import list_videos
from ..cli_helpers import assert_known_error, run_cli
from .synthetic_video import (plain_frames, translating_frames,
                              write_corrupt_video, write_garbage_video,
                              write_truncated_video, write_video)


def invert_video(src, dst, on_frames):
    """A per-video function: the negative of every frame, in chunks of 4."""
    with VideoStream(src) as video, FrameWriter(dst, video.fps) as writer:
        for chunk in video.chunks(4):
            writer.write(255 - chunk)
            on_frames(len(chunk))
    return writer.frames


def failing_video(src, dst, on_frames):
    """A per-video function that writes part of an output, then fails."""
    with open(dst, 'wb') as f:
        f.write(b'partial')
    raise RuntimeError('converter bug')


def crash_on_b(src, dst, on_frames):
    """A per-video function whose process dies, as in a decoder segfault."""
    if osp.basename(src) == 'b.mp4':
        os.kill(os.getpid(), signal.SIGKILL)
    return invert_video(src, dst, on_frames)


def read_all(path):
    with VideoStream(path) as video:
        return video.read(range(video.num_frames))


@pytest.fixture
def video_tree(tmp_path):
    """Three good videos in nested folders of different lengths."""
    root = tmp_path / 'videos'
    lengths = {'a.mp4': 9, 'sub/b.mp4': 5, 'sub/deeper/c.avi': 7}
    for rel, n in lengths.items():
        write_video(root / rel, plain_frames(n))
    return str(root), lengths


# ---------------------------------------------------------------- inputs --
def test_discover_videos_nested_sorted_and_filtered(tmp_path, video_tree):
    root, lengths = video_tree
    (tmp_path / 'videos' / 'notes.txt').write_text('not a video')
    write_video(tmp_path / 'videos' / 'UPPER.MP4', plain_frames(2))
    # A partial output and an output root inside the inputs are ignored.
    write_video(tmp_path / 'videos' / '.a.partial.mp4', plain_frames(2))
    write_video(tmp_path / 'videos' / 'out' / 'a.mp4', plain_frames(2))

    found = discover_videos(root, exclude=osp.join(root, 'out'))
    rel = [osp.relpath(p, root) for p in found]
    assert rel == sorted(list(lengths) + ['UPPER.MP4'])
    assert [osp.relpath(p, root)
            for p in discover_videos(root, ['avi'])] == ['sub/deeper/c.avi']
    with pytest.raises(NotADirectoryError, match='missing'):
        discover_videos(str(tmp_path / 'missing'))


def test_list_videos_formats_roots_and_repeats(tmp_path):
    lst = tmp_path / 'lists' / 'videos.txt'
    lst.parent.mkdir()
    lst.write_text('# comment\n\nclip0 v/a.mp4 0 9 3\nclip1 v/b.mp4 1 5 2\n'
                   'clip2 v/a.mp4 10 20 1\n')
    expected = [
        str(tmp_path / 'lists' / 'v' / 'a.mp4'),
        str(tmp_path / 'lists' / 'v' / 'b.mp4')
    ]
    assert list_videos(str(lst)) == expected
    assert list_videos(str(lst), column=1) == expected
    assert list_videos(str(lst), root='/data')[0] == '/data/v/a.mp4'
    with pytest.raises(
            ValueError, match='segment list holds its videos in '
            'field 1, not 0'):
        list_videos(str(lst), column=0)
    plain = tmp_path / 'plain.txt'
    plain.write_text('x.mp4 1\ny.avi 0\n')
    assert list_videos(str(plain), root='/d') == ['/d/x.mp4', '/d/y.avi']
    with pytest.raises(ValueError, match='nope.txt'):
        list_videos(str(tmp_path / 'nope.txt'))


def test_plan_keeps_subfolders_and_rejects_clashes(tmp_path):
    root = tmp_path / 'in'
    videos = [
        str(root / 'a.avi'),
        str(root / 'x' / 'a.mp4'),
        str(tmp_path / 'elsewhere' / 'b.mkv')
    ]
    jobs = plan_video_jobs(videos, str(tmp_path / 'out'), str(root))
    assert [j.dst for j in jobs] == [
        str(tmp_path / 'out' / 'a.mp4'),
        str(tmp_path / 'out' / 'x' / 'a.mp4'),
        str(tmp_path / 'out' / 'b.mp4'),  # outside the root: its own name
    ]
    with pytest.raises(ValueError, match='would both be written'):
        plan_video_jobs([str(root / 'a.mp4'),
                         str(root / 'x' / 'a.mp4')], str(tmp_path / 'out'))
    with pytest.raises(ValueError, match='would overwrite it'):
        plan_video_jobs([str(root / 'a.mp4')], str(root), str(root))
    assert partial_path('/o/x/a.mp4') == '/o/x/.a.partial.mp4'


# ------------------------------------------------------------- streaming --
def test_stream_chunks_match_a_full_read(tmp_path):
    frames = translating_frames(11, size=(64, 48))
    path = write_video(tmp_path / 'v.mp4', frames, fps=12)
    with VideoStream(path) as video:
        assert (video.num_frames, video.width, video.height) == (11, 64, 48)
        assert video.fps == pytest.approx(12)
        chunks = list(video.chunks(4))
        whole = video.read(range(11))
    assert [len(c) for c in chunks] == [4, 4, 3]
    np.testing.assert_array_equal(np.concatenate(chunks), whole)
    # Lossy, but the decoded frames are the written ones.
    assert np.abs(whole.astype(int) - frames).mean() < 8


@pytest.mark.parametrize(
    'make', [write_garbage_video, write_truncated_video, write_corrupt_video])
def test_unreadable_videos_raise_naming_the_file(tmp_path, make):
    path = make(str(tmp_path / 'bad.mp4'))
    with pytest.raises(VideoReadError, match='bad.mp4') as info:
        with VideoStream(path) as video:
            list(video.chunks(4))
    assert info.value.path == path
    with pytest.raises(VideoReadError, match='gone.mp4: no such file'):
        VideoStream(str(tmp_path / 'gone.mp4'))


def test_frame_writer_checks_frames(tmp_path):
    with pytest.raises(RuntimeError, match='no frames were written'):
        with FrameWriter(str(tmp_path / 'empty.mp4'), 25):
            pass
    writer = FrameWriter(str(tmp_path / 'w.mp4'), 25)
    writer.write(plain_frames(2, size=(64, 32)))
    with pytest.raises(ValueError, match='frame size changed'):
        writer.write(plain_frames(2, size=(32, 32)))
    with pytest.raises(ValueError, match=r'\(n, H, W, 3\)'):
        writer.write(np.zeros((2, 32, 64), np.uint8))
    writer.close()
    assert len(read_all(str(tmp_path / 'w.mp4'))) == 2


def test_scaled_size_and_resize():
    assert scaled_size(1280, 720, 0.25) == (320, 180)
    assert scaled_size(101, 51, 0.5) == (50, 26)  # even sizes
    with pytest.raises(ValueError, match='scale'):
        scaled_size(10, 10, 1.5)
    frames = plain_frames(3, size=(40, 20))
    assert resize_frames(frames, (20, 10)).shape == (3, 10, 20, 3)
    assert resize_frames(frames, (40, 20)) is frames


# ---------------------------------------------------------------- running --
@pytest.mark.parametrize('workers', [0, 2])
def test_run_writes_outputs_then_resumes(tmp_path, video_tree, workers):
    root, lengths = video_tree
    out = str(tmp_path / 'out')
    jobs = plan_video_jobs(discover_videos(root), out, root)
    report = run_video_jobs(
        jobs,
        invert_video,
        workers=workers,
        failure_log=osp.join(out, 'failures.jsonl'),
        progress=False)
    assert report.done == jobs and not report.failed
    assert report.frames == sum(lengths.values())
    assert report.failure_log is None
    assert not osp.exists(osp.join(out, 'failures.jsonl'))
    for job, rel in zip(jobs, sorted(lengths)):
        assert osp.relpath(job.dst, out) == osp.splitext(rel)[0] + '.mp4'
        source, result = read_all(job.src), read_all(job.dst)
        assert len(result) == lengths[rel]
        assert np.abs(result.astype(int) - (255 - source)).mean() < 4
        assert not osp.exists(partial_path(job.dst))

    # A rerun skips every finished output and leaves it untouched.
    mtimes = {j.dst: os.stat(j.dst).st_mtime_ns for j in jobs}
    again = run_video_jobs(jobs, invert_video, workers=workers, progress=False)
    assert again.skipped == jobs and not again.done
    assert {j.dst: os.stat(j.dst).st_mtime_ns for j in jobs} == mtimes
    # Only missing outputs are redone; --overwrite redoes all.
    os.remove(jobs[1].dst)
    assert run_video_jobs(
        jobs, invert_video, workers=workers, progress=False).done == [jobs[1]]
    assert run_video_jobs(
        jobs, invert_video, workers=workers, overwrite=True,
        progress=False).done == jobs


def plant_killed_outputs(paths):
    """What a killed run leaves: a zero-byte and a truncated output."""
    open(paths[0], 'wb').close()
    with open(paths[1], 'rb') as f:
        data = f.read()
    with open(paths[1], 'wb') as f:
        f.write(data[:len(data) // 2])


def test_resume_redoes_zero_byte_and_truncated_outputs(tmp_path, video_tree):
    root, lengths = video_tree
    jobs = plan_video_jobs(discover_videos(root), str(tmp_path / 'out'), root)
    run_video_jobs(jobs, invert_video, workers=0, progress=False)
    plant_killed_outputs([jobs[0].dst, jobs[1].dst])
    assert not video_is_complete(jobs[0].dst)
    assert not video_is_complete(jobs[1].dst)
    report = run_video_jobs(jobs, invert_video, workers=0, progress=False)
    assert report.done == jobs[:2] and report.skipped == jobs[2:]
    for job, rel in zip(jobs, sorted(lengths)):
        assert len(read_all(job.dst)) == lengths[rel]


@pytest.mark.parametrize('workers', [0, 2])
def test_bad_videos_are_logged_and_skipped(tmp_path, video_tree, workers):
    root, lengths = video_tree
    corrupt = write_corrupt_video(osp.join(root, 'corrupt.mp4'))
    garbage = write_garbage_video(osp.join(root, 'sub', 'garbage.mp4'))
    out = str(tmp_path / 'out')
    log = osp.join(out, 'logs', 'failures.jsonl')
    os.makedirs(osp.dirname(log))
    with open(log, 'w') as f:
        f.write('{"video": "stale entry of an earlier run"}\n')
    jobs = plan_video_jobs(discover_videos(root), out, root)
    report = run_video_jobs(
        jobs, invert_video, workers=workers, failure_log=log, progress=False)

    assert len(report.done) == len(lengths)
    assert [f['video'] for f in report.failed] == [corrupt, garbage]
    with open(log) as f:
        entries = [json.loads(line) for line in f]
    assert sorted(e['video'] for e in entries) == [corrupt, garbage]
    for entry in entries:
        assert entry['error'].startswith(entry['video'] + ': ')
        assert entry['output'].startswith(out)
        assert not osp.exists(entry['output'])
        assert not osp.exists(partial_path(entry['output']))


@pytest.mark.parametrize('workers', [0, 2])
def test_strict_stops_at_the_first_failure(tmp_path, video_tree, workers):
    root, _ = video_tree
    corrupt = write_corrupt_video(osp.join(root, '0_corrupt.mp4'))
    jobs = plan_video_jobs(discover_videos(root), str(tmp_path / 'out'), root)
    assert jobs[0].src == corrupt
    with pytest.raises(JobError, match='0_corrupt.mp4') as info:
        run_video_jobs(
            jobs, invert_video, workers=workers, strict=True, progress=False)
    assert info.value.item == corrupt
    assert not osp.exists(jobs[0].dst)


def test_failing_function_leaves_no_partial_output(tmp_path):
    src = write_video(tmp_path / 'v.mp4', plain_frames(3))
    job = VideoJob(src, str(tmp_path / 'out' / 'v.mp4'))
    report = run_video_jobs([job], failing_video, progress=False)
    assert report.failed == [
        dict(
            video=src,
            output=job.dst,
            error=f'{src}: RuntimeError: converter bug')
    ]
    assert os.listdir(tmp_path / 'out') == []


@pytest.mark.parametrize('workers', [1, 2])
def test_a_crashed_worker_fails_only_its_video(tmp_path, video_tree, workers):
    root, lengths = video_tree
    jobs = plan_video_jobs(discover_videos(root), str(tmp_path / 'out'), root)
    crashing = [j for j in jobs if j.src.endswith('b.mp4')]
    report = run_video_jobs(jobs, crash_on_b, workers=workers, progress=False)
    assert report.done == [j for j in jobs if j not in crashing]
    assert [f['video'] for f in report.failed] == [crashing[0].src]
    assert 'worker process died' in report.failed[0]['error']
    assert report.failed[0]['error'].startswith(crashing[0].src)
    with pytest.raises(JobError, match='b.mp4: the worker process'):
        run_video_jobs(
            crashing, crash_on_b, workers=1, strict=True, progress=False)


@pytest.mark.parametrize('tool', [
    'data_prep/make_taylor_videos.py', 'data_prep/make_flow_videos.py',
    'data_prep/make_depth_videos.py'
])
def test_video_tools_refuse_bad_paths_before_any_work(tool, tmp_path, capsys,
                                                      monkeypatch):
    """A missing list or an output below a file: one line naming it, exit
    status 2, before a model loads, and nothing written."""
    (tmp_path / 'file').write_text('')
    (tmp_path / 'videos').mkdir()
    model = ['--model', tmp_path / 'no_model'] if 'depth' in tool else []
    for source, out, name in [
        (['--list',
          tmp_path / 'missing.txt'], tmp_path / 'out', 'missing.txt'),
        (['--input-dir',
          tmp_path / 'videos'], tmp_path / 'file' / 'out', 'is a file'),
    ]:
        result = run_cli(tool, source + ['--out', out] + model, capsys,
                         monkeypatch)
        assert_known_error(result, tool, name)
    assert sorted(p.name for p in tmp_path.iterdir()) == ['file', 'videos']
