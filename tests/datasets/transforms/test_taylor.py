"""Taylor videos: the vectorised formula against a plain loop, the 8-bit
mapping, and the TaylorVideo / ExpandTaylorWindows transforms."""
import math

import cv2
import numpy as np
import pytest
from mmaction.registry import TRANSFORMS
from mmengine.dataset import Compose

import mmmg  # noqa: F401  (registers the transforms)
from mmmg.datasets.transforms import ExpandTaylorWindows, TaylorVideo
from mmmg.datasets.transforms.taylor import (DEFAULT_TAYLOR_SCALE,
                                             compute_taylor, dequantize_taylor,
                                             pad_frames, taylor_window,
                                             to_gray)


def reference_taylor(frames, num_terms):
    """The formula written out: grayscale frames in [0, 1] (float64), one
    window of L = K + 3 frames per output, explicit sums over j and n."""
    frames = np.asarray(frames, np.float64)
    L = num_terms + 3
    out = np.zeros((len(frames) - L + 1, ) + frames.shape[1:] + (3, ))
    for t in range(len(out)):
        win = frames[t:t + L]
        # k-th forward difference at the window start
        diff = [
            sum((-1)**(k - i) * math.comb(k, i) * win[i] for i in range(k + 1))
            for k in range(L)
        ]
        for n in range(num_terms):
            s_n = sum(
                (win[j] - win[0])**n for j in range(L)) / math.factorial(n)
            for c in range(3):
                out[t, ..., c] += s_n * diff[n + 1 + c]
    return out


def random_gray(seed, shape):
    return np.random.default_rng(seed).integers(0, 256, shape, np.uint8)


def smooth_motion(num_frames, size=(20, 16)):
    """Gray frames of a soft blob sliding right, like real footage."""
    width, height = size
    ys, xs = np.mgrid[:height, :width]
    frames = [
        80 + 120 * np.exp(-((xs - 3 - 0.7 * t)**2 + (ys - 8)**2) / 18)
        for t in range(num_frames)
    ]
    return np.round(np.stack(frames)).astype(np.uint8)


# ---------------------------------------------------------------- formula --
@pytest.mark.parametrize('num_terms', [1, 2, 3, 4, 6])
@pytest.mark.parametrize('extra', [0, 5])
def test_matches_the_formula_on_uint8_frames(num_terms, extra):
    L = taylor_window(num_terms)
    gray = random_gray(num_terms * 10 + extra, (L + extra, 7, 9))
    ref = reference_taylor(gray / 255.0, num_terms)
    out = compute_taylor(gray, num_terms)
    assert out.shape == (extra + 1, 7, 9, 3) and out.dtype == np.float32
    np.testing.assert_allclose(out, ref, rtol=0, atol=1e-6 * np.abs(ref).max())


@pytest.mark.parametrize('num_terms', [2, 3, 5])
@pytest.mark.parametrize('dtype', [np.float32, np.float64])
def test_matches_the_formula_on_float_frames(num_terms, dtype):
    gray = np.random.default_rng(num_terms).random((num_terms + 8, 6, 5))
    gray = gray.astype(dtype)
    ref = reference_taylor(gray, num_terms)
    out = compute_taylor(gray, num_terms, band_pixels=7)
    np.testing.assert_allclose(out, ref, rtol=0, atol=1e-6 * np.abs(ref).max())


def test_static_pixels_are_zero_and_mid_grey():
    gray = np.full((9, 4, 6), 77, np.uint8)
    assert not compute_taylor(gray).any()
    assert (compute_taylor(gray, scale=DEFAULT_TAYLOR_SCALE) == 128).all()


@pytest.mark.parametrize('num_terms', [1, 3, 5])
def test_8bit_mapping_is_round_offset_plus_scale(num_terms):
    gray = smooth_motion(num_terms + 10)
    scale = (31.0, 17.5, 9.0)
    ref = reference_taylor(gray / 255.0, num_terms)
    expected = np.clip(np.round(128 + ref * np.array(scale)), 0, 255)
    out = compute_taylor(gray, num_terms, scale=scale)
    assert out.dtype == np.uint8
    # Equal but where float32 rounding meets a .5 tie.
    diff = np.abs(out.astype(int) - expected)
    assert diff.max() <= 1 and (diff == 0).mean() > 0.999
    back = dequantize_taylor(out, scale)
    inside = (expected > 0) & (expected < 255)
    assert np.abs(back - ref)[inside].max() <= 0.5 / min(scale) + 1e-6


def test_saturates_strong_motion():
    gray = np.zeros((6, 2, 2), np.uint8)
    gray[1::2] = 255  # flicker: the largest differences there are
    out = compute_taylor(gray, 3, scale=DEFAULT_TAYLOR_SCALE)
    assert set(np.unique(out)) <= {0, 255}


def test_layout_does_not_change_the_result():
    gray = random_gray(0, (14, 11, 13))
    base = compute_taylor(gray, 3, scale=DEFAULT_TAYLOR_SCALE)
    for bands, threads in [(1, 1), (5, 3), (64, 2), (10**6, 1)]:
        out = compute_taylor(
            gray,
            3,
            scale=DEFAULT_TAYLOR_SCALE,
            band_pixels=bands,
            num_threads=threads)
        np.testing.assert_array_equal(out, base)
    bgr = compute_taylor(gray, 3, scale=DEFAULT_TAYLOR_SCALE, out_order='bgr')
    np.testing.assert_array_equal(bgr, base[..., ::-1])
    out = np.empty_like(base)
    assert compute_taylor(gray, 3, DEFAULT_TAYLOR_SCALE, out=out) is out


def test_each_frame_depends_on_its_window_only():
    gray = random_gray(1, (20, 5, 6))
    whole = compute_taylor(gray, 3, scale=DEFAULT_TAYLOR_SCALE)
    for start in (0, 3, 14):
        part = compute_taylor(
            gray[start:start + 6], 3, scale=DEFAULT_TAYLOR_SCALE)
        np.testing.assert_array_equal(part[0], whole[start])


def test_argument_errors():
    gray = random_gray(0, (5, 4, 4))
    with pytest.raises(ValueError, match='5 frames are fewer than the 6'):
        compute_taylor(gray, 3)
    with pytest.raises(ValueError, match='num_terms must be >= 1'):
        taylor_window(0)
    with pytest.raises(TypeError):
        taylor_window(2.0)
    with pytest.raises(ValueError, match='scale'):
        compute_taylor(random_gray(0, (6, 4, 4)), 3, scale=(1, 2))
    with pytest.raises(ValueError, match='scale'):
        compute_taylor(random_gray(0, (6, 4, 4)), 3, scale=-1)
    with pytest.raises(TypeError, match='uint8 or float'):
        compute_taylor(np.zeros((6, 4, 4), np.int32), 3)
    with pytest.raises(ValueError, match='out must be'):
        compute_taylor(
            random_gray(0, (6, 4, 4)), 3, out=np.empty((1, 4, 4, 3), np.uint8))


def test_to_gray_orders_and_pad_frames():
    rgb = np.random.default_rng(0).integers(0, 256, (3, 5, 4, 3), np.uint8)
    gray = to_gray(list(rgb))
    np.testing.assert_array_equal(gray[1],
                                  cv2.cvtColor(rgb[1], cv2.COLOR_RGB2GRAY))
    np.testing.assert_array_equal(to_gray(rgb[..., ::-1].copy(), 'bgr'), gray)
    assert to_gray(gray) is gray
    padded = pad_frames(gray, 5)
    assert len(padded) == 5 and (padded[3:] == gray[-1]).all()
    assert pad_frames(gray, 2) is gray
    with pytest.raises(ValueError, match='shape'):
        to_gray([rgb[0], rgb[0, :4]])


# -------------------------------------------------------------- transforms --
def rgb_clip(num_frames, seed=0):
    gray = smooth_motion(num_frames)
    tint = np.random.default_rng(seed).integers(0, 3, (1, 1, 1, 3))
    return list(np.clip(gray[..., None] + tint, 0, 255).astype(np.uint8))


def taylor_of(frames, num_terms=3):
    return compute_taylor(
        to_gray(frames), num_terms, scale=DEFAULT_TAYLOR_SCALE)


def test_transform_replaces_frames_and_updates_clip_len():
    frames = rgb_clip(16)
    results = dict(imgs=frames, clip_len=8, num_clips=2, img_shape=(16, 20))
    out = TaylorVideo()(results)
    assert out['clip_len'] == 3 and len(out['imgs']) == 6
    assert out['imgs'][0].shape == (16, 20, 3)
    assert out['imgs'][0].dtype == np.uint8
    # Clips are computed apart: no window spans two clips.
    expected = np.concatenate([taylor_of(frames[:8]), taylor_of(frames[8:])])
    np.testing.assert_array_equal(np.stack(out['imgs']), expected)


def test_transform_keep_length_pads_each_clip():
    frames = rgb_clip(16)
    out = TaylorVideo(keep_length=True)(
        dict(imgs=frames, clip_len=8, num_clips=2))
    assert out['clip_len'] == 8 and len(out['imgs']) == 16
    np.testing.assert_array_equal(
        np.stack(out['imgs'][:8]),
        compute_taylor(
            pad_frames(to_gray(frames[:8]), 13), 3, DEFAULT_TAYLOR_SCALE))


def test_transform_short_clips_repeat_or_raise():
    frames = rgb_clip(4)
    out = TaylorVideo()(dict(imgs=frames, clip_len=4, num_clips=1))
    assert out['clip_len'] == 1
    np.testing.assert_array_equal(
        out['imgs'][0],
        compute_taylor(
            pad_frames(to_gray(frames), 6), 3, DEFAULT_TAYLOR_SCALE)[0])
    with pytest.raises(ValueError, match=r'clip7\.mp4: a clip of 4 frames'):
        TaylorVideo(short_clip='error')(
            dict(imgs=frames, clip_len=4, num_clips=1, filename='clip7.mp4'))


def test_transform_bgr_input_and_registry():
    frames = rgb_clip(8)
    rgb = TaylorVideo()(dict(imgs=frames, clip_len=8, num_clips=1))
    bgr = TRANSFORMS.build(dict(type='TaylorVideo', channel_order='bgr'))(
        dict(imgs=[f[..., ::-1] for f in frames], clip_len=8, num_clips=1))
    np.testing.assert_array_equal(np.stack(rgb['imgs']), np.stack(bgr['imgs']))
    assert 'num_terms=3' in repr(TaylorVideo())
    with pytest.raises(ValueError, match='short_clip'):
        TaylorVideo(short_clip='drop')
    with pytest.raises(ValueError, match='channel_order'):
        TaylorVideo(channel_order='yuv')


def test_expand_windows_merges_runs_and_clips_at_the_end():
    expand = ExpandTaylorWindows(num_terms=3)
    results = expand(
        dict(
            frame_inds=np.array([10, 12, 14, 30, 37]),
            total_frames=30,
            start_index=10))
    # Windows 10-15, 12-17, 14-19 merge; 30-35 alone; 37-42 clipped to 39.
    assert results['taylor_runs'].tolist() == [[0, 10], [10, 6], [16, 6]]
    assert results['frame_inds'].tolist() == (
        list(range(10, 20)) + list(range(30, 36)) + [37, 38, 39, 39, 39, 39])
    assert results['taylor_index'].tolist() == [[0, 0], [0, 2], [0, 4], [1, 0],
                                                [2, 0]]
    assert results['taylor_window'] == 6


def test_windows_give_one_taylor_frame_per_sampled_index():
    video = rgb_clip(30, seed=3)  # frames 0..29 of a "video"
    # Two clips of 4, frame_interval 3, the second near the end, unsorted.
    sampled = np.array([20, 23, 26, 29, 0, 3, 6, 9])
    results = ExpandTaylorWindows()(
        dict(
            frame_inds=sampled.copy(),
            total_frames=30,
            start_index=0,
            clip_len=4,
            num_clips=2))
    results['imgs'] = [video[i] for i in results['frame_inds']]  # decode
    out = TaylorVideo()(results)
    assert out['clip_len'] == 4 and len(out['imgs']) == 8
    full = taylor_of(pad_frames(np.stack(video), 35))
    for img, index in zip(out['imgs'], sampled):
        np.testing.assert_array_equal(img, full[index])


def test_repeated_indices_get_separate_frames():
    # A short segment: the sampler repeats indices; Flip works in place.
    results = ExpandTaylorWindows()(
        dict(
            frame_inds=np.array([0, 1, 1, 2]),
            total_frames=3,
            clip_len=4,
            num_clips=1))
    results['imgs'] = [rgb_clip(3)[i] for i in results['frame_inds']]
    results['img_shape'] = results['imgs'][0].shape[:2]
    results['modality'] = 'RGB'
    out = TaylorVideo()(results)
    before = [img.copy() for img in out['imgs']]
    out = TRANSFORMS.build(dict(type='Flip', flip_ratio=1.0))(out)
    for img, orig in zip(out['imgs'], before):
        np.testing.assert_array_equal(img, orig[:, ::-1])


def test_windows_must_match_the_transform():
    results = ExpandTaylorWindows(num_terms=2)(
        dict(frame_inds=np.array([0]), total_frames=10))
    results['imgs'] = rgb_clip(5)
    with pytest.raises(ValueError, match='windows of 5 frames'):
        TaylorVideo(num_terms=3)(results)


def test_pipeline_from_a_video_file(tmp_path):
    path = str(tmp_path / 'clip.mp4')
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'mp4v'), 25,
                             (32, 24))
    for t in range(20):
        frame = np.full((24, 32, 3), 60, np.uint8)
        cv2.circle(frame, (6 + t, 12), 5, (40, 160, 220), -1)
        writer.write(frame)
    writer.release()
    pipeline = Compose([
        TRANSFORMS.build(cfg) for cfg in [
            dict(type='DecordInit'),
            dict(
                type='SampleFrames',
                clip_len=4,
                frame_interval=2,
                num_clips=2,
                test_mode=True),
            dict(type='ExpandTaylorWindows'),
            dict(type='DecordDecode'),
            dict(type='TaylorVideo'),
            dict(type='Resize', scale=(16, 16), keep_ratio=False),
            dict(type='FormatShape', input_format='NCTHW'),
            dict(type='PackActionInputs'),
        ]
    ])
    packed = pipeline(
        dict(filename=path, label=0, start_index=0, modality='RGB'))
    inputs = packed['inputs'].numpy()
    assert inputs.shape == (2, 3, 4, 16, 16)
    # Motion shows up around the mid grey of "no change".
    assert inputs.min() < 128 < inputs.max()
