"""Taylor videos (Wang et al., "Taylor Videos for Action Recognition",
ICML 2024).

A Taylor frame summarises the motion in a window of ``L = K + 3``
consecutive grayscale frames ``I_0 .. I_{L-1}`` (values in [0, 1]); the
window slides by one frame, so ``N`` frames give ``N - L + 1`` Taylor frames,
the ``t``-th one from frames ``t .. t + L - 1``. With ``D_k`` the ``k``-th
forward difference at the window start (``D_1 = I_1 - I_0``,
``D_2 = I_2 - 2 I_1 + I_0``, ...) and

    S_n = sum_{j=0}^{L-1} (I_j - I_0)^n / n!     (so S_0 = L),

channel ``c`` (0, 1, 2: displacement, velocity and acceleration terms) is

    T_c = sum_{n=0}^{K-1} S_n * D_{n+1+c}.

Static pixels give 0; the sign is the direction of the brightness change.
``K = 3`` by default: 6-frame windows (0.24 s at 25 fps) fit short
micro-gestures and cost least (the authors' example notebook uses 5).

8-bit mapping (the "Taylor frame" stored or fed to a network)::

    pixel_c = saturate_uint8(round(offset + scale_c * T_c)),  offset = 128

rounded to nearest (ties to even), with a fixed, global per-channel
``scale`` (:data:`DEFAULT_TAYLOR_SCALE`), not a per-clip one: a pixel value
then means the same motion in every video and every clip, so converted
datasets are comparable, a still clip stays mid grey instead of having its
noise stretched to full contrast, and the on-the-fly transform equals the
offline converter. The scale was set on real footage (see the constant) so
that typical motion spans several grey levels and few pixels saturate;
:func:`dequantize_taylor` inverts it.

Speed. :func:`compute_taylor` is the one implementation of the formula, used
by :class:`TaylorVideo` and by the dataset converter
(``mmmg/data_prep/taylor_videos.py``). It works in 8-bit units
(``x = 255 I``, where window sums of ``x`` and ``x^2`` are exact in
float32), on spatial bands of all frames at once so the working set stays in
cache, and never loops over windows in Python:

- ``D_k`` for all window starts: repeated first differences along time;
- ``S_n`` from sliding window sums of powers, ``P_m(t) = sum_j x_{t+j}^m``
  (built by doubling: 3 adds for ``L = 6``), expanded binomially,
  ``n! S_n = sum_m C(n, m) (-x_t)^(n-m) P_m(t)`` and evaluated by Horner's
  rule in ``x_t``;
- products accumulated with fused OpenCV kernels; the 8-bit mapping, rounding
  and saturation in one ``cv2.addWeighted`` call.

Every Taylor frame depends only on its own window (no running sums across
windows), so computing a long video chunk by chunk gives the same frames as
computing it at once.
"""
import math
from concurrent.futures import ThreadPoolExecutor
from typing import Dict, List, Optional, Sequence, Tuple, Union

import cv2
import numpy as np
from mmaction.registry import TRANSFORMS
from mmcv.transforms import BaseTransform

from .transform_repr import transform_repr

DEFAULT_NUM_TERMS = 3
# Per-channel scale of the 8-bit mapping, set on real footage at 24-30 fps
# with K = 3 (five 640x336 face videos, a 1280x720 hand video, a 320x240
# HMDB clip): |T_c| has a standard deviation of ~0.13 / 0.17 / 0.30 on the
# faces (0.5 / 0.8 / 1.5 on the hand video) and compression noise of
# ~0.05-0.1. These scales put one standard deviation of the face videos at
# ~4 grey levels in every channel (the higher channels are larger, as
# higher-order differences amplify change), the noise at 1.5-3 levels, and
# saturate 0.004-0.24% of the face pixels (0.8% for the fast hand motion).
DEFAULT_TAYLOR_SCALE = (32.0, 22.0, 13.0)
DEFAULT_OFFSET = 128.0
# Elements (frames x pixels) per band buffer: the ~20 buffers of a band
# stay in cache, each operation still amortises its call overhead.
BAND_ELEMENTS = 150_000
SHORT_CLIP_MODES = ('repeat', 'error')

Scale = Union[float, Sequence[float]]


def taylor_window(num_terms: int) -> int:
    """Frames ``L = K + 3`` of one Taylor window for ``K`` terms."""
    if isinstance(num_terms, bool) or not isinstance(num_terms,
                                                     (int, np.integer)):
        raise TypeError(f'num_terms must be an int, got {num_terms!r}')
    if num_terms < 1:
        raise ValueError(f'num_terms must be >= 1, got {num_terms}')
    return int(num_terms) + 3


def parse_scale(scale: Scale) -> Tuple[float, float, float]:
    """Per-channel scales from one number or three (positive, finite)."""
    values = (scale, ) * 3 if np.isscalar(scale) else tuple(scale)
    if len(values) != 3:
        raise ValueError(f'scale must be a number or 3 numbers, got {scale}')
    values = tuple(float(v) for v in values)
    if not all(math.isfinite(v) and v > 0 for v in values):
        raise ValueError(f'scale must be positive and finite, got {scale}')
    return values


def to_gray(frames: Union[np.ndarray, Sequence[np.ndarray]],
            channel_order: str = 'rgb',
            out: Optional[np.ndarray] = None) -> np.ndarray:
    """Stack frames into grayscale ``[N, H, W]``.

    Args:
        frames: ``N`` colour frames ``[H, W, 3]`` (a list or one array), or
            already gray frames ``[H, W]``/``[N, H, W]`` (returned stacked).
            uint8 frames stay uint8 (0..255); float gray frames must be in
            [0, 1].
        channel_order (str): ``'rgb'`` (decord, MMAction2 pipelines) or
            ``'bgr'`` (OpenCV). Defaults to ``'rgb'``.
        out (np.ndarray, optional): ``[N, H, W]`` array to write colour
            frames' gray levels into.

    Returns:
        np.ndarray: ``[N, H, W]`` gray frames, ITU-R BT.601 luma (OpenCV's
        fixed-point conversion, rounded).
    """
    if channel_order not in ('rgb', 'bgr'):
        raise ValueError(
            f"channel_order must be 'rgb' or 'bgr', got {channel_order!r}")
    if isinstance(frames, np.ndarray):
        if frames.ndim == 3:
            return frames
        if frames.ndim == 4 and frames.shape[-1] == 1:
            return frames[..., 0]
        first, num = (frames[0] if len(frames) else None), len(frames)
    else:
        frames = list(frames)
        first, num = (frames[0] if frames else None), len(frames)
    if first is None:
        raise ValueError('no frames')
    first = np.asarray(first)
    if first.ndim == 2:
        return np.stack(frames)
    if first.ndim != 3 or first.shape[-1] != 3:
        raise ValueError('expected colour frames [H, W, 3] or gray frames '
                         f'[H, W], got a frame of shape {first.shape}')
    code = (
        cv2.COLOR_RGB2GRAY if channel_order == 'rgb' else cv2.COLOR_BGR2GRAY)
    shape = (num, ) + first.shape[:2]
    if out is None:
        gray = np.empty(shape, dtype=first.dtype)
    elif out.shape != shape or out.dtype != first.dtype:
        raise ValueError(f'out must be a {first.dtype} array of shape '
                         f'{shape}, got {out.dtype} {out.shape}')
    else:
        gray = out
    for i in range(num):
        frame = frames[i]
        if frame.shape != first.shape:
            raise ValueError(f'frame {i} has shape {frame.shape}, frame 0 '
                             f'has {first.shape}')
        cv2.cvtColor(frame, code, dst=gray[i])
    return gray


def pad_frames(frames: np.ndarray, min_frames: int) -> np.ndarray:
    """Repeat the last frame until there are at least ``min_frames``.

    A repeated frame is static, so the windows reaching into the padding see
    motion that stops at the last real frame.
    """
    short = min_frames - len(frames)
    if short <= 0:
        return frames
    if len(frames) == 0:
        raise ValueError('cannot pad an empty clip')
    return np.concatenate([frames, np.repeat(frames[-1:], short, axis=0)])


class _Plan:
    """Constants of the formula in 8-bit units, for one call."""

    def __init__(self, num_terms: int, unit: float,
                 scales: Tuple[float, float, float], offset: float) -> None:
        self.K = num_terms
        self.L = taylor_window(num_terms)
        self.offset = offset
        # Work in x = unit * I. T_hat_n = w_n * n! S_n(x) with
        # w_n = unit^(1-n) / n! keeps every product term at the same weight
        # 1/unit^2 in the channel sum (see compute_taylor).
        self.horner = {}
        for n in range(1, num_terms):
            w = unit**(1 - n) / math.factorial(n)
            coef = [w * math.comb(n, m) * (-1)**(n - m) for m in range(n + 1)]
            coef[0] *= self.L  # P_0 = L
            self.horner[n] = coef
        # channel c = offset + s_c * (L/unit * D_{1+c} + acc_c / unit^2)
        self.w_diff = [s * self.L / unit for s in scales]
        self.w_acc = [s / unit**2 for s in scales]


class _Workspace:
    """Reusable flat float32 buffers, viewed as contiguous [rows, B]."""

    def __init__(self, band_pixels: int) -> None:
        self.band_pixels = band_pixels
        self._bufs: Dict[str, np.ndarray] = {}

    def get(self,
            name: str,
            rows: int,
            width: int,
            dtype=np.float32) -> np.ndarray:
        size = rows * self.band_pixels
        buf = self._bufs.get(name)
        if buf is None or buf.size < size or buf.dtype != dtype:
            buf = self._bufs[name] = np.empty(size, dtype)
        return buf[:rows * width].reshape(rows, width)


def _window_sum(src: np.ndarray,
                length: int,
                ws: _Workspace,
                out: np.ndarray,
                weight: float = 1.0) -> np.ndarray:
    """``out[t] = weight * sum_{j<length} src[t + j]`` (``length >= 2``) by
    doubling: sums of 2, 4, 8.. rows, then the binary digits of ``length``
    added up. Each output row only depends on its own window, summed in a
    fixed order."""
    rows, width = src.shape
    num = rows - length + 1
    top = length.bit_length() - 1
    # Rows needed of each level: what the next level and the final sum use.
    parts, pos = [], 1 << top
    for i in range(top - 1, -1, -1):
        if length >> i & 1:
            parts.append((i, pos))
            pos += 1 << i
    need = [0] * (top + 1)
    need[top] = num
    for i, start in parts:
        need[i] = max(need[i], start + num)
    for i in range(top, 0, -1):
        need[i - 1] = max(need[i - 1], need[i] + (1 << (i - 1)))
    levels = [src]
    for i in range(1, top + 1):
        half = 1 << (i - 1)
        a, b = levels[-1][:need[i]], levels[-1][half:half + need[i]]
        if i == top and not parts:  # length is a power of two: done
            cv2.addWeighted(a, weight, b, weight, 0.0, dst=out)
            return out
        level = ws.get(f'lvl{i}', need[i], width)
        np.add(a, b, out=level)
        levels.append(level)
    for k, (i, start) in enumerate(parts):
        acc = levels[top][:num] if k == 0 else out
        part = levels[i][start:start + num]
        if k == len(parts) - 1 and weight != 1.0:
            # The weight rides on the last addition.
            cv2.addWeighted(acc, weight, part, weight, 0.0, dst=out)
        else:
            np.add(acc, part, out=out)
    return out


def _taylor_band(gray: np.ndarray, dst: np.ndarray, plan: _Plan,
                 ws: _Workspace, order: Sequence[int]) -> None:
    """Taylor frames of one band: ``gray [N, B]`` -> ``dst [M, B, 3]``."""
    num, width = gray.shape
    x = ws.get('x', num, width)
    np.copyto(x, gray, casting='unsafe')

    # D[k] = k-th forward difference for every window start (N - k rows).
    diffs = [x]
    for k in range(1, plan.K + 3):
        prev = diffs[-1]
        d = ws.get(f'd{k}', num - k, width)
        np.subtract(prev[1:], prev[:-1], out=d)
        diffs.append(d)
    _write_channels(diffs, _horner_terms(x, plan, ws), dst, plan, ws, order)


def _horner_terms(x: np.ndarray, plan: _Plan,
                  ws: _Workspace) -> List[Optional[np.ndarray]]:
    """``T_hat[n]`` (``n = 1 .. K-1``; index 0 unused) for every window
    start of the band ``x`` (8-bit units)."""
    K, L = plan.K, plan.L
    num, width = x.shape
    out_rows = num - L + 1
    # P[m] = w_m * window sums of x^m, m = 1 .. K-1, where w_m is the last
    # Horner coefficient of T_hat_m (1 for m = 1), so that step is fused.
    sums = [None]
    power = x
    for m in range(1, K):
        if m > 1:
            nxt = ws.get(f'pow{m % 2}', num, width)
            np.multiply(power, x, out=nxt)
            power = nxt
        sums.append(
            _window_sum(power, L, ws, ws.get(f'P{m}', out_rows, width),
                        plan.horner[m][m]))

    x0 = x[:out_rows]
    # T_hat[n] = sum_m a_nm x_t^(n-m) P_m(t) by Horner's rule in x_t, from
    # the highest n down: the last step adds onto (and consumes) P[n],
    # which lower n no longer need.
    terms = [None] * K
    for n in range(K - 1, 0, -1):
        coef = plan.horner[n]
        # coefficients relative to the weights already in P[m]
        rel = [coef[m] / plan.horner[m][m] for m in range(1, n + 1)]
        h = ws.get('T1' if n == 1 else 'horner', out_rows, width)
        cv2.addWeighted(x0, coef[0], sums[1], rel[0], 0.0, dst=h)
        if n == 1:
            terms[1] = h
            continue
        for m in range(2, n):
            np.multiply(h, x0, out=h)
            cv2.scaleAdd(sums[m], rel[m - 1], h, dst=h)
        cv2.accumulateProduct(h, x0, sums[n])
        terms[n] = sums[n]
    return terms


def _write_channels(diffs: List[np.ndarray], terms: List[Optional[np.ndarray]],
                    dst: np.ndarray, plan: _Plan, ws: _Workspace,
                    order: Sequence[int]) -> None:
    """Sum the channels ``T_c`` from the differences and the Horner terms
    and write them, mapped to 8 bits for a uint8 ``dst``, in ``order``."""
    out_rows, width = dst.shape[:2]
    quantize = dst.dtype == np.uint8
    depth = cv2.CV_8U if quantize else cv2.CV_32F
    acc = ws.get('acc', out_rows, width)
    planes = []
    for c in range(3):
        plane = ws.get(f'c{c}', out_rows, width, dst.dtype)
        lead = diffs[1 + c][:out_rows]
        if plan.K == 1:
            cv2.addWeighted(
                lead,
                plan.w_diff[c],
                lead,
                0.0,
                plan.offset,
                dst=plane,
                dtype=depth)
        else:
            cv2.multiply(terms[1], diffs[2 + c][:out_rows], dst=acc)
            for n in range(2, plan.K):
                cv2.accumulateProduct(terms[n], diffs[n + 1 + c][:out_rows],
                                      acc)
            # One pass: weights, offset, rounding, saturation, dtype.
            cv2.addWeighted(
                lead,
                plan.w_diff[c],
                acc,
                plan.w_acc[c],
                plan.offset,
                dst=plane,
                dtype=depth)
        planes.append(plane)
    cv2.merge([planes[i] for i in order], dst=dst)


def compute_taylor(gray: np.ndarray,
                   num_terms: int = DEFAULT_NUM_TERMS,
                   scale: Optional[Scale] = None,
                   offset: float = DEFAULT_OFFSET,
                   *,
                   out: Optional[np.ndarray] = None,
                   out_order: str = 'rgb',
                   band_pixels: Optional[int] = None,
                   num_threads: int = 1) -> np.ndarray:
    """Taylor frames of consecutive grayscale frames.

    Args:
        gray (np.ndarray): ``[N, H, W]`` consecutive frames, uint8 (read as
            ``I = gray / 255``) or float in [0, 1]; ``N >= K + 3``.
        num_terms (int): Taylor terms ``K``. Defaults to 3.
        scale (float | Sequence[float], optional): None returns the signed
            Taylor values as float32; otherwise the per-channel scale of the
            8-bit mapping ``round(offset + scale_c * T_c)`` saturated to
            uint8 (see :data:`DEFAULT_TAYLOR_SCALE`).
        offset (float): Grey level of "no motion" in the 8-bit mapping.
            Defaults to 128.
        out (np.ndarray, optional): C-contiguous ``[N - L + 1, H, W, 3]``
            array to write into (float32, or uint8 with ``scale``).
        out_order (str): ``'rgb'`` puts channel 0 first (as decord and
            MMAction2 pipelines read it), ``'bgr'`` last (for
            ``cv2.VideoWriter``, so that the written video decodes to
            ``'rgb'`` order). Defaults to ``'rgb'``.
        band_pixels (int, optional): Pixels per processing band, by default
            the power of two nearest ``BAND_ELEMENTS / N`` (a speed knob;
            the result does not depend on it).
        num_threads (int): Threads working on separate bands. Defaults to 1
            (data loaders already run one process per worker).

    Returns:
        np.ndarray: ``[N - L + 1, H, W, 3]``, frame ``t`` from input frames
        ``t .. t + L - 1``.
    """
    L = taylor_window(num_terms)
    gray = np.asarray(gray)
    if gray.ndim != 3:
        raise ValueError(f'expected gray frames [N, H, W], got {gray.shape}')
    num, height, width = gray.shape
    if num < L:
        raise ValueError(f'{num} frames are fewer than the {L} of one Taylor '
                         f'window (K={num_terms} terms)')
    if gray.dtype == np.uint8:
        unit = 255.0
    elif np.issubdtype(gray.dtype, np.floating):
        unit = 1.0
    else:
        raise TypeError(f'gray frames must be uint8 or float, got '
                        f'{gray.dtype}')
    if out_order not in ('rgb', 'bgr'):
        raise ValueError(
            f"out_order must be 'rgb' or 'bgr', got {out_order!r}")
    if band_pixels is None:
        band_pixels = 1 << max(8, round(math.log2(BAND_ELEMENTS / num)))
    if band_pixels < 1 or num_threads < 1:
        raise ValueError('band_pixels and num_threads must be >= 1')
    quantize = scale is not None
    plan = _Plan(num_terms, unit,
                 parse_scale(scale) if quantize else (1.0, 1.0, 1.0),
                 float(offset) if quantize else 0.0)
    shape = (num - L + 1, height, width, 3)
    dtype = np.uint8 if quantize else np.float32
    if out is None:
        out = np.empty(shape, dtype)
    elif (out.shape != shape or out.dtype != dtype
          or not out.flags.c_contiguous):
        raise ValueError(f'out must be a C-contiguous {np.dtype(dtype)} '
                         f'array of shape {shape}, got {out.dtype} '
                         f'{out.shape}')

    pixels = height * width
    src = gray.reshape(num, pixels)
    dst = out.reshape(shape[0], pixels, 3)
    order = (0, 1, 2) if out_order == 'rgb' else (2, 1, 0)
    bands = [(p, min(p + band_pixels, pixels))
             for p in range(0, pixels, band_pixels)]

    def run(part):
        ws = _Workspace(min(band_pixels, pixels))
        for p0, p1 in part:
            _taylor_band(src[:, p0:p1], dst[:, p0:p1], plan, ws, order)

    num_threads = min(num_threads, len(bands))
    if num_threads == 1:
        run(bands)
    else:
        # Contiguous runs of bands per thread; numpy and OpenCV release the
        # GIL inside each operation.
        step = -(-len(bands) // num_threads)
        parts = [bands[i:i + step] for i in range(0, len(bands), step)]
        with ThreadPoolExecutor(num_threads) as pool:
            list(pool.map(run, parts))
    return out


def dequantize_taylor(imgs: np.ndarray,
                      scale: Scale = DEFAULT_TAYLOR_SCALE,
                      offset: float = DEFAULT_OFFSET) -> np.ndarray:
    """Approximate Taylor values back from 8-bit Taylor frames (the inverse
    of the mapping; saturated pixels stay at the clipping bound)."""
    scales = np.asarray(parse_scale(scale), np.float32)
    return (np.asarray(imgs, np.float32) - np.float32(offset)) / scales


def _sample_name(results: Dict) -> str:
    for key in ('filename', 'frame_dir', 'clip_id', 'video'):
        if results.get(key) is not None:
            return str(results[key])
    return '<unnamed sample>'


@TRANSFORMS.register_module()
class ExpandTaylorWindows(BaseTransform):
    """Make the sampler fetch the frames of each sampled Taylor window.

    Put it between a frame sampler (``SampleFrames``, ``UniformSample``, ...)
    and the decoder. Every sampled index ``f`` becomes the window
    ``f .. f + L - 1`` (``L = K + 3``); frames past the last frame
    (``start_index + total_frames - 1``, i.e. the end of the video or of the
    segment) repeat it. Overlapping windows (``frame_interval < L``) are
    merged into consecutive runs, so each frame is decoded once, and
    :class:`TaylorVideo` then gives exactly one Taylor frame per originally
    sampled index: ``clip_len`` and ``num_clips`` keep their meaning and the
    rest of the pipeline is unchanged.

    Required Keys:
        - frame_inds
        - total_frames
        - start_index (optional, default 0)

    Modified Keys:
        - frame_inds

    Added Keys:
        - taylor_runs: int64 ``[R, 2]`` ``(offset, length)`` of each run of
          consecutive frames in the new ``frame_inds``.
        - taylor_index: int64 ``[num sampled, 2]`` ``(run, position in the
          run)`` of each sampled window start, in sampling order.
        - taylor_window: ``L``.

    Args:
        num_terms (int): Taylor terms ``K``; must match :class:`TaylorVideo`.
            Defaults to 3.
    """

    def __init__(self, num_terms: int = DEFAULT_NUM_TERMS) -> None:
        self.num_terms = num_terms
        self.window = taylor_window(num_terms)

    def transform(self, results: Dict) -> Dict:
        starts = np.asarray(results['frame_inds']).reshape(-1).astype(np.int64)
        first = int(results.get('start_index', 0))
        last = first + int(results['total_frames']) - 1
        if last < first:
            raise ValueError(f'{_sample_name(results)}: total_frames is '
                             f'{results["total_frames"]}')
        order = np.unique(starts)
        # Merge windows [f, f + L - 1] that overlap or touch into runs.
        run_lo, run_hi = [], []
        for f in order:
            if run_hi and f <= run_hi[-1] + 1:
                run_hi[-1] = f + self.window - 1
            else:
                run_lo.append(f)
                run_hi.append(f + self.window - 1)
        lengths = np.array(run_hi) - np.array(run_lo) + 1
        offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]])
        frame_inds = np.concatenate(
            [np.arange(lo, hi + 1) for lo, hi in zip(run_lo, run_hi)])
        results['frame_inds'] = np.clip(frame_inds, first, last)
        run_of = np.searchsorted(np.array(run_lo), starts, side='right') - 1
        results['taylor_index'] = np.stack(
            [run_of, starts - np.array(run_lo)[run_of]], axis=1)
        results['taylor_runs'] = np.stack([offsets, lengths], axis=1)
        results['taylor_window'] = self.window
        return results

    def __repr__(self) -> str:
        return transform_repr(self, 'num_terms')


@TRANSFORMS.register_module()
class TaylorVideo(BaseTransform):
    """Replace decoded RGB frames by 8-bit Taylor frames.

    Place it right after the decoder (``DecordDecode``); the output is a
    list of uint8 ``[H, W, 3]`` frames with Taylor channel ``c`` in colour
    channel ``c``, so ``Resize``, ``Normalize`` (e.g. ``mean=[128] * 3``),
    ``FormatShape`` etc. run unchanged. The pixels are exactly what
    ``data_prep/make_taylor_videos.py`` writes before video compression.

    Each Taylor frame needs ``L = K + 3`` consecutive frames, so a clip of
    ``clip_len`` Taylor frames needs ``clip_len + L - 1`` frames:

    - with :class:`ExpandTaylorWindows` after the sampler, any sampler works
      and every sampled index yields one Taylor frame (``clip_len`` stays);
    - without it, each of the ``num_clips`` decoded clips is taken as
      consecutive frames (``frame_interval=1``) and gives
      ``clip_len - L + 1`` Taylor frames (``clip_len`` is updated), or
      ``clip_len`` frames with ``keep_length=True``, which first repeats the
      clip's last frame ``L - 1`` times.

    A 1280x720 Taylor frame costs about 4-6 ms on one core
    (``benchmarks/bench_taylor.py``); a ``Resize`` before this transform
    makes it proportionally cheaper (not identical to resizing Taylor
    frames: the formula has products). Spatial augmentations, horizontal
    ``Flip`` included, apply to Taylor frames as to RGB frames (the
    channels are per-pixel temporal terms, with no spatial direction).

    Required Keys:
        - imgs
        - clip_len, num_clips (without ``taylor_runs``)
        - taylor_runs, taylor_index, taylor_window (optional, from
          :class:`ExpandTaylorWindows`)

    Modified Keys:
        - imgs
        - clip_len (without ``taylor_runs`` and ``keep_length``)

    Args:
        num_terms (int): Taylor terms ``K``. Defaults to 3.
        scale (float | Sequence[float]): Per-channel scale of the 8-bit
            mapping. Defaults to :data:`DEFAULT_TAYLOR_SCALE`.
        offset (float): Grey level of "no motion". Defaults to 128.
        channel_order (str): Colour order of ``imgs``, ``'rgb'`` (decord) or
            ``'bgr'``. Defaults to ``'rgb'``.
        keep_length (bool): Pad each clip as described above so it keeps
            ``clip_len`` frames. Defaults to False.
        short_clip (str): A clip with fewer than ``L`` frames:
            ``'repeat'`` pads it by repeating its last frame, ``'error'``
            raises ``ValueError`` naming the sample. Defaults to
            ``'repeat'``.
    """

    def __init__(self,
                 num_terms: int = DEFAULT_NUM_TERMS,
                 scale: Scale = DEFAULT_TAYLOR_SCALE,
                 offset: float = DEFAULT_OFFSET,
                 channel_order: str = 'rgb',
                 keep_length: bool = False,
                 short_clip: str = 'repeat') -> None:
        self.num_terms = num_terms
        self.window = taylor_window(num_terms)
        self.scale = parse_scale(scale)
        self.offset = float(offset)
        if channel_order not in ('rgb', 'bgr'):
            raise ValueError(f"channel_order must be 'rgb' or 'bgr', got "
                             f'{channel_order!r}')
        if short_clip not in SHORT_CLIP_MODES:
            raise ValueError(f'short_clip must be one of {SHORT_CLIP_MODES},'
                             f' got {short_clip!r}')
        self.channel_order = channel_order
        self.keep_length = keep_length
        self.short_clip = short_clip

    def _taylor(self, gray: np.ndarray) -> np.ndarray:
        return compute_taylor(gray, self.num_terms, self.scale, self.offset)

    def _clip(self, gray: np.ndarray, results: Dict) -> np.ndarray:
        if self.keep_length:
            gray = pad_frames(gray, len(gray) + self.window - 1)
        if len(gray) < self.window:
            if self.short_clip == 'error':
                raise ValueError(
                    f'{_sample_name(results)}: a clip of {len(gray)} frames '
                    f'is shorter than the Taylor window of {self.window} '
                    f'frames (num_terms={self.num_terms}); sample '
                    f'clip_len >= {self.window}, use keep_length=True or '
                    "short_clip='repeat'")
            gray = pad_frames(gray, self.window)
        return self._taylor(gray)

    def transform(self, results: Dict) -> Dict:
        imgs = results['imgs']
        if len(imgs) == 0:
            raise ValueError(f'{_sample_name(results)}: no frames decoded')
        gray = to_gray(imgs, self.channel_order)
        if 'taylor_runs' in results:
            if results.get('taylor_window') != self.window:
                raise ValueError(
                    f'{_sample_name(results)}: ExpandTaylorWindows made '
                    f'windows of {results.get("taylor_window")} frames but '
                    f'TaylorVideo(num_terms={self.num_terms}) needs '
                    f'{self.window}')
            runs = [
                self._taylor(gray[off:off + length])
                for off, length in results['taylor_runs']
            ]
            out, seen = [], set()
            for r, p in results['taylor_index']:
                img = runs[r][p]
                # Repeated indices get their own copy: later transforms
                # (Flip) work in place on each frame of the list.
                out.append(img.copy() if (r, p) in seen else img)
                seen.add((r, p))
        else:
            num_clips = int(results.get('num_clips', 1))
            if len(gray) % num_clips:
                raise ValueError(
                    f'{_sample_name(results)}: {len(gray)} frames do not '
                    f'split into num_clips={num_clips} clips')
            clip_len = len(gray) // num_clips
            out = []
            for i in range(num_clips):
                out.extend(
                    self._clip(gray[i * clip_len:(i + 1) * clip_len], results))
            results['clip_len'] = len(out) // num_clips
        results['imgs'] = out
        return results

    def __repr__(self) -> str:
        return transform_repr(self, 'num_terms', 'scale', 'offset',
                              'channel_order', 'keep_length', 'short_clip')
