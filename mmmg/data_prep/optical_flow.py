"""Optical-flow videos: dense flow between consecutive frames, as RGB.

Methods:

- ``'dis'`` (default): OpenCV's DIS flow on the CPU, with its
  ``ultrafast``/``fast``/``medium`` presets.
- ``'farneback'``: OpenCV's Farneback flow on the CPU (slower, smoother).
- ``'raft_small'`` / ``'raft_large'``: torchvision RAFT on ``device``. The
  weights come only from a local file (a ``state_dict``, optionally under a
  ``'state_dict'`` or ``'model'`` key): nothing is downloaded. Frames are
  padded (edge replication) to a multiple of 8 and at least 128 pixels, as
  RAFT needs, and the flow is cropped back.

Frames: a video of N frames gives N - 1 flow frames; flow frame ``t`` is the
motion from frame ``t`` to frame ``t + 1``. With ``pad_last`` the last flow
frame is repeated, so the flow video has N frames and the frame indices of
the RGB video (e.g. clip ``start``/``end``) apply to it unchanged. Frames may
be downscaled before the flow (``scale``); the flow video then has the
smaller size, and flow is measured in its pixels.

Encoding (:func:`encode_flow`, inverse :func:`decode_flow`), with ``b`` the
bound in pixels (default 20) and flow ``(x, y)`` positive to the right and
down::

    R = 128 + round(127 * clip(x, -b, b) / b)     # horizontal flow
    G = 128 + round(127 * clip(y, -b, b) / b)     # vertical flow
    B = round(255 * min(sqrt(x^2 + y^2), b) / b)  # flow magnitude

So no motion is ``(128, 128, 0)``, and R and G are the two-channel flow
images of MMAction2's flow models (``x`` and ``y`` quantised around 128, up
to the slightly different scale); B adds a direction-free motion-energy
channel for RGB backbones. Flow beyond the bound saturates. The video
codec is lossy: with OpenCV's mp4v writer (4:2:0 chroma) a decoded uniform
colour comes back up to ~3 levels off (no motion reads about (126, 126, 0),
a bias of ~0.3 px at bound 20) and sharp flow edges are smeared; fine for
recognition, not for measuring flow.
"""
import os.path as osp
from dataclasses import dataclass
from typing import Optional

import cv2
import numpy as np

from mmmg.utils.lazy_model import LazyModel
from .video_jobs import (DEFAULT_CHUNK_SIZE, FrameCallback, FrameWriter,
                         VideoReadError, VideoStream, resize_frames,
                         scaled_size)

FLOW_METHODS = ('dis', 'farneback', 'raft_small', 'raft_large')
DIS_PRESETS = {
    'ultrafast': cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST,
    'fast': cv2.DISOPTICAL_FLOW_PRESET_FAST,
    'medium': cv2.DISOPTICAL_FLOW_PRESET_MEDIUM,
}
DEFAULT_BOUND = 20.0
# RAFT's correlation pyramid needs feature maps of at least 16 pixels at
# 1/8 resolution.
RAFT_MIN_SIZE = 128


def encode_flow(flow: np.ndarray, bound: float = DEFAULT_BOUND) -> np.ndarray:
    """Flow ``(..., H, W, 2)`` in pixels to RGB ``uint8`` ``(..., H, W, 3)``.

    See the module docstring for the formula.
    """
    if bound <= 0:
        raise ValueError(f'bound must be > 0, got {bound}')
    flow = np.asarray(flow, dtype=np.float32)
    frames = flow.reshape((-1, ) +
                          flow.shape[-3:] if flow.ndim >= 3 else (1, 1, -1, 2))
    rgb = np.empty(frames.shape[:-1] + (3, ), np.uint8)
    # OpenCV's saturating, rounding conversions, a frame and channel at a
    # time, are several times faster than the same arithmetic in NumPy.
    scale = 127 / bound
    for frame, out in zip(frames, rgb):
        x, y = cv2.split(np.ascontiguousarray(frame))
        channels = [
            cv2.addWeighted(c, scale, c, 0, 128, dtype=cv2.CV_8U)
            for c in (x, y)
        ]
        for c in channels:
            np.maximum(c, 1, out=c)  # -bound is 1, as +bound is 255
        channels.append(
            cv2.convertScaleAbs(cv2.magnitude(x, y), alpha=255 / bound))
        cv2.merge(channels, dst=out)
    return rgb.reshape(flow.shape[:-1] + (3, ))


def decode_flow(rgb: np.ndarray, bound: float = DEFAULT_BOUND) -> np.ndarray:
    """RGB flow frames back to flow ``(..., H, W, 2)`` in pixels.

    Exact up to quantisation (``bound / 127``) for flow within the bound.
    """
    return (np.asarray(rgb[..., :2], np.float32) - 128) * (bound / 127)


class OpenCVFlow:
    """DIS or Farneback flow between consecutive RGB frames.

    Args:
        method (str): ``'dis'`` or ``'farneback'``.
        preset (str): DIS preset, a key of :data:`DIS_PRESETS`.
    """

    def __init__(self, method: str = 'dis', preset: str = 'medium') -> None:
        if method not in ('dis', 'farneback'):
            raise ValueError(f'unknown OpenCV flow method {method!r}')
        if preset not in DIS_PRESETS:
            raise ValueError(f'unknown DIS preset {preset!r}; expected one '
                             f'of {sorted(DIS_PRESETS)}')
        self.method = method
        self._dis = (
            cv2.DISOpticalFlow_create(DIS_PRESETS[preset])
            if method == 'dis' else None)

    def __call__(self, frames: np.ndarray) -> np.ndarray:
        """Flow between frames ``t`` and ``t + 1`` of ``(n, H, W, 3)`` RGB
        frames, as ``float32`` ``(n - 1, H, W, 2)``."""
        grey = [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in frames]
        flows = np.empty((len(frames) - 1, ) + grey[0].shape + (2, ),
                         np.float32)
        for t in range(len(frames) - 1):
            if self._dis is not None:
                flows[t] = self._dis.calc(grey[t], grey[t + 1], None)
            else:
                # OpenCV's documented example parameters.
                flows[t] = cv2.calcOpticalFlowFarneback(
                    grey[t], grey[t + 1], None, 0.5, 3, 15, 3, 5, 1.2, 0)
        return flows


class RaftFlow:
    """torchvision RAFT with weights from a local file.

    Args:
        weights (str): Path of the ``state_dict`` file.
        variant (str): ``'raft_small'`` or ``'raft_large'``.
        device (str): Torch device.
        num_flow_updates (int): Refinement iterations (torchvision's
            default is 12; fewer is faster and coarser).
        batch_size (int): Frame pairs per forward pass.

    Raises:
        FileNotFoundError: ``weights`` does not exist.
        ValueError: The file does not hold weights of ``variant``.
    """

    def __init__(self,
                 weights: str,
                 variant: str = 'raft_small',
                 device: str = 'cpu',
                 num_flow_updates: int = 12,
                 batch_size: int = 8) -> None:
        import torch
        from torchvision.models import optical_flow
        if variant not in ('raft_small', 'raft_large'):
            raise ValueError(f'unknown RAFT variant {variant!r}')
        if not weights or not osp.isfile(weights):
            raise FileNotFoundError(
                f'RAFT weights {weights} do not exist; RAFT needs a local '
                'weights file (nothing is downloaded)')
        # weights=None builds the bare network: no download.
        model = getattr(optical_flow, variant)(weights=None, progress=False)
        try:
            state = torch.load(weights, map_location='cpu', weights_only=True)
        except Exception as e:
            raise ValueError(f'cannot read RAFT weights {weights}: {e}')
        if isinstance(state, dict):
            for key in ('state_dict', 'model'):
                if isinstance(state.get(key), dict):
                    state = state[key]
                    break
        if not isinstance(state, dict):
            raise ValueError(f'{weights} holds no state_dict')
        state = {
            k[len('module.'):] if k.startswith('module.') else k: v
            for k, v in state.items()
        }
        try:
            model.load_state_dict(state)
        except RuntimeError as e:
            raise ValueError(f'{weights} does not hold {variant} weights: '
                             f'{str(e).splitlines()[0]}')
        self.torch = torch
        self.device = torch.device(device)
        self.model = model.to(self.device).eval()
        self.num_flow_updates = num_flow_updates
        self.batch_size = batch_size

    def __call__(self, frames: np.ndarray) -> np.ndarray:
        """Flow between consecutive frames; see :meth:`OpenCVFlow.__call__`.
        """
        torch = self.torch
        n, height, width = frames.shape[:3]
        pad_h = max(RAFT_MIN_SIZE, -(-height // 8) * 8) - height
        pad_w = max(RAFT_MIN_SIZE, -(-width // 8) * 8) - width
        flows = []
        with torch.inference_mode():
            x = torch.from_numpy(np.ascontiguousarray(frames)).to(self.device)
            # torchvision's Raft transforms: [0, 255] to [-1, 1].
            x = x.permute(0, 3, 1, 2).float() / 127.5 - 1
            if pad_h or pad_w:
                x = torch.nn.functional.pad(
                    x, (0, pad_w, 0, pad_h), mode='replicate')
            for i in range(0, n - 1, self.batch_size):
                j = min(i + self.batch_size, n - 1)
                flow = self.model(
                    x[i:j],
                    x[i + 1:j + 1],
                    num_flow_updates=self.num_flow_updates)[-1]
                flows.append(flow[:, :, :height, :width].permute(
                    0, 2, 3, 1).float().cpu().numpy())
        return np.concatenate(flows)


@dataclass
class FlowVideoConverter(LazyModel):
    """Per-video function writing the flow video of a video.

    An instance is a :data:`mmmg.data_prep.video_jobs.VideoFunction`. The
    estimator is built on first use in each process (OpenCV and torch
    objects do not cross processes) and dropped when pickled.

    Args:
        method (str): One of :data:`FLOW_METHODS`.
        preset (str): DIS preset.
        bound (float): Flow in pixels mapped to the ends of the 8-bit range.
        scale (float): Resize factor in ``(0, 1]`` applied before the flow.
        pad_last (bool): Repeat the last flow frame (N outputs for N frames).
        chunk_size (int): Frames decoded at a time.
        raft_weights (str, optional): Local RAFT weights; required by RAFT.
        device (str): Torch device of RAFT.
        num_flow_updates (int): RAFT iterations.
        batch_size (int): RAFT frame pairs per forward pass.
        fourcc (str): Output codec.
    """
    method: str = 'dis'
    preset: str = 'medium'
    bound: float = DEFAULT_BOUND
    scale: float = 1.0
    pad_last: bool = False
    chunk_size: int = DEFAULT_CHUNK_SIZE
    raft_weights: Optional[str] = None
    device: str = 'cpu'
    num_flow_updates: int = 12
    batch_size: int = 8
    fourcc: str = 'mp4v'

    def __post_init__(self) -> None:
        if self.method not in FLOW_METHODS:
            raise ValueError(f'unknown flow method {self.method!r}; expected '
                             f'one of {FLOW_METHODS}')
        if self.preset not in DIS_PRESETS:
            raise ValueError(f'unknown DIS preset {self.preset!r}; expected '
                             f'one of {sorted(DIS_PRESETS)}')
        if self.bound <= 0:
            raise ValueError(f'bound must be > 0, got {self.bound}')
        if not 0 < self.scale <= 1:
            raise ValueError(f'scale must be in (0, 1], got {self.scale}')
        if self.method.startswith('raft') and not self.raft_weights:
            raise ValueError(f'{self.method} needs a local weights file '
                             '(raft_weights); nothing is downloaded')
        if self.chunk_size < 1 or self.batch_size < 1:
            raise ValueError('chunk_size and batch_size must be >= 1')
        if self.num_flow_updates < 1:
            raise ValueError('num_flow_updates must be >= 1')

    @property
    def start_method(self) -> Optional[str]:
        """Worker start method: ``'spawn'`` for RAFT (torch), as forked
        children of a process that ran torch can hang and cannot use CUDA.
        """
        return 'spawn' if self.method.startswith('raft') else None

    def build_model(self):
        """RAFT (from the local weights) or an OpenCV flow estimator."""
        if self.method.startswith('raft'):
            return RaftFlow(self.raft_weights, self.method, self.device,
                            self.num_flow_updates, self.batch_size)
        return OpenCVFlow(self.method, self.preset)

    def __call__(self,
                 src: str,
                 dst: str,
                 on_frames: FrameCallback = lambda n: None) -> int:
        """Write the flow video of ``src`` to ``dst``.

        Returns:
            int: Flow frames written.

        Raises:
            VideoReadError: ``src`` cannot be read or has a single frame.
        """
        estimator = self.load()._model
        with VideoStream(src) as video:
            if video.num_frames < 2:
                raise VideoReadError(
                    src, 'optical flow needs at least 2 '
                    'frames, the video has 1')
            size = (video.width, video.height)
            if self.scale < 1:
                size = scaled_size(video.width, video.height, self.scale)
            previous, last_flow = None, None
            with FrameWriter(dst, video.fps, self.fourcc) as writer:
                for chunk in video.chunks(self.chunk_size):
                    chunk = resize_frames(chunk, size)
                    # The previous chunk's last frame pairs with this one's
                    # first, so chunking does not drop a flow frame.
                    frames = (
                        chunk if previous is None else np.concatenate(
                            [previous, chunk]))
                    if len(frames) >= 2:
                        flows = estimator(frames)
                        writer.write(encode_flow(flows, self.bound))
                        last_flow = flows[-1:]
                    previous = frames[-1:]
                    on_frames(len(chunk))
                if self.pad_last:
                    writer.write(encode_flow(last_flow, self.bound))
        return writer.frames
