"""topdown: RTMPose crops and SimCC decoding against plain references."""
import cv2
import numpy as np
import pytest

from mmmg.pose_extraction.topdown import (PIXEL_MEAN, PIXEL_STD,
                                          box_to_center_scale, crop_inputs,
                                          crop_matrix, decode_simcc,
                                          decode_to_frame, to_frame_coords)

INPUT = (192, 256)


def reference_decode(simcc_x, simcc_y, ratio):
    """Per-keypoint loops: argmax / ratio, score = min of the two maxima."""
    n, k = simcc_x.shape[:2]
    locs = np.zeros((n, k, 2), np.float32)
    scores = np.zeros((n, k), np.float32)
    for i in range(n):
        for j in range(k):
            x, y = int(np.argmax(simcc_x[i, j])), int(np.argmax(simcc_y[i, j]))
            scores[i, j] = min(simcc_x[i, j, x], simcc_y[i, j, y])
            locs[i, j] = (x / ratio, y / ratio) if scores[i, j] > 0 else -1
    return locs, scores


def test_box_is_padded_to_the_input_aspect():
    center, size = box_to_center_scale(
        np.array([[10, 20, 50, 60], [0, 0, 30, 100]]), INPUT)
    np.testing.assert_allclose(center, [[30, 40], [15, 50]])
    # 40 x 40 padded to 50 x 50, then heightened to 3:4; 30 x 100 padded to
    # 37.5 x 125, then widened.
    np.testing.assert_allclose(size, [[50, 50 * 4 / 3], [125 * 0.75, 125]])
    assert np.allclose(size[:, 0] / size[:, 1], 0.75)


def test_simcc_decoding_matches_the_reference():
    rng = np.random.default_rng(0)
    simcc_x = rng.normal(size=(3, 7, 384)).astype(np.float32)
    simcc_y = rng.normal(size=(3, 7, 512)).astype(np.float32)
    simcc_x[0, 0] = -1  # no positive response: the point is missing
    locs, scores = decode_simcc(simcc_x, simcc_y, 2.0)
    ref_locs, ref_scores = reference_decode(simcc_x, simcc_y, 2.0)
    np.testing.assert_array_equal(locs, ref_locs)
    np.testing.assert_allclose(scores, ref_scores)
    assert (locs[0, 0] == -1).all() and scores[0, 0] < 0


def test_crop_warp_and_its_inverse_agree_with_opencv():
    boxes = np.array([[40, 30, 90, 110], [0, 0, 160, 120]], np.float32)
    center, size = box_to_center_scale(boxes, INPUT)
    points = np.array([[50, 40], [81.5, 97.25], [3, 117]], np.float32)
    for c, s in zip(center, size):
        matrix = crop_matrix(c, s, INPUT)
        # The box centre lands on the input centre.
        np.testing.assert_allclose(matrix @ [*c, 1], [96, 128], atol=1e-4)
        crop_points = cv2.transform(points[None], matrix)[0]
        back = to_frame_coords(crop_points[None], c[None], s[None], INPUT)
        inverse = cv2.invertAffineTransform(matrix)
        np.testing.assert_allclose(back[0], points, atol=1e-3)
        np.testing.assert_allclose(
            cv2.transform(crop_points[None], inverse)[0], points, atol=1e-3)


def test_crops_hold_the_box_content_normalised():
    frame = np.full((120, 160, 3), 10, np.uint8)
    frame[60:64, 100:104] = (250, 128, 0)  # a small RGB square
    crops, center, size = crop_inputs(frame, np.array([[80, 40, 120, 90]]),
                                      INPUT)
    assert crops.shape == (1, 3, 256, 192) and crops.dtype == np.float32
    # The square's centre (102, 62) in the crop, and its colour.
    x, y = cv2.transform(
        np.array([[[102, 62]]], np.float32),
        crop_matrix(center[0], size[0], INPUT))[0, 0]
    pixel = crops[0, :, int(round(y)), int(round(x))]
    np.testing.assert_allclose(
        pixel, (np.array([250, 128, 0]) - PIXEL_MEAN) / PIXEL_STD, atol=1e-4)
    corner = crops[0, :, 0, 0]
    np.testing.assert_allclose(
        corner, (10 - PIXEL_MEAN) / PIXEL_STD, atol=1e-4)


def test_decode_to_frame_zeroes_missing_points():
    simcc_x = np.zeros((1, 2, 384), np.float32)
    simcc_y = np.zeros((1, 2, 512), np.float32)
    simcc_x[0, 0, 100], simcc_y[0, 0, 300] = 0.9, 0.8
    center, size = np.array([[50, 60]], np.float32), np.array([[96, 128]],
                                                              np.float32)
    kp, score = decode_to_frame(simcc_x, simcc_y, 2.0, center, size, INPUT)
    # bins (100, 300) -> input (50, 150) -> frame (50, 150) * 0.5 + centre
    # - size / 2
    np.testing.assert_allclose(kp[0, 0], [27, 71])
    assert score[0, 0] == pytest.approx(0.8)
    assert (kp[0, 1] == 0).all() and score[0, 1] == 0
