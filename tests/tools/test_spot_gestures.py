"""tools/spot_gestures.py end to end on the toy release's long videos: pose
files (ground truth, or the tiny ONNX pose model) -> a skeleton stream ->
label CSV, scores JSON, timeline PNG and overlay MP4, checked against the
ground-truth label tables; bad videos logged while the others are done.

The stream's head is biased to one class ('fold arm'), so what the spotter
must find is known exactly: that class over every frame with the subject.
(Accuracy of a trained toy model is measured by benchmarks/
bench_spotting.py.)"""
import glob
import json
import os.path as osp
import runpy
import shutil

import cv2
import numpy as np
import pytest

from mmmg.classes import IMIGUE_CLASSES
from mmmg.spotting import evaluate_spotting, read_label_csv
from ..apis.stream_helpers import (ground_truth_pose, save_checkpoint,
                                   write_pose_config)
from ..cli_helpers import assert_known_error, run_cli
from ..conftest import REPO
from ..data_prep.synthetic_video import write_video
from ..pose_extraction.tiny_onnx import export_detector, export_pose_model
from ..video_helpers import make_faststart, truncate

TOOL = 'tools/spot_gestures.py'
FAVOURED = IMIGUE_CLASSES.index('fold arm')
RAW_FOLD_ARM = FAVOURED + 1  # MiGA raw label


def run_tool_main(argv):
    main = runpy.run_path(osp.join(REPO, TOOL), run_name='under_test')['main']
    return main([str(a) for a in argv])


@pytest.fixture(scope='module')
def setup(toy_imigue, tmp_path_factory):
    tmp = tmp_path_factory.mktemp('spot')
    config = write_pose_config(tmp)
    ckpt = save_checkpoint(config, tmp / 'joint.pth', IMIGUE_CLASSES, FAVOURED)
    release = toy_imigue['release']
    videos = sorted(
        glob.glob(osp.join(release, '**', '*.mp4'), recursive=True))
    pose_dir = tmp / 'gt_pose'
    pose_dir.mkdir()
    for video in videos:
        vid = osp.splitext(osp.basename(video))[0]
        [xlsx] = glob.glob(
            osp.join(release, '**', f'{vid}_openpose.xlsx'), recursive=True)
        ground_truth_pose(xlsx, video, pose_dir / f'{vid}.npz')
    return dict(
        tmp=tmp,
        config=config,
        ckpt=ckpt,
        release=release,
        videos=videos,
        pose_dir=str(pose_dir),
        stream=f'joint={config}:{ckpt}')


def frame_count(video):
    cap = cv2.VideoCapture(video)
    count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    cap.release()
    return count


def test_ground_truth_poses_to_csv_png_mp4(setup, tmp_path):
    out = tmp_path / 'out'
    argv = [
        setup['release'], '--streams', setup['stream'], '--pose-dir',
        setup['pose_dir'], '--gt-dir', setup['release'], '--out-dir', out,
        '--window', 16, '--stride', 16, '--overlay', '--no-progress'
    ]
    report = run_tool_main(argv)
    assert len(report.done) == len(setup['videos']) == 3
    videos = {}
    for video in setup['videos']:
        vid = osp.splitext(osp.basename(video))[0]
        num_frames = frame_count(video)
        # Every frame has the subject and every window says 'fold arm':
        # one segment over the whole video, in the official layout.
        with open(out / f'{vid}_pred.csv') as f:
            assert f.read().split() == [f'{RAW_FOLD_ARM},0,{num_frames - 1}']
        pred = read_label_csv(str(out / f'{vid}_pred.csv'))
        [gt_file] = glob.glob(
            osp.join(setup['release'], '**', f'{vid}_label.csv'),
            recursive=True)
        gt = read_label_csv(gt_file)
        videos[vid] = (pred, gt)

        with open(out / f'{vid}_scores.json') as f:
            scores = json.load(f)
        assert scores['num_frames'] == num_frames
        assert scores['classes'] == list(IMIGUE_CLASSES)
        assert scores['window'] == 16 and scores['stride'] == 16
        assert all(scores['scored'])
        fused = np.array(scores['fused'])
        np.testing.assert_allclose(fused.sum(1), 1, atol=1e-4)
        assert (fused.argmax(1) == FAVOURED).all()
        assert scores['segments'] == [
            dict(
                label='fold arm',
                start=0,
                end=num_frames,
                score=pytest.approx(scores['segments'][0]['score']))
        ]
        with open(out / f'{vid}_timeline.png', 'rb') as f:
            assert f.read(8) == b'\x89PNG\r\n\x1a\n'
        assert frame_count(str(out / f'{vid}_overlay.mp4')) == num_frames

    # The CSV against the ground truth, with eval_spotting's functions and
    # by hand: one whole-video prediction per video matches a 'fold arm'
    # ground-truth segment only if that covers half the video.
    report = evaluate_spotting(videos, background_class='illustrative')
    at = report['overall']['0.5']
    tp = fn = 0
    for (_, gts), video in zip(videos.values(), setup['videos']):
        num_frames = frame_count(video)
        mg = [g for g in gts if g.label != 'illustrative']
        # IoU of [0, T) with a segment inside it: its share of the video.
        hit = any(g.label == 'fold arm' and g.duration / num_frames >= 0.5
                  for g in mg)
        tp, fn = tp + hit, fn + len(mg) - hit
    assert (at['tp'], at['fp'], at['fn']) == (tp, 3 - tp, fn)
    assert fn > 0

    # A rerun finds every video done.
    again = run_tool_main(argv)
    assert len(again.skipped) == 3 and not again.done


def test_onnx_pose_and_bad_videos(setup, tmp_path):
    """The tiny ONNX pose model and detector; a video without anyone, a
    video corrupt half-way and a window longer than the videos."""
    pose_onnx = export_pose_model(tmp_path / 'pose.onnx')
    det_onnx = export_detector(tmp_path / 'det.onnx')
    inputs = tmp_path / 'videos'
    inputs.mkdir()
    write_video(
        str(inputs / 'empty.mp4'), np.full((40, 120, 160, 3), 20, np.uint8))
    source = setup['videos'][0]
    good, whole = str(inputs / 'good.mp4'), str(tmp_path / 'whole.mp4')
    for copy in (good, whole):
        shutil.copyfile(source, copy)
    # Every frame stated up front, half of them missing.
    truncate(make_faststart(whole), 0.5, str(inputs / 'corrupt.mp4'))
    out = tmp_path / 'out'
    argv = [
        inputs, '--streams', setup['stream'], '--pose-model', pose_onnx,
        '--det-model', det_onnx, '--det-preset', 'yolox', '--out-dir', out,
        '--window', '20s', '--no-progress'
    ]
    report = run_tool_main(argv)
    assert sorted(osp.basename(v)
                  for v, _ in report.done) == ['empty.mp4', 'good.mp4']
    [failed] = report.failed
    assert failed['video'].endswith('corrupt.mp4')
    with open(out / 'failures.jsonl') as f:
        [logged] = [json.loads(line) for line in f]
    assert 'corrupt.mp4' in logged['error']

    # No one in the video: nothing scored, an empty label table.
    with open(out / 'empty_scores.json') as f:
        scores = json.load(f)
    assert not any(scores['scored']) and scores['segments'] == []
    assert osp.getsize(out / 'empty_pred.csv') == 0
    # A 20 s window on a 7 s video: one window of the whole video.
    with open(out / 'good_scores.json') as f:
        scores = json.load(f)
    assert scores['padded'] and scores['starts'] == [0]
    assert scores['ends'] == [frame_count(good)]
    assert osp.isfile(out / 'pose' / 'good.npz')
    with open(out / 'good_pred.csv') as f:
        assert f.read().split() == [f'{RAW_FOLD_ARM},0,{frame_count(good)-1}']

    again = run_tool_main(argv)
    assert len(again.skipped) == 2 and len(again.failed) == 1


def test_streams_with_other_classes_stop_before_any_video(
        setup, tmp_path, capsys, monkeypatch):
    renamed = list(IMIGUE_CLASSES)
    renamed[5] = 'hide face'
    other = save_checkpoint(setup['config'], tmp_path / 'other.pth', renamed)
    result = run_cli(TOOL, [
        setup['videos'][0], '--streams', setup['stream'],
        f'other={setup["config"]}:{other}', '--pose-dir', setup['pose_dir'],
        '--out-dir', tmp_path / 'out'
    ], capsys, monkeypatch)
    assert_known_error(result, TOOL, "'joint' and 'other'", 'class 5')
    assert not osp.exists(tmp_path / 'out' / 'failures.jsonl')


def test_bad_options_are_one_line(setup, tmp_path, capsys, monkeypatch):
    base = [setup['videos'][0], '--out-dir', tmp_path / 'out']
    result = run_cli(TOOL, base + ['--streams', 'joint=missing.py:x.pth'],
                     capsys, monkeypatch)
    assert_known_error(result, TOOL, 'missing.py')
    result = run_cli(TOOL, base + ['--streams', setup['stream']], capsys,
                     monkeypatch)
    assert_known_error(result, TOOL, '--pose-dir or --pose-model')
    result = run_cli(
        TOOL, base + [
            '--streams', setup['stream'], '--pose-dir', setup['pose_dir'],
            '--param', 'hgih=0.2'
        ], capsys, monkeypatch)
    assert_known_error(result, TOOL, 'hgih')
