"""extractor: streamed, batched extraction of a real encoded video; pose
files, resume and the failure log."""
import json
import os
import pickle

import numpy as np
import pytest

from mmmg.data_prep.video_jobs import VideoReadError, plan_video_jobs
from mmmg.pose_extraction.extractor import (BackendSpec, PoseExtractor,
                                            extract_poses, prefetch,
                                            save_pose_file, shard_failure_log)
from mmmg.utils.job_runner import JobError
from ..data_prep.synthetic_video import write_corrupt_video
from .tiny_onnx import blob_path, write_blob_video, write_half_corrupt_video

FRAMES = 30
GAPS = (10, 11, 12, 25)  # frames without anyone


@pytest.fixture(scope='module')
def blob_video(tmp_path_factory):
    path = tmp_path_factory.mktemp('videos') / 'a' / 'blob.mp4'
    centers = blob_path(FRAMES, gaps=GAPS)
    return write_blob_video(path, centers), centers


def make_extractor(pose_onnx, det_onnx=None, **kwargs):
    spec = BackendSpec(
        pose_model=pose_onnx,
        det_model=det_onnx,
        det_preset='yolox',
        batch_size=4,
        threads=1)
    return PoseExtractor(
        spec, chunk_size=kwargs.pop('chunk_size', 8), **kwargs)


def test_keypoints_follow_the_subject_and_gaps_are_marked(
        blob_video, pose_onnx, det_onnx):
    path, centers = blob_video
    seen = []
    record = make_extractor(
        pose_onnx, det_onnx, chunk_size=4).extract(path, seen.append)
    assert seen == [4] * 7 + [2]  # streamed in chunks
    found = np.array([c is not None for c in centers])
    np.testing.assert_array_equal(record['person_found'], found)
    assert record['keypoint'].shape == (FRAMES, 133, 2)
    assert record['keypoint'].dtype == np.float32
    assert record['keypoint_score'].shape == (FRAMES, 133)
    assert record['bbox'].shape == (FRAMES, 4)
    for t in np.flatnonzero(found):
        # mp4 coding moves the blob's peak by a pixel at most.
        np.testing.assert_allclose(
            record['keypoint'][t],
            np.broadcast_to(centers[t], (133, 2)),
            atol=1.5,
            err_msg=f'frame {t}')
        x1, y1, x2, y2 = record['bbox'][t]
        assert x1 < centers[t][0] < x2 and y1 < centers[t][1] < y2
    assert (record['keypoint_score'][found] > 0.4).all()
    # Frames without the subject: zeros, never NaN.
    for key in ('keypoint', 'keypoint_score', 'bbox', 'bbox_score'):
        assert not np.isnan(record[key]).any()
        assert (record[key][~found] == 0).all(), key
    assert tuple(record['img_shape']) == (120, 160)
    assert record['fps'] == pytest.approx(25)
    assert record['total_frames'] == FRAMES
    assert record['layout'] == 'coco_wholebody133'
    assert (record['backend'], record['model'],
            record['detector']) == ('onnxruntime', 'pose.onnx', 'det.onnx')


def test_whole_frame_box_and_the_pose_score_threshold(blob_video, pose_onnx):
    path, centers = blob_video
    found = np.array([c is not None for c in centers])
    record = make_extractor(pose_onnx).extract(path)
    assert record['person_found'].all() and record['detector'] == \
        'whole_frame'
    np.testing.assert_array_equal(record['bbox'][0], [0, 0, 160, 120])
    # An empty frame scores lower than one with the blob: a threshold
    # between the two marks the empty ones.
    mean = record['keypoint_score'].mean(1)
    threshold = (mean[found].min() + mean[~found].max()) / 2
    assert mean[~found].max() < mean[found].min()
    marked = make_extractor(pose_onnx, min_pose_score=threshold).extract(path)
    np.testing.assert_array_equal(marked['person_found'], found)
    assert (marked['keypoint'][~found] == 0).all()


def test_reduced_decode_size_keeps_keypoints_in_frame_pixels(
        blob_video, pose_onnx, det_onnx):
    """Keypoints against the blob's true centres at full and reduced
    decode sizes; the largest change from full size is stated in
    docs/pose_extraction.md."""
    path, centers = blob_video
    found = np.array([c is not None for c in centers])
    truth = np.array([c for c in centers if c is not None])[:, None]
    full_size = make_extractor(pose_onnx, det_onnx)
    # The detector's 128x128 input needs 128 / 160 of the frame.
    assert full_size.needed_scale(160, 120) == 0.8
    assert make_extractor(pose_onnx).needed_scale(1280, 720) == \
        pytest.approx(192 / 1600)
    records = {
        scale:
        make_extractor(pose_onnx, det_onnx, decode_scale=scale).extract(path)
        for scale in (1.0, 0.5, 'auto')
    }
    for scale, record in records.items():
        np.testing.assert_array_equal(record['person_found'], found)
        assert tuple(record['img_shape']) == (120, 160)
        error = record['keypoint'][found] - truth
        # Within 1.5 px (mp4 coding, SimCC bins) and unbiased: mapping
        # decoded pixel centres back as j / f instead of (j + 0.5) / f - 0.5
        # would shift every point by 0.5 px at half size.
        assert np.abs(error).max() < 1.5, scale
        assert (np.abs(error.reshape(-1, 2).mean(0)) < 0.3).all(), scale
        x1, y1, x2, y2 = record['bbox'][found].T
        assert (x1 < truth[:, 0, 0]).all() and (truth[:, 0, 0] < x2).all()
    change = np.abs(records[0.5]['keypoint'] - records[1.0]['keypoint'])
    assert 0 < change.max() < 2.5
    with pytest.raises(ValueError, match='decode_scale'):
        make_extractor(pose_onnx, decode_scale=0)


def test_a_decode_error_half_way_reaches_the_caller(tmp_path, pose_onnx,
                                                    det_onnx):
    half = write_half_corrupt_video(tmp_path / 'half.mp4')
    with pytest.raises(VideoReadError, match='half.mp4: cannot decode'):
        make_extractor(pose_onnx, det_onnx, chunk_size=4).extract(half)


@pytest.mark.parametrize('ext', ['.npz', '.pkl'])
def test_pose_files_round_trip(tmp_path, ext):
    from mmmg.pose_extraction.convert import load_pose_file
    record = dict(
        keypoint=np.ones((2, 133, 2), np.float32),
        keypoint_score=np.ones((2, 133), np.float32),
        person_found=np.array([True, False]),
        img_shape=np.array([4, 5]),
        fps=25.0,
        total_frames=2,
        layout='coco_wholebody133',
        model='m.onnx')
    path = str(tmp_path / f'x{ext}')
    save_pose_file(path, record)
    back = load_pose_file(path)
    assert back['layout'] == 'coco_wholebody133' and back['fps'] == 25.0
    assert back['total_frames'] == 2 and back['model'] == 'm.onnx'
    np.testing.assert_array_equal(back['person_found'], [True, False])
    with pytest.raises(ValueError, match='end in one of'):
        save_pose_file(str(tmp_path / 'x.json'), record)


def test_runs_resume_and_log_failures(tmp_path, blob_video, pose_onnx,
                                      det_onnx):
    path, _ = blob_video
    root = tmp_path / 'in'
    os.makedirs(root)
    good = str(root / 'good.mp4')
    os.symlink(path, good)
    bad = write_corrupt_video(str(root / 'bad.mp4'))
    half = write_half_corrupt_video(root / 'half.mp4')
    jobs = plan_video_jobs([bad, good, half],
                           str(tmp_path / 'out'),
                           str(root),
                           suffix='.npz')
    log = shard_failure_log(str(tmp_path / 'out'), 0, 1)
    extractor = make_extractor(pose_onnx, det_onnx)
    report = extract_poses(
        jobs, extractor, workers=0, failure_log=log, progress=False)
    assert [j.src for j in report.done] == [good]
    assert report.frames == FRAMES
    # Both corrupt videos, the one failing in the decode thread half-way
    # included, are logged with their names and skipped.
    with open(log) as f:
        failures = [json.loads(line) for line in f]
    assert [f['video'] for f in failures] == [bad, half]
    assert all(f['error'].startswith(f['video']) for f in failures)
    assert sorted(os.listdir(tmp_path /
                             'out')) == ['failures.jsonl', 'good.npz']
    again = extract_poses(
        jobs, extractor, workers=0, failure_log=log, progress=False)
    assert [j.src for j in again.skipped] == [good]
    assert [f['video'] for f in again.failed] == [bad, half]
    # A killed run's zero-byte or truncated pose file is redone.
    dst = jobs[1].dst
    data = open(dst, 'rb').read()
    for planted in (b'', data[:len(data) // 2]):
        with open(dst, 'wb') as f:
            f.write(planted)
        redo = extract_poses(jobs[1:2], extractor, workers=0, progress=False)
        assert redo.done == jobs[1:2] and open(dst, 'rb').read() == data
    with pytest.raises(JobError, match='bad.mp4'):
        extract_poses(jobs, extractor, workers=0, strict=True, progress=False)
    with pytest.raises(ValueError, match='pose files end in'):
        extract_poses(
            plan_video_jobs([good], str(tmp_path / 'o2'), suffix='.mp4'),
            extractor,
            workers=0)


def test_a_bad_model_fails_before_any_video(tmp_path, blob_video):
    extractor = make_extractor(str(tmp_path / 'nope.onnx'))
    jobs = plan_video_jobs([blob_video[0]],
                           str(tmp_path / 'out'),
                           suffix='.npz')
    with pytest.raises(FileNotFoundError, match='nope.onnx'):
        extract_poses(jobs, extractor, workers=0)
    assert not (tmp_path / 'out').exists()


def test_the_extractor_pickles_without_its_models(pose_onnx):
    extractor = make_extractor(pose_onnx).load()
    clone = pickle.loads(pickle.dumps(extractor))
    assert clone._model is None and clone.spec == extractor.spec


def test_backend_spec_checks_its_options(pose_onnx):
    with pytest.raises(ValueError, match='needs a pose model'):
        BackendSpec().build()
    with pytest.raises(ValueError, match='unknown backend'):
        BackendSpec(backend='tensorrt', pose_model=pose_onnx).build()
    with pytest.raises(ValueError, match='config and checkpoint'):
        BackendSpec(backend='mmpose').build()
    with pytest.raises(ValueError, match='not both'):
        BackendSpec(
            pose_model=pose_onnx, det_model='d.onnx',
            det_config='c.py').build()


def test_prefetch_keeps_order_raises_errors_and_stops_on_close():
    assert list(prefetch(iter(range(5)), depth=2)) == list(range(5))

    def failing():
        yield 1
        raise OSError('disk gone')

    items = prefetch(failing())
    assert next(items) == 1
    with pytest.raises(OSError, match='disk gone'):
        next(items)
    produced = []

    def endless():
        while True:
            produced.append(len(produced))
            yield produced[-1]

    items = prefetch(endless())
    assert next(items) == 0
    items.close()  # joins the thread
    count = len(produced)
    assert count <= 3 and len(produced) == count
    # Chained stages: closing the last one stops the first, and an error of
    # the first reaches the consumer through the second.
    closed = []

    def source():
        try:
            yield from range(100)
        finally:
            closed.append(True)

    def double(items):
        for item in items:
            yield 2 * item

    chain = prefetch(double(prefetch(source())))
    assert next(chain) == 0
    chain.close()
    assert closed == [True]
    with pytest.raises(OSError, match='disk gone'):
        list(prefetch(double(prefetch(failing()))))
