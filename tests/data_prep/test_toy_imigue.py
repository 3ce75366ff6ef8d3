"""Toy iMiGUE release: layout, label tables, keypoints, determinism, CLI,
and the ways it is hard like iMiGUE (variation, confusable classes, lost
cues, long tail, clip lengths)."""
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


@pytest.fixture(scope='module')
def default_clips(default_plan):
    """(record, detected keypoints, clean points) of every default clip."""
    clips = []
    for video in default_plan.videos:
        toy = synthesize_video(default_plan, video)
        for clip in default_plan.clips():
            if clip['vid'] == video.vid:
                frames = slice(clip['start'], clip['end'] + 1)
                clips.append((clip, toy.keypoints[frames], toy.clean[frames]))
    return clips


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
        # Random misses of points that are normally visible (the face).
        assert 0 < missed[:, 25:95].mean() < 0.2


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
    # The neck is never hidden: its misses are the detector's own short
    # dropouts, in runs of 1-8 frames like OpenPose's, not single frames.
    runs = _run_lengths(missed[:, 1])
    # (Two runs that overlap merge into a longer one.)
    assert len(runs) >= 5 and np.percentile(runs, 90) <= 8
    assert (runs > 1).mean() > 0.5


def _run_lengths(flags):
    """Lengths of the runs of True in a 1-D bool array."""
    edges = np.diff(np.r_[0, flags.astype(int), 0])
    return np.flatnonzero(edges == -1) - np.flatnonzero(edges == 1)


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
    assert 100 <= totals['val'] <= 140 and 100 <= totals['test'] <= 140
    for split in SPLITS:
        assert all(counts[split][c] > 0 for c in DEFAULT_CLASSES), split
    # iMiGUE's shape: a steep head, rare classes with a handful of clips
    # in each held-out split.
    train = [counts['train'][c] for c in DEFAULT_CLASSES]
    assert train == sorted(train, reverse=True)
    assert train[0] >= 5 * train[-1] and train[0] > 0.2 * totals['train']
    # ... yet enough held-out clips that a rare class's recall can be
    # something between 0 and 1.
    for split in ('val', 'test'):
        assert 4 <= counts[split][DEFAULT_CLASSES[-1]] <= 6
    # Cross-subject: a subject's videos all sit in the subject's split.
    splits_of = {}
    for video in plan.videos:
        splits_of.setdefault(video.subject, set()).add(video.split)
        assert video.split == plan.subject_split[video.subject]
    assert all(len(s) == 1 for s in splits_of.values())
    assert len(splits_of) == plan.config.num_subjects


def test_long_tail_counts():
    counts = long_tail_counts(1000, 5, 10.0)
    assert sum(counts) == 1000 and counts == sorted(counts, reverse=True)
    assert counts[0] / counts[-1] == pytest.approx(10, rel=0.05)
    # Zipf-like, not geometric: the second class has the power-law share.
    alpha = np.log(10) / np.log(5)
    assert counts[1] / counts[0] == pytest.approx(2**-alpha, rel=0.05)
    assert long_tail_counts(4, 4, 10.0) == [1, 1, 1, 1]
    assert min(long_tail_counts(30, 5, 10.0, min_count=3)) >= 3
    with pytest.raises(ValueError):
        long_tail_counts(3, 4, 10.0)
    with pytest.raises(ValueError):
        long_tail_counts(10, 4, 10.0, min_count=3)


def test_clip_lengths_like_imigue(default_plan):
    """Log-normal like iMiGUE's instances (mean 2.55 s, mostly short),
    truncated to the configured range."""
    lo, hi = default_plan.config.clip_len
    fps = default_plan.config.fps
    lengths = np.array(
        [c['end'] - c['start'] + 1 for c in default_plan.clips()])
    assert lengths.min() >= lo and lengths.max() <= hi
    assert np.mean(lengths) > np.median(lengths) + 2  # a long right tail
    assert 1.2 < np.median(lengths) / fps < 2.4
    assert len(np.unique(lengths)) > 40


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


def _nearest_centroid(train_x, train_y, x):
    mean, std = train_x.mean(0), train_x.std(0) + 1e-6
    classes = np.unique(train_y)
    centroids = np.stack([((train_x - mean) / std)[train_y == c].mean(0)
                          for c in classes])
    z = (x - mean) / std
    return classes[((z[:, None] - centroids[None])**2).sum(-1).argmin(1)]


def test_learnable_but_not_trivial(default_clips):
    """A nearest-centroid classifier on hand-made per-clip features
    (normalised wrist/hand and head positions) beats the majority class
    by far, yet gets neither every clip nor every class right or wrong:
    most classes have clips it gets and clips it misses."""
    x = {s: [] for s in SPLITS}
    y = {s: [] for s in SPLITS}
    for clip, kp, _ in default_clips:
        x[clip['split']].append(_clip_features(kp))
        y[clip['split']].append(clip['label'])
    x = {s: np.array(v) for s, v in x.items()}
    y = {s: np.array(v) for s, v in y.items()}
    held_x = np.concatenate([x['val'], x['test']])
    held_y = np.concatenate([y['val'], y['test']])
    pred = _nearest_centroid(x['train'], y['train'], held_x)
    accuracy = (pred == held_y).mean()
    majority = np.bincount(held_y).max() / len(held_y)
    assert majority + 0.15 < accuracy < 0.9, (majority, accuracy)
    recall = [(pred[held_y == c] == c).mean() for c in np.unique(held_y)]
    between = sum(0 < r < 1 for r in recall)
    assert between >= len(recall) // 2, recall


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


def _shoulder_frame(xy):
    """Points relative to the neck, in shoulder widths; (T, V, 2)."""
    width = np.linalg.norm(xy[:, 2] - xy[:, 5], axis=-1)[:, None, None]
    return (xy - xy[:, 1:2]) / width


def _raised_wrist(clean):
    """Where the higher wrist stops relative to the nose (clip middle),
    mirrored so that both hands land on one side; and which hand it is."""
    xy = _shoulder_frame(clean)
    mid = slice(len(xy) * 2 // 5, max(len(xy) * 3 // 5, len(xy) * 2 // 5 + 1))
    rel = xy[mid, [4, 7]] - xy[mid, None, 0]  # right wrist, left wrist
    side = int(rel[..., 1].mean(0).argmin())
    pos = rel[:, side].mean(0) * ((1, 1), (-1, 1))[side]
    return pos, side


def test_hand_to_head_classes_confusable(default_clips, default_plan):
    """Touching the ears, face, chin or neck differs only in where the hand
    goes, and that scatters: the stopping point alone separates them well
    above chance, but not always. Both hands do it, also for one person."""
    families = (3, 8, 10, 11)
    pos = {s: [] for s in SPLITS}
    y = {s: [] for s in SPLITS}
    sides = {}
    for clip, _, clean in default_clips:
        if clip['label'] in families:
            p, side = _raised_wrist(clean)
            pos[clip['split']].append(p)
            y[clip['split']].append(clip['label'])
            sides.setdefault(clip['subject'], set()).add(side)
    train_x, train_y = np.array(pos['train']), np.array(y['train'])
    held_x = np.array(pos['val'] + pos['test'])
    held_y = np.array(y['val'] + y['test'])
    accuracy = (_nearest_centroid(train_x, train_y, held_x) == held_y).mean()
    assert 0.45 < accuracy < 0.95, accuracy
    train_acc = (_nearest_centroid(train_x, train_y, train_x) == train_y)
    assert 0.45 < train_acc.mean() < 0.98, train_acc.mean()
    assert any(len(s) == 2 for s in sides.values())
    handed = {s.left_handed for s in default_plan.subjects}
    assert handed == {True, False}


def _path_length(clean):
    """How far head, shoulders and wrists travel, in shoulder widths."""
    xy = _shoulder_frame(clean)[:, [0, 2, 4, 5, 7]]
    return np.linalg.norm(np.diff(xy, axis=0), axis=-1).sum()


def test_intra_class_variation(default_clips):
    """Clips of one class differ in size, tempo and duration, as in real
    interviews: no class is one fixed template."""
    paths, lengths = {}, {}
    for clip, _, clean in default_clips:
        paths.setdefault(clip['label'], []).append(_path_length(clean))
        lengths.setdefault(clip['label'], []).append(len(clean))
    spread = []
    for label, values in paths.items():
        if len(values) >= 8:
            spread.append(np.std(values) / np.mean(values))
            assert spread[-1] > 0.05, (label, values)
            assert np.ptp(lengths[label]) > 20, label
    assert np.median(spread) > 0.15, spread


def test_cue_sometimes_lost(default_clips):
    """The detector sometimes loses a hand or the face for most of a clip,
    not only for a few frames."""
    lost = []
    for _, kp, _ in default_clips:
        missed = kp[..., 2] == 0
        parts = (missed[:, 96:116].all(-1), missed[:, 117:137].all(-1),
                 missed[:, 25:95].all(-1))
        lost.append(max(p.mean() for p in parts) > 0.4)
    assert 0.05 < np.mean(lost) < 0.4, np.mean(lost)


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
    (dict(min_clips=0), 'min_clips'),
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
    bad_args = [
        ['--frame-size', '320by180'],
        ['--classes', '31,x'],
        ['--size', 'tiny', '--classes', '31,5'],
        ['--size', 'tiny', '--workers', '-1'],
        ['--size', 'tiny', '--min-clips', '9'],
    ]
    for bad in bad_args:
        with pytest.raises(SystemExit) as e:
            main(['--out', str(tmp_path / 'bad')] + bad)
        assert e.value.code == 2, bad
    error = capsys.readouterr().err
    assert 'no toy motion' in error and 'cannot all occur 9 times' in error
