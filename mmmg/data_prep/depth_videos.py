"""Depth videos: monocular depth of every frame, as 8-bit video.

The model is any ``transformers`` depth-estimation checkpoint in a local
folder (``AutoModelForDepthEstimation`` and ``AutoImageProcessor`` loaded
with ``local_files_only``), e.g. a downloaded Depth Anything; nothing is
fetched from the Hub. The image processor from that folder resizes and
normalises the frames; predictions are resized back to the frame size
(bicubic). Inference runs in batches on ``device``.

Normalisation to 8 bits, ``v = round(255 * clip((d - lo) / (hi - lo), 0,
1))`` where ``d`` is the raw model output:

- ``'video'`` (default): ``lo, hi`` are the 1st and 99th percentiles
  (``percentiles``) of the outputs on up to ``range_samples`` evenly spaced
  frames of the video, estimated before the frames are streamed, so one
  video shares one scale and never needs to be held in memory. Outliers
  saturate.
- ``'frame'``: each frame's own minimum and maximum (uses the full range,
  but the scale flickers over time).
- ``'fixed'``: ``lo, hi = depth_range`` for every video (comparable values
  across videos; pick the range from the model's typical outputs).

Brighter means a larger model output: nearer for relative-disparity models
such as Depth Anything, farther for metric-depth models. Output frames are
the grey value replicated to R, G and B, or an OpenCV colour map
(``colormap``, e.g. ``'inferno'``) whose colours follow the same value.
Frames may be downscaled first (``scale``); the depth video has the same
number of frames as its input.
"""
import os.path as osp
from dataclasses import dataclass
from typing import Optional, Tuple

import cv2
import numpy as np

from mmmg.utils.lazy_model import LazyModel
from .video_jobs import (DEFAULT_CHUNK_SIZE, FrameCallback, FrameWriter,
                         VideoStream, resize_frames, scaled_size)

NORMALIZATIONS = ('video', 'frame', 'fixed')
TRANSFORMERS_PIN = 'transformers==5.23.0'


def colormap_code(name: Optional[str]) -> Optional[int]:
    """OpenCV's code of a colour map name (``'inferno'``), or None."""
    if name is None:
        return None
    code = getattr(cv2, f'COLORMAP_{name.upper()}', None)
    if code is None:
        names = sorted(n[len('COLORMAP_'):].lower() for n in dir(cv2)
                       if n.startswith('COLORMAP_'))
        raise ValueError(f'unknown colour map {name!r}; OpenCV has {names}')
    return code


def depth_to_uint8(depth: np.ndarray, lo, hi) -> np.ndarray:
    """Map depth to ``uint8`` with ``lo -> 0`` and ``hi -> 255`` (clipped).

    ``lo`` and ``hi`` are scalars or arrays broadcasting against ``depth``;
    where ``hi <= lo`` (a constant image) the output is 0.
    """
    lo = np.asarray(lo, np.float32)
    span = np.asarray(hi, np.float32) - lo
    safe = np.where(span > 0, span, 1)
    unit = np.where(span > 0, (depth - lo) / safe, 0)
    return np.rint(255 * np.clip(unit, 0, 1)).astype(np.uint8)


class DepthEstimator:
    """A local ``transformers`` depth model applied to RGB frames.

    Args:
        model_path (str): Folder saved with ``save_pretrained`` holding the
            model and its image processor config.
        device (str): Torch device.
        batch_size (int): Frames per forward pass.

    Raises:
        FileNotFoundError: ``model_path`` is not a folder.
        ImportError: ``transformers`` is not installed.
        ValueError: The folder holds no loadable depth model.
    """

    def __init__(self,
                 model_path: str,
                 device: str = 'cpu',
                 batch_size: int = 4) -> None:
        if not osp.isdir(model_path):
            raise FileNotFoundError(
                f'depth model folder {model_path} does not exist; give a '
                'local checkpoint folder (nothing is downloaded)')
        try:
            import torch
            import transformers
            from transformers import (AutoImageProcessor,
                                      AutoModelForDepthEstimation)
        except ImportError as e:
            raise ImportError(f'depth videos need transformers '
                              f'({TRANSFORMERS_PIN}): {e}')
        transformers.utils.logging.disable_progress_bar()
        try:
            self.processor = AutoImageProcessor.from_pretrained(
                model_path, local_files_only=True)
            model = AutoModelForDepthEstimation.from_pretrained(
                model_path, local_files_only=True)
        except (OSError, ValueError, KeyError) as e:
            raise ValueError(f'cannot load a depth model and image processor '
                             f'from {model_path}: {e}')
        self.torch = torch
        self.device = torch.device(device)
        self.model = model.to(self.device).eval()
        self.batch_size = batch_size

    def __call__(self, frames: np.ndarray) -> np.ndarray:
        """Depth of ``(n, H, W, 3)`` RGB frames as ``float32 (n, H, W)``."""
        torch = self.torch
        height, width = frames.shape[1:3]
        out = []
        with torch.inference_mode():
            for i in range(0, len(frames), self.batch_size):
                inputs = self.processor(
                    images=list(frames[i:i + self.batch_size]),
                    return_tensors='pt')
                pixels = inputs['pixel_values'].to(self.device)
                depth = self.model(pixel_values=pixels).predicted_depth
                depth = torch.nn.functional.interpolate(
                    depth[:, None].float(),
                    size=(height, width),
                    mode='bicubic',
                    align_corners=False)[:, 0]
                out.append(depth.cpu().numpy())
        return np.concatenate(out)


@dataclass
class DepthVideoConverter(LazyModel):
    """Per-video function writing the depth video of a video.

    An instance is a :data:`mmmg.data_prep.video_jobs.VideoFunction`; the
    model is loaded on first use in each process and dropped when pickled.

    Args:
        model_path (str): Local checkpoint folder.
        device (str): Torch device.
        batch_size (int): Frames per forward pass.
        normalize (str): One of :data:`NORMALIZATIONS`.
        depth_range (tuple, optional): ``(lo, hi)`` for ``'fixed'``.
        percentiles (tuple): Percentiles giving ``(lo, hi)`` for
            ``'video'``.
        range_samples (int): Frames sampled for ``'video'``.
        colormap (str, optional): OpenCV colour map name; grey if None.
        scale (float): Resize factor in ``(0, 1]`` applied first.
        chunk_size (int): Frames decoded at a time.
        fourcc (str): Output codec.
    """
    model_path: str
    device: str = 'cpu'
    batch_size: int = 4
    normalize: str = 'video'
    depth_range: Optional[Tuple[float, float]] = None
    percentiles: Tuple[float, float] = (1.0, 99.0)
    range_samples: int = 16
    colormap: Optional[str] = None
    scale: float = 1.0
    chunk_size: int = DEFAULT_CHUNK_SIZE
    fourcc: str = 'mp4v'

    def __post_init__(self) -> None:
        if self.normalize not in NORMALIZATIONS:
            raise ValueError(f'unknown normalisation {self.normalize!r}; '
                             f'expected one of {NORMALIZATIONS}')
        if self.normalize == 'fixed':
            if self.depth_range is None or len(self.depth_range) != 2 or \
                    not self.depth_range[0] < self.depth_range[1]:
                raise ValueError('fixed normalisation needs depth_range = '
                                 f'(lo, hi) with lo < hi, got '
                                 f'{self.depth_range}')
        lo_pct, hi_pct = self.percentiles
        if not 0 <= lo_pct < hi_pct <= 100:
            raise ValueError(f'percentiles must satisfy 0 <= lo < hi <= 100, '
                             f'got {self.percentiles}')
        if self.range_samples < 1 or self.batch_size < 1 or \
                self.chunk_size < 1:
            raise ValueError('range_samples, batch_size and chunk_size must '
                             'be >= 1')
        if not 0 < self.scale <= 1:
            raise ValueError(f'scale must be in (0, 1], got {self.scale}')
        self._colormap = colormap_code(self.colormap)

    # Worker processes are spawned: forked children of a process that ran
    # torch can hang in OpenMP, and cannot use CUDA.
    start_method = 'spawn'

    def build_model(self) -> 'DepthEstimator':
        return DepthEstimator(self.model_path, self.device, self.batch_size)

    def _video_range(self, video: VideoStream, size) -> Tuple[float, float]:
        count = min(self.range_samples, video.num_frames)
        indices = np.unique(
            np.linspace(0, video.num_frames - 1, count).round().astype(int))
        depth = []
        for i in range(0, len(indices), self.chunk_size):
            frames = video.read(indices[i:i + self.chunk_size].tolist())
            depth.append(self._model(resize_frames(frames, size)))
        lo, hi = np.percentile(np.concatenate(depth), self.percentiles)
        return float(lo), float(hi)

    def _to_rgb(self, depth: np.ndarray, value_range) -> np.ndarray:
        if value_range is None:  # per frame
            lo = depth.min(axis=(1, 2), keepdims=True)
            hi = depth.max(axis=(1, 2), keepdims=True)
        else:
            lo, hi = value_range
        grey = depth_to_uint8(depth, lo, hi)
        if self._colormap is None:
            return np.repeat(grey[..., None], 3, axis=-1)
        return np.stack([
            cv2.cvtColor(
                cv2.applyColorMap(g, self._colormap), cv2.COLOR_BGR2RGB)
            for g in grey
        ])

    def __call__(self,
                 src: str,
                 dst: str,
                 on_frames: FrameCallback = lambda n: None) -> int:
        """Write the depth video of ``src`` to ``dst``.

        Returns:
            int: Frames written.

        Raises:
            VideoReadError: ``src`` cannot be read.
        """
        self.load()
        with VideoStream(src) as video:
            size = (video.width, video.height)
            if self.scale < 1:
                size = scaled_size(video.width, video.height, self.scale)
            value_range = None
            if self.normalize == 'video':
                value_range = self._video_range(video, size)
            elif self.normalize == 'fixed':
                value_range = tuple(self.depth_range)
            with FrameWriter(dst, video.fps, self.fourcc) as writer:
                for chunk in video.chunks(self.chunk_size):
                    depth = self._model(resize_frames(chunk, size))
                    writer.write(self._to_rgb(depth, value_range))
                    on_frames(len(chunk))
        return writer.frames
