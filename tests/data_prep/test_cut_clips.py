"""cut_clips: clip files hold the segment's frames; resume; failure log."""
import json
import os
import os.path as osp

import decord
import numpy as np
import pytest

from mmmg.data_prep.cut_clips import SUMMARY_FILE, CutError, cut_clips
from mmmg.datasets import MGVideoClipDataset, read_video_list
from mmmg.utils.io import partial_path
from ..cli_helpers import assert_known_error, run_cli
from ..conftest import REPO, run_tool
from ..video_helpers import decode_indices, truncate, write_index_video

CLI = osp.join(REPO, 'data_prep', 'cut_clips.py')
# video: frames; segments per video as (clip id, start, end, label).
VIDEOS = {'a/0001.mp4': 100, 'b/0002.mp4': 60}
SEGMENTS = [
    ('0002_0', 'b/0002.mp4', 40, 59, 3),
    ('0001_0', 'a/0001.mp4', 5, 24, 0),
    ('0001_1', 'a/0001.mp4', 20, 39, 31),  # overlaps 0001_0
    ('0001_2', 'a/0001.mp4', 70, 70, 7),  # one frame, after a gap
    ('0001_3', 'a/0001.mp4', 30, 34, -1),  # inside 0001_1
    ('0002_1', 'b/0002.mp4', 0, 17, 12),
]


def _halves(frames):
    """Mean brightness of the left and right halves of each frame."""
    w = frames.shape[2]
    return np.stack([
        frames[:, 4:-4, 4:w // 2 - 4].mean(
            (1, 2, 3)), frames[:, 4:-4, w // 2 + 4:-4].mean((1, 2, 3))
    ], 1)


def _write_list(path, segments):
    with open(path, 'w') as f:
        f.writelines(f'{c} {v} {s} {e} {lab}\n'
                     for c, v, s, e, lab in segments)
    return str(path)


@pytest.fixture
def release(tmp_path):
    root = tmp_path / 'videos'
    for rel, frames in VIDEOS.items():
        write_index_video(str(root / rel), frames)
    return str(root), _write_list(tmp_path / 'rgb_train.txt', SEGMENTS)


@pytest.mark.parametrize('workers', [1, 2])
def test_clips_hold_the_segment_frames(tmp_path, release, workers):
    root, segments = release
    out = str(tmp_path / 'clips')
    summary = cut_clips(segments, root, out, workers=workers, progress=False)
    assert (summary['written'], summary['failed'], summary['already_cut']) \
        == (len(SEGMENTS), 0, 0)
    for clip_id, video, start, end, _ in SEGMENTS:
        long_frames = decord.VideoReader(osp.join(root, video)).get_batch(
            list(range(start, end + 1))).asnumpy()
        clip = decord.VideoReader(osp.join(out, f'{clip_id}.mp4'))
        assert len(clip) == end - start + 1, clip_id
        assert clip.get_avg_fps() == pytest.approx(25)
        clip_frames = clip.get_batch(list(range(len(clip)))).asnumpy()
        # mp4 is lossy: compare brightness; the neighbouring frame differs
        # by 14 levels in at least one half.
        assert np.abs(_halves(clip_frames) - _halves(long_frames)).max() < 6
        assert decode_indices(clip_frames) == list(range(start, end + 1))

    # The clip list reads back with the same ids and labels, in list order.
    with open(summary['clip_list']) as f:
        assert f.read().splitlines() == [
            f'{c}.mp4 {lab}' for c, _, _, _, lab in SEGMENTS
        ]
    assert summary['clip_list'] == osp.join(out, 'rgb_train_clips.txt')
    clips = MGVideoClipDataset(
        summary['clip_list'], [], data_prefix=dict(video=out))
    segment_ids = [e.sample_id for e in read_video_list(segments)[1]]
    assert [clips.get_data_info(i)['sample_id']
            for i in range(len(clips))] == segment_ids
    with open(osp.join(out, SUMMARY_FILE)) as f:
        assert json.load(f)['failures'] == []


def test_resume_skips_finished_clips(tmp_path, release):
    root, segments = release
    out = str(tmp_path / 'clips')
    cut_clips(segments, root, out, progress=False)
    paths = {c: osp.join(out, f'{c}.mp4') for c, *_ in SEGMENTS}
    stamps = {c: os.stat(p).st_mtime_ns for c, p in paths.items()}

    again = cut_clips(segments, root, out, progress=False)
    assert (again['written'], again['already_cut']) == (0, len(SEGMENTS))

    # A lost clip, the partial file of a killed run, and a zero-byte and a
    # truncated clip.
    os.remove(paths['0001_1'])
    stale = partial_path(paths['0001_1'])
    with open(stale, 'wb') as f:
        f.write(b'half a clip')
    killed = [c for c, *_ in SEGMENTS if c != '0001_1'][:2]
    open(paths[killed[0]], 'wb').close()
    truncate(paths[killed[1]], 0.5)
    third = cut_clips(segments, root, out, progress=False)
    assert (third['written'], third['already_cut']) == (3, len(SEGMENTS) - 3)
    assert not osp.exists(stale)
    assert len(decord.VideoReader(paths['0001_1'])) == 20
    for clip_id, path in paths.items():
        if clip_id != '0001_1' and clip_id not in killed:
            assert os.stat(path).st_mtime_ns == stamps[clip_id]
    assert sorted(
        os.listdir(out)) == sorted([f'{c}.mp4' for c in paths] +
                                   ['rgb_train_clips.txt', SUMMARY_FILE])


def test_bad_videos_are_logged(tmp_path, release):
    root, _ = release
    truncate(osp.join(root, 'b/0002.mp4'), 0.5)
    segments = _write_list(
        tmp_path / 'rgb_val.txt',
        [
            ('0001_0', 'a/0001.mp4', 0, 9, 1),
            ('0001_1', 'a/0001.mp4', 90, 130, 2),  # ends past the video
            ('0002_0', 'b/0002.mp4', 0, 9, 3),  # truncated video
            ('0002_1', 'b/0002.mp4', 10, 19, 3),
            ('0003_0', 'c/0003.mp4', 0, 9, 4),  # missing video
        ])
    out = str(tmp_path / 'clips')
    summary = cut_clips(segments, root, out, progress=False)
    assert (summary['written'], summary['failed']) == (1, 4)
    failures = {osp.relpath(f['video'], root): f for f in summary['failures']}
    assert sorted(failures) == ['a/0001.mp4', 'b/0002.mp4', 'c/0003.mp4']
    assert failures['a/0001.mp4']['clips'] == ['0001_1']
    assert 'segment 90-130 does not fit' in failures['a/0001.mp4']['errors'][0]
    assert failures['b/0002.mp4']['clips'] == ['0002_0', '0002_1']
    assert 'cannot open' in failures['b/0002.mp4']['errors'][0]
    assert 'no such video file' in failures['c/0003.mp4']['errors'][0]
    with open(osp.join(out, SUMMARY_FILE)) as f:
        assert json.load(f)['failures'] == summary['failures']
    with open(summary['clip_list']) as f:
        assert f.read() == '0001_0.mp4 1\n'
    assert sorted(
        os.listdir(out)) == ['0001_0.mp4', SUMMARY_FILE, 'rgb_val_clips.txt']

    with pytest.raises(CutError, match='0001_1: segment 90-130'):
        cut_clips(
            segments,
            root,
            str(tmp_path / 'strict'),
            strict=True,
            progress=False)


def test_rejects_clip_lists(tmp_path):
    clip_list = tmp_path / 'clips.txt'
    clip_list.write_text('0001_0.mp4 3\n')
    with pytest.raises(ValueError, match='this is a segment list'):
        cut_clips(
            str(clip_list),
            str(tmp_path),
            str(tmp_path / 'out'),
            progress=False)


def test_cli(tmp_path, release):
    root, segments = release
    out = str(tmp_path / 'clips')
    listed = str(tmp_path / 'train_clips.txt')
    proc = run_tool([
        CLI, segments, '--video-root', root, '--out', out, '--clip-list',
        listed, '--workers', '1', '--no-progress'
    ])
    assert proc.returncode == 0, proc.stderr
    with open(listed) as f:
        assert len(f.read().splitlines()) == len(SEGMENTS)

    proc = run_tool(
        [CLI, segments, '--video-root', root, '--out', out, '--fourcc', 'mp4'])
    assert proc.returncode == 2 and 'four characters' in proc.stderr
    bad = _write_list(tmp_path / 'bad.txt', [('x', 'missing.mp4', 0, 3, 1)])
    proc = run_tool([
        CLI, bad, '--video-root', root, '--out', out, '--strict',
        '--no-progress'
    ])
    assert proc.returncode == 2
    assert 'missing.mp4' in proc.stderr and 'no such video file' in \
        proc.stderr


def test_cli_refuses_bad_lists_and_outputs(tmp_path, release, capsys,
                                           monkeypatch):
    """A garbage or missing list, an output below a file: one line naming
    it, exit status 2, nothing written."""
    root, segments = release
    garbage = tmp_path / 'garbage.txt'
    garbage.write_text('garbage\n')
    out = tmp_path / 'clips'
    for argv, names in [
        ([garbage, '--out', out], [garbage, 'line 1']),
        ([tmp_path / 'nope.txt', '--out', out], ['nope.txt']),
        ([segments, '--out', garbage / 'clips'], ['is a file']),
    ]:
        assert_known_error(
            run_cli(CLI, argv + ['--video-root', root], capsys, monkeypatch),
            CLI, *names)
    assert not out.exists()
    # Every clip failed: exit status 1 after the summary.
    bad = _write_list(tmp_path / 'bad.txt', [('x', 'missing.mp4', 0, 3, 1)])
    result = run_cli(CLI, [
        bad, '--video-root', root, '--out', out, '--workers', '1',
        '--no-progress'
    ], capsys, monkeypatch)
    assert result.returncode == 1, result.stderr
