"""Toy iMiGUE release: layout, label tables, keypoints, determinism, CLI."""
import csv
import filecmp
import json
import os
import os.path as osp
import runpy
import subprocess
import sys
import warnings

import decord
import numpy as np
import openpyxl
import pytest

from data_prep.toy.imigue_release import (DEFAULT_CLASSES, META_FILE,
                                          RELEASE_DIRS, SPLITS, TOY_PRESETS,
                                          _face_template, long_tail_counts,
                                          make_toy_imigue, plan_toy_imigue,
                                          synthesize_video)
from mmmg.classes import miga_label_to_index
from mmmg.keypoints.layouts import FACE70_MIRROR
from ..conftest import REPO

CLI = osp.join(REPO, 'data_prep', 'make_toy_imigue.py')
TINY = TOY_PRESETS['tiny']
LEGS = [10, 11, 13, 14] + list(range(19, 25))


def _read_xlsx(path):
    book = openpyxl.load_workbook(path, read_only=True)
    rows = list(book.active.iter_rows(values_only=True))
    book.close()
    return np.array(rows, dtype=float)


def _read_labels(path):
    with open(path, newline='') as f:
        return [[int(v) for v in row] for row in csv.reader(f)]


def _video_files(root, split, vid):
    skeleton, rgb = RELEASE_DIRS[split]
    skel_dir = osp.join(root, *skeleton, vid)
    return (osp.join(skel_dir, f'{vid}_label.csv'),
            osp.join(skel_dir, f'{vid}_openpose.xlsx'),
            osp.join(root, *rgb, vid, f'{vid}.mp4'))


@pytest.fixture(scope='module')
def tiny_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('toy') / 'release')
    summary = make_toy_imigue(root, seed=0, **TINY)
    assert summary['num_videos'] == 3
    return root


@pytest.fixture(scope='module')
def tiny_meta(tiny_root):
    with open(osp.join(tiny_root, META_FILE)) as f:
        return json.load(f)


@pytest.fixture(scope='module')
def default_plan():
    return plan_toy_imigue(seed=0)


def test_release_layout(tiny_root, tiny_meta):
    expected = {META_FILE}
    for vid, info in tiny_meta['videos'].items():
        assert len(vid) == 4 and vid.isdigit()
        expected.update(
            osp.relpath(p, tiny_root)
            for p in _video_files(tiny_root, info['split'], vid))
    written = {
        osp.relpath(osp.join(d, f), tiny_root)
        for d, _, files in os.walk(tiny_root)
        for f in files
    }
    assert written == expected
    # Every split has its own folders, as in the release.
    assert {info['split']
            for info in tiny_meta['videos'].values()} == set(SPLITS)


def test_frame_counts_agree(tiny_root, tiny_meta):
    width, height = tiny_meta['frame_size']
    for vid, info in tiny_meta['videos'].items():
        _, xlsx, mp4 = _video_files(tiny_root, info['split'], vid)
        table = _read_xlsx(xlsx)
        assert table.shape == (info['num_frames'], 411)
        reader = decord.VideoReader(mp4)
        assert len(reader) == info['num_frames']
        frame = reader[len(reader) // 2].asnumpy()
        assert frame.shape == (height, width, 3)
        assert frame.std() > 10  # a drawn scene, not a blank
        assert reader.get_avg_fps() == pytest.approx(tiny_meta['fps'])


def test_label_tables(tiny_root, tiny_meta):
    lo, hi = tiny_meta['config']['clip_len']
    clips = {c['clip_id']: c for c in tiny_meta['clips']}
    raw_seen = set()
    for vid, info in tiny_meta['videos'].items():
        rows = _read_labels(_video_files(tiny_root, info['split'], vid)[0])
        assert len(rows) == info['num_clips'] > 0
        previous_end = -1
        for i, (raw, start, end) in enumerate(rows):
            raw_seen.add(raw)
            assert previous_end < start <= end < info['num_frames']
            assert lo <= end - start + 1 <= hi
            clip = clips[f'{vid}_{i}']
            assert (miga_label_to_index(raw), start,
                    end) == (clip['label'], clip['start'], clip['end'])
            previous_end = end
    # Illustrative (index 31) is written as the release's raw 99.
    assert 99 in raw_seen and 32 not in raw_seen


def test_keypoints_match_synthesis(tiny_root, tiny_meta):
    plan = plan_toy_imigue(seed=0, **TINY)
    width, height = tiny_meta['frame_size']
    for video in plan.videos:
        _, xlsx, _ = _video_files(tiny_root, video.split, video.vid)
        table = _read_xlsx(xlsx)
        kp = synthesize_video(plan, video).keypoints
        np.testing.assert_allclose(table, kp.reshape(len(kp), -1), atol=1e-9)
        kp = table.reshape(-1, 137, 3)
        missed = kp[..., 2] == 0
        # Missed points are written as 0, 0, 0; legs are never seen.
        assert (kp[missed] == 0).all()
        assert missed[:, LEGS].all()
        seen = kp[~missed]
        assert ((seen[:, 2] > 0.3) & (seen[:, 2] <= 1)).all()
        assert ((seen[:, 0] >= 0) & (seen[:, 0] < width)).all()
        assert ((seen[:, 1] >= 0) & (seen[:, 1] < height)).all()
        # Random misses of points that are normally visible (face, neck).
        assert 0 < missed[:, 25:95].mean() < 0.2
        assert missed[:, 1].any()


def test_detector_noise_default(default_plan):
    plan = default_plan
    missed, hidden, hand_drops = [], [], 0
    for video in plan.videos[:6]:
        toy = synthesize_video(plan, video)
        missed.append(toy.keypoints[..., 2] == 0)
        hidden.append(toy.hidden)
        for hand0 in (95, 116):
            hand_drops += (toy.keypoints[:, hand0:hand0 + 21,
                                         2] == 0).all(-1).sum()
        # Jitter is subtle: under a pixel or two at 320x180.
        seen = ~missed[-1] & ~toy.hidden
        err = np.linalg.norm(toy.keypoints[..., :2] - toy.clean, axis=-1)
        assert 0.1 < np.median(err[seen]) < 2.0
    missed, hidden = np.concatenate(missed), np.concatenate(hidden)
    rate = missed[~hidden].mean()
    assert 0.02 < rate < 0.12, rate
    assert hand_drops > 0


def test_geometry_is_consistent(default_plan):
    face = _face_template()
    mirrored = face[FACE70_MIRROR] * (-1, 1, 1)
    np.testing.assert_allclose(mirrored, face, atol=1e-12)
    toy = synthesize_video(default_plan, default_plan.videos[0])
    clean = toy.clean
    # Hands hang off the body wrists of the same side; the person's left
    # (OpenPose 'left') is on the image right.
    np.testing.assert_allclose(clean[:, 95], clean[:, 7])
    np.testing.assert_allclose(clean[:, 116], clean[:, 4])
    assert (clean[:, 5, 0] > clean[:, 2, 0]).all()
    assert (clean[:, 25 + 16, 0] > clean[:, 25 + 0, 0]).all()
    assert (clean[:, 0, 1] < clean[:, 1, 1]).all()  # nose above neck
    np.testing.assert_allclose(clean[:, 0], clean[:, 25 + 30])


def test_default_plan_split_and_long_tail(default_plan):
    plan = default_plan
    counts = plan.class_counts()
    totals = {s: sum(c.values()) for s, c in counts.items()}
    assert 300 <= totals['train'] <= 400
    assert 60 <= totals['val'] <= 100 and 60 <= totals['test'] <= 100
    for split in SPLITS:
        assert all(counts[split][c] > 0 for c in DEFAULT_CLASSES), split
    overall = {c: sum(counts[s][c] for s in SPLITS) for c in DEFAULT_CLASSES}
    head, tail = overall[DEFAULT_CLASSES[0]], overall[DEFAULT_CLASSES[-1]]
    assert head >= 5 * tail
    # Cross-subject: a subject's videos all sit in the subject's split.
    splits_of = {}
    for video in plan.videos:
        splits_of.setdefault(video.subject, set()).add(video.split)
        assert video.split == plan.subject_split[video.subject]
    assert all(len(s) == 1 for s in splits_of.values())
    assert len(splits_of) == plan.config.num_subjects


def test_long_tail_counts():
    counts = long_tail_counts(100, 5, 10.0)
    assert sum(counts) == 100 and counts == sorted(counts, reverse=True)
    assert counts[0] >= 5 * counts[-1] >= 5
    assert long_tail_counts(4, 4, 10.0) == [1, 1, 1, 1]
    with pytest.raises(ValueError):
        long_tail_counts(3, 4, 10.0)


def test_meta_and_split_disjoint(tiny_meta):
    by_split = {s: set() for s in SPLITS}
    for subject, info in tiny_meta['subjects'].items():
        by_split[info['split']].add(subject)
    for vid, info in tiny_meta['videos'].items():
        assert str(info['subject']) in by_split[info['split']]
    assert sum(map(len, by_split.values())) == len(tiny_meta['subjects'])
    counts = {s: {} for s in SPLITS}
    for clip in tiny_meta['clips']:
        key = str(clip['label'])
        counts[clip['split']][key] = counts[clip['split']].get(key, 0) + 1
    assert counts == tiny_meta['class_counts']


def test_deterministic(tiny_root, tmp_path):
    again = str(tmp_path / 'again')
    make_toy_imigue(again, seed=0, num_workers=2, **TINY)
    with open(osp.join(again, META_FILE)) as f:
        meta = json.load(f)
    for vid, info in meta['videos'].items():
        ours = _video_files(again, info['split'], vid)
        theirs = _video_files(tiny_root, info['split'], vid)
        for a, b in zip(ours[:2], theirs[:2]):
            assert filecmp.cmp(a, b, shallow=False), a
        # Encoders may differ across machines: compare pixels loosely.
        fa = decord.VideoReader(ours[2])[5].asnumpy().astype(float)
        fb = decord.VideoReader(theirs[2])[5].asnumpy().astype(float)
        assert np.abs(fa - fb).mean() < 2
    assert filecmp.cmp(
        osp.join(again, META_FILE),
        osp.join(tiny_root, META_FILE),
        shallow=False)
    other = plan_toy_imigue(seed=1, **TINY)
    assert other.clips() != plan_toy_imigue(seed=0, **TINY).clips()


def test_learnable_from_keypoints(default_plan):
    """A nearest-centroid classifier on a few hand-made per-clip features
    (normalised wrist/hand and head positions) beats chance by far."""
    plan = default_plan
    toys = {v.vid: synthesize_video(plan, v).keypoints for v in plan.videos}
    feats = {s: [] for s in SPLITS}
    labels = {s: [] for s in SPLITS}
    for clip in plan.clips():
        kp = toys[clip['vid']][clip['start']:clip['end'] + 1]
        feats[clip['split']].append(_clip_features(kp))
        labels[clip['split']].append(clip['label'])
    x = {s: np.array(v) for s, v in feats.items()}
    y = {s: np.array(v) for s, v in labels.items()}
    mean, std = x['train'].mean(0), x['train'].std(0) + 1e-6
    classes = np.unique(y['train'])
    centroids = np.stack([((x['train'] - mean) / std)[y['train'] == c].mean(0)
                          for c in classes])
    z = (x['test'] - mean) / std
    pred = classes[((z[:, None] - centroids[None])**2).sum(-1).argmin(1)]
    accuracy = (pred == y['test']).mean()
    majority = np.bincount(y['test']).max() / len(y['test'])
    assert accuracy > max(0.6, majority + 0.3), accuracy


def _clip_features(kp):
    """Mean and spread of neck-centred, shoulder-scaled points; hands
    mirrored to one side and ordered by height (so handedness cancels)."""
    with warnings.catch_warnings():
        # A hand missed for a whole clip gives all-NaN slices: fine here.
        warnings.simplefilter('ignore', RuntimeWarning)
        xy = np.where(kp[..., 2:] > 0, kp[..., :2], np.nan)
        neck = np.nanmedian(xy[:, 1], 0)
        width = np.nanmedian(np.linalg.norm(xy[:, 2] - xy[:, 5], axis=-1))
        xy = (xy - neck) / width
        hands = []
        for wrist, hand0, sign in ((4, 116, 1), (7, 95, -1)):
            pts = np.concatenate([xy[:, [wrist]], xy[:, hand0:hand0 + 21]], 1)
            hands.append(np.nanmean(pts, 1) * (sign, 1))
        hands.sort(key=lambda c: np.nanmean(c[:, 1]))
        parts = hands + [
            xy[:, 0], xy[:, 2], xy[:, 5],
            np.nanmean(xy[:, 25:95], 1)
        ]
        out = [np.r_[np.nanmean(p, 0), np.nanstd(p, 0)] for p in parts]
    return np.nan_to_num(np.concatenate(out))


def test_overwrite_rules(tmp_path):
    root = tmp_path / 'toy'
    make_toy_imigue(str(root), **TINY)
    with pytest.raises(FileExistsError, match='not empty'):
        make_toy_imigue(str(root), **TINY)
    stale = root / 'imigue_rgb_phase2' / '9999'
    stale.mkdir()
    (root / 'annotations').mkdir()
    make_toy_imigue(str(root), overwrite=True, **TINY)
    assert not stale.exists()
    assert (root / 'annotations').is_dir()  # not ours: left alone
    # Release folders without toy_meta.json may be real data.
    real = tmp_path / 'real'
    (real / 'imigue_rgb_phase2').mkdir(parents=True)
    with pytest.raises(FileExistsError, match='real release'):
        make_toy_imigue(str(real), overwrite=True, **TINY)
    assert (real / 'imigue_rgb_phase2').is_dir()


@pytest.mark.parametrize('options, match', [
    (dict(classes=(31, 5)), 'no toy motion'),
    (dict(val_subjects=0), 'val_subjects'),
    (dict(num_subjects=4, val_subjects=2, test_subjects=2), 'must exceed'),
    (dict(clips_per_subject=3), 'cannot all occur'),
    (dict(frame_size=(321, 180)), 'even'),
    (dict(clip_len=(40, 30)), 'clip_len'),
])
def test_bad_options(tmp_path, options, match):
    with pytest.raises(ValueError, match=match):
        make_toy_imigue(str(tmp_path / 'out'), **options)
    assert not (tmp_path / 'out').exists()


def test_cli_subprocess(tmp_path):
    out = tmp_path / 'cli'
    out.mkdir()
    (out / 'stray.txt').write_text('not a toy')
    env = dict(os.environ, OMP_NUM_THREADS='1')
    # Both start at once: importing mmmg dominates their run time.
    procs = [
        subprocess.Popen(
            [sys.executable, CLI] + args,
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True)
        for args in (['--help'], ['--out', str(out), '--size', 'tiny'])
    ]
    (help_text, _), (_, error) = [p.communicate(timeout=300) for p in procs]
    assert procs[0].returncode == 0
    assert '--out' in help_text and '--overwrite' in help_text
    assert procs[1].returncode == 2
    assert 'not empty' in error and '--overwrite' in error
    assert os.listdir(out) == ['stray.txt']


def test_cli_main(tmp_path, capsys, monkeypatch):
    # As `python data_prep/make_toy_imigue.py` does, for its `import toy`.
    monkeypatch.syspath_prepend(osp.dirname(CLI))
    main = runpy.run_path(CLI, run_name='make_toy_imigue')['main']
    out = str(tmp_path / 'cli')
    main(['--out', out, '--size', 'tiny', '--workers', '0', '--seed', '0'])
    printed = capsys.readouterr().out
    assert 'wrote 3 videos' in printed and 'illustrative' in printed
    with open(osp.join(out, META_FILE)) as f:
        assert json.load(f)['config']['num_subjects'] == 3
    for bad in (['--frame-size', '320by180'], ['--classes', '31,x'],
                ['--size', 'tiny', '--classes',
                 '31,5'], ['--size', 'tiny', '--workers', '-1']):
        with pytest.raises(SystemExit) as e:
            main(['--out', str(tmp_path / 'bad')] + bad)
        assert e.value.code == 2, bad
    assert 'no toy motion' in capsys.readouterr().err
