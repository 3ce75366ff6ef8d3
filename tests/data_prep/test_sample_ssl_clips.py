"""data_prep/sample_ssl_clips.py on the tiny toy release (real OpenPose
workbooks and mp4s)."""
import json
import os
import os.path as osp
import pickle
import shutil

import decord
import numpy as np
import pytest

from mmmg.data_prep.imigue_release import (discover_release,
                                           load_openpose_skeleton)
from mmmg.data_prep.ssl_clip_sampler import anchor_indices
from mmmg.datasets import read_video_list
from mmmg.keypoints import convert_pose
from ..cli_helpers import assert_known_error, run_cli
from ..conftest import run_tool

TOOL = 'data_prep/sample_ssl_clips.py'


def skeletons(release):
    videos, _ = discover_release(release)
    return {
        v.vid: load_openpose_skeleton(v.skeleton, v.vid)[0]
        for v in videos
    }


def longest_visible_run(visible):
    edges = np.diff(np.concatenate([[0], visible.astype(int), [0]]))
    return int(
        (np.flatnonzero(edges == -1) - np.flatnonzero(edges == 1)).max())


def test_face_visibility_rejects(toy_imigue, tmp_path):
    # The toy's face confidences scatter around 0.8 frame by frame: at 0.7
    # no visible run is as long as the shortest labelled MG, so nothing can
    # be accepted.
    release = toy_imigue['release']
    anchors = anchor_indices('openpose137')
    runs = [
        longest_visible_run((pose[:, anchors, 2] >= 0.7).all(1))
        for pose in skeletons(release).values()
    ]
    out = str(tmp_path / 'ssl.txt')
    proc = run_tool([
        TOOL, release, '--out', out, '--threshold', '0.7', '--max-tries',
        '2000', '--no-progress'
    ])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    summary = json.load(open(str(tmp_path / 'ssl_summary.json')))
    assert max(runs) < summary['label_durations']['min']
    assert summary['clips'] == 0 and open(out).read() == ''
    assert '0 clips from 3 videos' in proc.stdout


def test_clips_rgb_and_skeleton(toy_imigue, tmp_path):
    release = toy_imigue['release']
    out = str(tmp_path / 'ssl' / 'ssl_clips.txt')
    # Threshold 0: every frame counts as visible (see the test above).
    args = [
        TOOL, release, '--out', out, '--threshold', '0', '--quota', '4',
        '--cut-skeleton',
        str(tmp_path / 'ssl' / 'ssl_mg36.pkl'), '--layout', 'mg36',
        '--cut-rgb',
        str(tmp_path / 'rgb'), '--workers', '2', '--no-progress'
    ]
    proc = run_tool(args)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert 'MG-IoD precision' in proc.stdout
    fmt, entries = read_video_list(out)
    assert fmt == 'segment' and entries
    assert all(e.label == -1 for e in entries)
    summary = json.load(open(str(tmp_path / 'ssl' / 'ssl_clips_summary.json')))
    assert summary['clips'] == len(entries)
    assert 0 <= summary['mg_iod']['precision'] <= 1

    poses = skeletons(release)
    with open(str(tmp_path / 'ssl' / 'ssl_mg36.pkl'), 'rb') as f:
        ann = pickle.load(f)
    by_id = {a['frame_dir']: a for a in ann['annotations']}
    assert sorted(ann['split']['ssl']) == sorted(e.sample_id for e in entries)
    per_video = {}
    for e in entries:
        vid = e.sample_id.split('_ssl')[0]
        per_video.setdefault(vid, []).append((e.start, e.end))
        pose = poses[vid]
        # The skeleton clip is the slice of the long sequence.
        kp, score = convert_pose(pose[..., :2], pose[..., 2], 'openpose137',
                                 'mg36')
        a = by_id[e.sample_id]
        np.testing.assert_array_equal(a['keypoint'][0], kp[e.start:e.end + 1])
        np.testing.assert_array_equal(a['keypoint_score'][0],
                                      score[e.start:e.end + 1])
        assert a['label'] == -1 and a['total_frames'] == e.end - e.start + 1
        # The RGB clip holds the segment's frames.
        clip = decord.VideoReader(str(tmp_path / 'rgb' / f'{e.sample_id}.mp4'))
        assert len(clip) == e.end - e.start + 1
    for clips in per_video.values():
        assert len(clips) <= 4
        ordered = sorted(clips)
        assert all(b[0] > a[1] for a, b in zip(ordered, ordered[1:]))

    # A rerun gives the same clips and leaves the cut clips alone.
    first = open(out).read()
    stamp = {
        n: os.stat(str(tmp_path / 'rgb' / n)).st_mtime_ns
        for n in os.listdir(str(tmp_path / 'rgb')) if n.endswith('.mp4')
    }
    proc = run_tool(args)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert open(out).read() == first
    assert f'0 written, {len(stamp)} already there' in proc.stdout
    assert stamp == {
        n: os.stat(str(tmp_path / 'rgb' / n)).st_mtime_ns
        for n in stamp
    }


def test_bad_video_is_skipped_or_fatal(toy_imigue, tmp_path):
    release = str(tmp_path / 'release')
    shutil.copytree(toy_imigue['release'], release)
    videos, _ = discover_release(release)
    bad = videos[-1]
    with open(bad.skeleton, 'wb') as f:
        f.write(b'not a workbook')
    out = str(tmp_path / 'ssl.txt')
    proc = run_tool([
        TOOL, release, '--out', out, '--threshold', '0', '--workers', '1',
        '--no-progress'
    ])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f'skipped 1 videos: video {bad.vid}' in proc.stdout
    _, entries = read_video_list(out)
    assert entries and not any(
        e.sample_id.startswith(bad.vid) for e in entries)
    proc = run_tool([
        TOOL, release, '--out', out, '--threshold', '0', '--strict',
        '--no-progress'
    ])
    assert proc.returncode == 2
    assert osp.basename(bad.skeleton) in proc.stderr


def test_needs_labelled_durations(toy_imigue, tmp_path):
    proc = run_tool([
        TOOL, toy_imigue['release'], '--out',
        str(tmp_path / 'x.txt'), '--duration-splits', 'nope', '--no-progress'
    ])
    # A bad --duration-splits is a known error (exit 2, one line).
    assert proc.returncode == 2
    assert "no labelled MG segment in the splits ['nope']" in proc.stderr


@pytest.mark.parametrize('flag', [['--quota', '0'], ['--threshold', '2']])
def test_bad_arguments(toy_imigue, tmp_path, flag):
    proc = run_tool(
        [TOOL, toy_imigue['release'], '--out',
         str(tmp_path / 'x.txt'), *flag])
    assert proc.returncode == 2


def test_missing_release_or_unwritable_outputs(tmp_path, capsys, monkeypatch):
    """Refused in one line before any workbook is read; nothing written."""
    (tmp_path / 'file').write_text('')
    (tmp_path / 'release').mkdir()
    release, below_file = str(tmp_path / 'release'), tmp_path / 'file' / 'x'
    for argv, names in [
        ([tmp_path / 'nope', '--out', tmp_path / 'x.txt'], ['nope']),
        ([release, '--out', below_file], ['--out', 'is a file']),
        ([release, '--out', tmp_path / 'x.txt', '--cut-rgb',
          below_file], ['--cut-rgb', 'is a file']),
    ]:
        assert_known_error(
            run_cli(TOOL, argv, capsys, monkeypatch), TOOL, *names)
    assert sorted(p.name for p in tmp_path.iterdir()) == ['file', 'release']
