"""backends: ONNX Runtime pose and detector models, checked on tiny exports
against plain-numpy references; clear errors for bad models."""
import importlib.util

import cv2
import numpy as np
import pytest

from mmmg.pose_extraction.backends import (MMPoseBackend, ModelError,
                                           ONNXDetector, ONNXPoseBackend,
                                           WholeFrameDetector, letterbox,
                                           onnx_session, parse_device)
from mmmg.pose_extraction.topdown import (box_to_center_scale, crop_inputs,
                                          crop_matrix)
from .tiny_onnx import DET_INPUT, FRAME_SIZE, blob_frames, export_pose_model

BOXES = np.array([[45, 40, 75, 70], [80, 20, 125, 65]], np.float32)


def reference_keypoints(simcc_x, simcc_y, boxes, input_size=(192, 256)):
    """argmax / 2 mapped back with OpenCV's inverse of the crop warp."""
    center, size = box_to_center_scale(boxes, input_size)
    out = []
    for i in range(len(boxes)):
        inverse = cv2.invertAffineTransform(
            crop_matrix(center[i], size[i], input_size))
        locs = np.stack([simcc_x[i].argmax(-1), simcc_y[i].argmax(-1)],
                        -1).astype(np.float32) / 2
        out.append(cv2.transform(locs[None], inverse)[0])
    return np.stack(out)


def test_pose_model_signature_is_read(pose_onnx):
    pose = ONNXPoseBackend(pose_onnx, batch_size=4)
    assert (pose.num_keypoints, pose.split_ratio,
            pose.input_size) == (133, 2.0, (192, 256))
    assert pose.name == 'onnxruntime' and pose.model == 'pose.onnx'


def test_pose_estimates_match_the_numpy_reference(pose_onnx):
    frames = blob_frames([(60, 55), (100, 40)])
    pose = ONNXPoseBackend(pose_onnx, batch_size=1)  # two calls
    kp, score = pose.estimate(list(frames), BOXES)
    assert kp.shape == (2, 133, 2) and score.shape == (2, 133)
    crops = np.concatenate([
        crop_inputs(f, b[None], (192, 256))[0] for f, b in zip(frames, BOXES)
    ])
    simcc_x, simcc_y = pose.run(crops)
    np.testing.assert_allclose(
        kp, reference_keypoints(simcc_x, simcc_y, BOXES), atol=1e-3)
    np.testing.assert_allclose(
        score, np.minimum(simcc_x.max(-1), simcc_y.max(-1)), rtol=1e-6)
    # The tiny model finds the blob centres, with rising keypoint weights.
    np.testing.assert_allclose(kp[:, 0], [(60, 55), (100, 40)], atol=1)
    assert (np.diff(score, axis=1) > 0).all()


def test_a_model_with_a_fixed_batch_runs_in_padded_slices(tmp_path, pose_onnx):
    import onnx
    fixed = export_pose_model(tmp_path / 'fixed.onnx', num_keypoints=17)
    model = onnx.load(fixed)
    for value in list(model.graph.input) + list(model.graph.output):
        value.type.tensor_type.shape.dim[0].dim_value = 2
    onnx.save(model, fixed)
    pose = ONNXPoseBackend(fixed, batch_size=16)
    assert pose.fixed_batch == 2 and pose.num_keypoints == 17
    frames = blob_frames([(60, 55), (100, 40), (60, 55)])
    boxes = np.concatenate([BOXES, BOXES[:1]])
    kp, _ = pose.estimate(list(frames), boxes)
    reference, _ = ONNXPoseBackend(pose_onnx).estimate(list(frames), boxes)
    np.testing.assert_allclose(kp, reference[:, :17], atol=1e-4)


def test_bad_pose_models_are_named(tmp_path, det_onnx, pose_onnx):
    with pytest.raises(FileNotFoundError, match='missing.onnx'):
        ONNXPoseBackend(str(tmp_path / 'missing.onnx'))
    garbage = tmp_path / 'garbage.onnx'
    garbage.write_bytes(b'not a model' * 10)
    with pytest.raises(ModelError, match='garbage.onnx.*cannot load'):
        ONNXPoseBackend(str(garbage))
    single = export_pose_model(tmp_path / 'single.onnx', outputs=('simcc_x', ))
    with pytest.raises(ModelError, match='single.onnx.*simcc_y'):
        ONNXPoseBackend(single)
    with pytest.raises(ModelError, match='det.onnx.*simcc'):
        ONNXPoseBackend(det_onnx)
    # A model made for 96 x 128 crops cannot take the size forced on it.
    other = export_pose_model(tmp_path / 'other.onnx', input_size=(96, 128))
    with pytest.raises(
            ModelError,
            match='other.onnx: a test inference on '
            'a blank 192 x 256 crop failed'):
        ONNXPoseBackend(other, input_size=(192, 256))
    # SimCC lengths that give x and y different split ratios.
    import onnx
    model = onnx.load(pose_onnx)
    for output, length in zip(model.graph.output, (384, 500)):
        dims = output.type.tensor_type.shape.dim
        dims[1].dim_value, dims[2].dim_value = 133, length
    onnx.save(model, str(tmp_path / 'ratio.onnx'))
    with pytest.raises(
            ModelError,
            match='ratio.onnx: outputs .* do not fit '
            'an input of 192 x 256'):
        ONNXPoseBackend(str(tmp_path / 'ratio.onnx'))


def test_detector_boxes_the_blob_in_frame_pixels(det_onnx):
    det = ONNXDetector(det_onnx, preset='yolox', batch_size=2)
    assert det.input_size == DET_INPUT
    frames = blob_frames([(60, 55), None, (150, 110)])
    boxes = det.detect(frames)
    assert [len(b) for b in boxes] == [1, 0, 1]
    for found, (cx, cy) in zip((boxes[0][0], boxes[2][0]), [(60, 55),
                                                            (150, 110)]):
        x1, y1, x2, y2, score = found
        assert score == 1
        # The bright core is ~25 px wide; the box holds it, clipped to the
        # frame.
        assert x1 < cx < x2 and y1 < cy < y2
        assert 15 < x2 - x1 < 35 and x2 <= FRAME_SIZE[0] and \
            y2 <= FRAME_SIZE[1]
    # The reference: letterbox by hand, threshold, box, scale back.
    padded, ratio = letterbox(frames[:1], DET_INPUT)
    ys, xs = np.nonzero(padded[0].astype(np.float32).mean(-1) > 130)
    np.testing.assert_allclose(
        boxes[0][0, :4],
        np.array([xs.min(), ys.min(),
                  xs.max() + 1, ys.max() + 1]) / ratio)


def test_detector_threshold_and_errors(tmp_path, det_onnx, pose_onnx):
    frames = blob_frames([(60, 55)])
    assert len(
        ONNXDetector(det_onnx, 'yolox', score_thr=1.5).detect(frames)[0]) == 0
    with pytest.raises(ModelError, match='pose.onnx.*dets'):
        ONNXDetector(pose_onnx)
    with pytest.raises(ValueError, match='preset'):
        ONNXDetector(det_onnx, preset='ssd')


def test_whole_frame_detector():
    boxes = WholeFrameDetector().detect(blob_frames([None, None]))
    assert len(boxes) == 2
    np.testing.assert_array_equal(boxes[0], [[0, 0, 160, 120, 1]])


def test_devices(pose_onnx):
    assert parse_device('cpu') == ('cpu', 0)
    assert parse_device('cuda:2') == ('cuda', 2)
    for bad in ('gpu', 'cuda:x', 'cpu:1'):
        with pytest.raises(ValueError, match='device'):
            parse_device(bad)
    import onnxruntime
    if 'CUDAExecutionProvider' not in onnxruntime.get_available_providers():
        with pytest.raises(RuntimeError, match='onnxruntime-gpu'):
            onnx_session(pose_onnx, 'cuda')


@pytest.mark.skipif(
    importlib.util.find_spec('mmpose') is not None,
    reason='mmpose is installed')
def test_mmpose_backend_says_how_to_install_it(tmp_path):
    with pytest.raises(
            ImportError, match=r'mmpose extra.*separate '
            'environment'):
        MMPoseBackend(str(tmp_path / 'cfg.py'), str(tmp_path / 'ckpt.pth'))
