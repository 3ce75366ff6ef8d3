"""Person detectors and top-down pose models behind one interface.

Two kinds of backend:

- :class:`DetectorBackend`: ``detect(frames)`` gives, per RGB frame, the
  person boxes ``float32 [n, 5]`` (``x1, y1, x2, y2, score`` in pixels).
  :class:`WholeFrameDetector` returns the whole frame as the one box (for
  videos framed on one person); :class:`ONNXDetector` runs an end-to-end
  RTMDet / YOLOX ONNX export (non-maximum suppression inside the model, as
  mmdeploy and rtmlib export them); :class:`MMDetDetector` runs an MMDetection
  config and checkpoint.
- :class:`PoseBackend`: ``estimate(frames, boxes)`` gives, for box ``i`` of
  frame ``frames[i]``, keypoints ``float32 [K, 2]`` in frame pixels and
  scores ``float32 [K]``. :class:`ONNXPoseBackend` runs an RTMPose / RTMW /
  DWPose SimCC model with ONNX Runtime (pre- and post-processing in
  :mod:`mmmg.pose_extraction.topdown`), in batches of crops;
  :class:`MMPoseBackend` runs an MMPose config and checkpoint.

The MMPose and MMDetection backends import their libraries only when built:
they need compiled mmcv (>= 2.1), which MMAction2 1.1.0 refuses, so they live
in the ``mmpose`` extra, installed in an environment of its own. ONNX Runtime
installs everywhere (the ``pose`` extra).

Models are given by local path; nothing is downloaded. A model file that is
missing, is not ONNX, or lacks the expected inputs and outputs raises an
error naming the file and what is wrong.
"""
import os.path as osp
from typing import List, Optional, Sequence, Tuple

import cv2
import numpy as np

from .topdown import crop_batch, decode_to_frame

MMPOSE_HINT = ('install the mmpose extra (pip install -e ".[mmpose]") in a '
               'separate environment: it needs compiled mmcv >= 2.1, which '
               'MMAction2 1.1.0 refuses; or use --backend onnxruntime')
# Input normalisation of the detector exports, in BGR order as the
# detectors were trained (mean, std); YOLOX takes raw pixels.
DETECTOR_PRESETS = {
    'rtmdet': ((103.53, 116.28, 123.675), (57.375, 57.12, 58.395)),
    'yolox': (None, None),
}
# Letterbox padding value of RTMDet and YOLOX.
PAD_VALUE = 114


class ModelError(ValueError):
    """A model file that cannot be used; the message names the file."""

    def __init__(self, path: str, problem: str) -> None:
        self.path = path
        super().__init__(f'{path}: {problem}')


# ----------------------------------------------------------- interfaces --
class DetectorBackend:
    """Finds person boxes in frames."""

    #: Short description stored in the outputs.
    name = 'detector'

    def detect(self, frames: np.ndarray) -> List[np.ndarray]:
        """Person boxes of each frame.

        Args:
            frames (np.ndarray): ``uint8 [F, H, W, 3]`` RGB frames.

        Returns:
            list[np.ndarray]: Per frame, ``float32 [n, 5]`` boxes
            ``x1, y1, x2, y2, score`` (``n`` may be 0).
        """
        raise NotImplementedError


class PoseBackend:
    """Estimates one person's keypoints inside a box."""

    #: Backend name and model description stored in the outputs.
    name = 'pose'
    model = ''
    #: Keypoints per person (133 for COCO-WholeBody models).
    num_keypoints = 0

    def estimate(self, frames: Sequence[np.ndarray],
                 boxes: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """Keypoints of the person in ``boxes[i]`` of ``frames[i]``.

        Args:
            frames (Sequence[np.ndarray]): ``uint8 [H, W, 3]`` RGB frames,
                one a box (a frame may repeat).
            boxes (np.ndarray): ``[N, 4]`` ``xyxy`` boxes in pixels.

        Returns:
            tuple[np.ndarray, np.ndarray]: ``float32 [N, K, 2]`` keypoints
            in frame pixels and ``float32 [N, K]`` scores; a point the model
            does not find is ``(0, 0)`` with score 0.
        """
        raise NotImplementedError

    def prepare(self, frames: Sequence[np.ndarray], boxes: np.ndarray):
        """The frame-side work of :meth:`estimate` (for ONNX: the crops),
        which the extractor runs in a thread ahead of the model; by default
        nothing."""
        return frames, boxes

    def estimate_prepared(self, prepared) -> Tuple[np.ndarray, np.ndarray]:
        """:meth:`estimate` of what :meth:`prepare` returned."""
        return self.estimate(*prepared)


class WholeFrameDetector(DetectorBackend):
    """The whole frame as the one person box, score 1."""

    name = 'whole_frame'

    def detect(self, frames: np.ndarray) -> List[np.ndarray]:
        h, w = frames.shape[1:3]
        box = np.array([[0, 0, w, h, 1]], np.float32)
        return [box.copy() for _ in range(len(frames))]


# ---------------------------------------------------------- ONNX Runtime --
def parse_device(device: str) -> Tuple[str, int]:
    """``'cpu'``, ``'cuda'`` or ``'cuda:N'`` as ``(kind, index)``."""
    kind, _, index = device.partition(':')
    if kind not in ('cpu', 'cuda') or (index and not index.isdigit()) or \
            (kind == 'cpu' and index):
        raise ValueError(f"unknown device {device!r}; expected 'cpu', "
                         "'cuda' or 'cuda:N'")
    return kind, int(index or 0)


def onnx_session(path: str, device: str = 'cpu', threads: int = 0):
    """An ONNX Runtime session of a local model file.

    Args:
        path (str): The ``.onnx`` file.
        device (str): ``'cpu'``, ``'cuda'`` or ``'cuda:N'``.
        threads (int): Intra-op threads; 0 lets ONNX Runtime choose.

    Raises:
        FileNotFoundError: No such file.
        ModelError: ONNX Runtime cannot load it.
        RuntimeError: CUDA was asked for but this ONNX Runtime lacks it.
    """
    import onnxruntime as ort
    if not osp.isfile(path):
        raise FileNotFoundError(f'model file {path} does not exist')
    kind, index = parse_device(device)
    providers = ['CPUExecutionProvider']
    if kind == 'cuda':
        if 'CUDAExecutionProvider' not in ort.get_available_providers():
            raise RuntimeError(
                f'cannot run {path} on {device}: this onnxruntime has no '
                'CUDAExecutionProvider (install onnxruntime-gpu instead)')
        providers.insert(0, ('CUDAExecutionProvider', {'device_id': index}))
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.log_severity_level = 3  # errors only; they are raised anyway
    try:
        return ort.InferenceSession(path, options, providers=providers)
    except Exception as e:  # ort raises its own Fail/InvalidGraph types
        first = str(e).strip().splitlines()[0] if str(e).strip() else ''
        raise ModelError(
            path, f'ONNX Runtime cannot load it '
            f'({type(e).__name__}: {first})') from None


def _static(dim) -> Optional[int]:
    """A dimension of an ONNX shape, None when symbolic."""
    return dim if isinstance(dim, int) and dim > 0 else None


def _image_session(path: str, device: str, threads: int, input_size,
                   what: str) -> tuple:
    """An ONNX session with one ``[N, 3, H, W]`` image input.

    Returns:
        tuple: The session, the input's name, its fixed batch size (None if
        dynamic) and ``(W, H)``; ``input_size`` fills a symbolic size.
    """
    session = onnx_session(path, device, threads)
    inputs = session.get_inputs()
    if len(inputs) != 1 or len(inputs[0].shape) != 4 or \
            _static(inputs[0].shape[1]) not in (None, 3):
        raise ModelError(
            path, 'expected one image input [N, 3, H, W], got '
            f'{[(i.name, i.shape) for i in inputs]}')
    shape = inputs[0].shape
    h, w = _static(shape[2]), _static(shape[3])
    if input_size is not None:
        w, h = input_size
    if h is None or w is None:
        raise ModelError(
            path, f'the input size is symbolic ({shape}); '
            f'pass the {what} input size (W, H)')
    return session, inputs[0].name, _static(shape[0]), (int(w), int(h))


def _run_batched(session, name: str, inputs: np.ndarray, batch: int,
                 fixed_batch: Optional[int]) -> List[np.ndarray]:
    """Run ``inputs`` in slices of ``batch`` (padded to a fixed batch)."""
    step = fixed_batch or batch
    parts = []
    for start in range(0, len(inputs), step):
        chunk = inputs[start:start + step]
        n = len(chunk)
        if fixed_batch and n < fixed_batch:
            pad = np.zeros((fixed_batch - n, ) + chunk.shape[1:], chunk.dtype)
            chunk = np.concatenate([chunk, pad])
        parts.append([out[:n] for out in session.run(None, {name: chunk})])
    return [
        np.concatenate([p[i] for p in parts]) for i in range(len(parts[0]))
    ]


class ONNXPoseBackend(PoseBackend):
    """RTMPose-style SimCC model (RTMPose, RTMW, DWPose) on ONNX Runtime.

    The model has one input ``float32 [N, 3, H, W]`` (normalised RGB crops)
    and two outputs ``simcc_x [N, K, W * r]`` and ``simcc_y [N, K, H * r]``;
    outputs named ``simcc_x`` / ``simcc_y`` are taken by name, others in
    that order. The split ratio ``r`` is read from the shapes.

    Args:
        path (str): The ``.onnx`` file.
        device (str): ``'cpu'``, ``'cuda'`` or ``'cuda:N'``.
        batch_size (int): Crops per inference call (a model exported with a
            fixed batch size runs in slices of that size).
        threads (int): ONNX Runtime intra-op threads (0: its default).
        input_size (tuple[int, int], optional): ``(W, H)`` for a model whose
            input size is symbolic.

    Raises:
        FileNotFoundError, ModelError: See :func:`onnx_session`; also a
            model whose inputs and outputs are not the SimCC signature.
    """

    name = 'onnxruntime'

    def __init__(self,
                 path: str,
                 device: str = 'cpu',
                 batch_size: int = 16,
                 threads: int = 0,
                 input_size: Optional[Tuple[int, int]] = None) -> None:
        if batch_size < 1:
            raise ValueError(f'batch_size must be >= 1, got {batch_size}')
        self.path = path
        self.model = osp.basename(path)
        self.batch_size = batch_size
        (self.session, self.input_name, self.fixed_batch,
         self.input_size) = _image_session(path, device, threads, input_size,
                                           'model')
        outputs = self.session.get_outputs()
        names = [o.name for o in outputs]
        if len(outputs) != 2 or any(len(o.shape) != 3 for o in outputs):
            raise ModelError(
                path, 'expected two outputs simcc_x [N, K, W*r] '
                'and simcc_y [N, K, H*r] (an RTMPose-style SimCC '
                'model), got '
                f'{[(o.name, o.shape) for o in outputs]}')
        order = [0, 1]
        if set(names) == {'simcc_x', 'simcc_y'}:
            order = [names.index('simcc_x'), names.index('simcc_y')]
        self._order = order
        self.split_ratio = None
        self.num_keypoints = 0
        x_shape, y_shape = outputs[order[0]].shape, outputs[order[1]].shape
        if all(_static(d) for d in (x_shape[1:] + y_shape[1:])):
            self._check_outputs(x_shape, y_shape)
        else:  # symbolic output shapes: learn them from one blank crop
            blank = np.zeros((1, 3, self.input_size[1], self.input_size[0]),
                             np.float32)
            try:
                self.run(blank)
            except ModelError:
                raise
            except Exception as e:  # ort's own error types
                raise ModelError(
                    path, 'a test inference on a blank '
                    f'{self.input_size[0]} x '
                    f'{self.input_size[1]} crop failed '
                    f'({type(e).__name__}: {e})') from None

    def _check_outputs(self, x_shape, y_shape) -> None:
        """Set ``num_keypoints`` and ``split_ratio`` from output shapes."""
        w, h = self.input_size
        rx, ry = x_shape[2] / w, y_shape[2] / h
        if x_shape[1] != y_shape[1] or rx != ry or rx <= 0:
            raise ModelError(
                self.path, f'outputs {list(x_shape)} and '
                f'{list(y_shape)} do not fit an input of '
                f'{w} x {h}: expected simcc_x [N, K, {w}*r] and '
                f'simcc_y [N, K, {h}*r] with the same K and r')
        self.num_keypoints = int(x_shape[1])
        self.split_ratio = float(rx)

    def run(self, crops: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """Bare inference: SimCC outputs of prepared crops (batched)."""
        outs = _run_batched(self.session, self.input_name, crops,
                            self.batch_size, self.fixed_batch)
        simcc_x, simcc_y = outs[self._order[0]], outs[self._order[1]]
        if self.split_ratio is None:
            self._check_outputs(simcc_x.shape, simcc_y.shape)
        return simcc_x, simcc_y

    def estimate(self, frames: Sequence[np.ndarray],
                 boxes: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        return self.estimate_prepared(self.prepare(frames, boxes))

    def prepare(self, frames: Sequence[np.ndarray],
                boxes: np.ndarray) -> tuple:
        """The model inputs, crop centres and sizes (:func:`crop_batch`)."""
        boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
        return crop_batch(frames, boxes, self.input_size)

    def estimate_prepared(self,
                          prepared: tuple) -> Tuple[np.ndarray, np.ndarray]:
        crops, center, size = prepared
        if len(crops) == 0:
            k = self.num_keypoints
            return np.zeros((0, k, 2), np.float32), np.zeros((0, k),
                                                             np.float32)
        simcc_x, simcc_y = self.run(crops)
        return decode_to_frame(simcc_x, simcc_y, self.split_ratio, center,
                               size, self.input_size)


def letterbox(frames: np.ndarray,
              input_size: Tuple[int, int]) -> Tuple[np.ndarray, float]:
    """Resize keeping the aspect ratio into ``(W, H)``, pad right/bottom.

    Args:
        frames (np.ndarray): ``uint8 [N, h, w, C]`` frames of one size.
        input_size (tuple[int, int]): ``(W, H)``.

    Returns:
        tuple[np.ndarray, float]: The padded ``uint8 [N, H, W, C]`` images
        and the resize ratio.
    """
    w_in, h_in = input_size
    h, w = frames.shape[1:3]
    ratio = min(h_in / h, w_in / w)
    size = (max(1, int(w * ratio)), max(1, int(h * ratio)))
    out = np.full((len(frames), h_in, w_in, frames.shape[3]), PAD_VALUE,
                  np.uint8)
    for frame, image in zip(frames, out):
        image[:size[1], :size[0]] = cv2.resize(
            frame, size, interpolation=cv2.INTER_LINEAR)
    return out, ratio


class ONNXDetector(DetectorBackend):
    """End-to-end person detector export (RTMDet, YOLOX) on ONNX Runtime.

    The model takes ``float32 [N, 3, H, W]`` letterboxed BGR images and
    returns ``dets [N, M, 5]`` (``x1, y1, x2, y2, score`` in input pixels,
    non-maximum suppression done) and optionally ``labels [N, M]``; where
    labels exist only class 0 (person) is kept.

    Args:
        path (str): The ``.onnx`` file.
        preset (str): Input normalisation, a key of
            :data:`DETECTOR_PRESETS`.
        score_thr (float): Boxes scoring below are dropped.
        device (str): ``'cpu'``, ``'cuda'`` or ``'cuda:N'``.
        threads (int): ONNX Runtime intra-op threads.
        batch_size (int): Frames per call where the batch is not fixed.
        input_size (tuple[int, int], optional): ``(W, H)`` for a model with
            a symbolic input size.
    """

    def __init__(self,
                 path: str,
                 preset: str = 'rtmdet',
                 score_thr: float = 0.3,
                 device: str = 'cpu',
                 threads: int = 0,
                 batch_size: int = 8,
                 input_size: Optional[Tuple[int, int]] = None) -> None:
        if preset not in DETECTOR_PRESETS:
            raise ValueError(f'unknown detector preset {preset!r}; expected '
                             f'one of {sorted(DETECTOR_PRESETS)}')
        self.path = path
        self.name = osp.basename(path)
        self.score_thr = score_thr
        self.batch_size = max(1, batch_size)
        mean, std = DETECTOR_PRESETS[preset]
        self.mean = None if mean is None else np.array(mean, np.float32)
        self.std = None if std is None else np.array(std, np.float32)
        (self.session, self.input_name, self.fixed_batch,
         self.input_size) = _image_session(path, device, threads, input_size,
                                           'detector')
        outputs = self.session.get_outputs()
        dets = [
            i for i, o in enumerate(outputs)
            if len(o.shape) == 3 and o.shape[2] == 5
        ]
        if not dets:
            raise ModelError(
                path, 'expected an end-to-end detector with an '
                'output dets [N, M, 5] (x1, y1, x2, y2, score; '
                'NMS inside the model), got '
                f'{[(o.name, o.shape) for o in outputs]}')
        self._dets = dets[0]
        labels = [
            i for i, o in enumerate(outputs)
            if len(o.shape) == 2 and i != self._dets
        ]
        self._labels = labels[0] if labels else None

    def prepare(self, frames: np.ndarray) -> Tuple[np.ndarray, float]:
        """The model inputs ``float32 [N, 3, H, W]`` of RGB frames
        ``[N, h, w, 3]`` of one size, and the letterbox ratio."""
        images, ratio = letterbox(frames, self.input_size)
        bgr = images[..., ::-1].transpose(0, 3, 1, 2)
        if self.mean is None:
            return np.ascontiguousarray(bgr, np.float32), ratio
        inputs = np.empty(bgr.shape, np.float32)
        np.subtract(bgr, self.mean[:, None, None], out=inputs)
        inputs /= self.std[:, None, None]
        return inputs, ratio

    def run(self, images: np.ndarray) -> List[np.ndarray]:
        """Bare inference: the raw outputs of prepared images (batched)."""
        return _run_batched(self.session, self.input_name, images,
                            self.batch_size, self.fixed_batch)

    def detect(self, frames: np.ndarray) -> List[np.ndarray]:
        inputs, ratio = self.prepare(frames)
        outs = self.run(inputs)
        h, w = frames.shape[1:3]
        dets = outs[self._dets].astype(np.float32)
        dets[..., :4] /= ratio
        dets[..., [0, 2]] = dets[..., [0, 2]].clip(0, w)
        dets[..., [1, 3]] = dets[..., [1, 3]].clip(0, h)
        keep = dets[..., 4] >= self.score_thr
        if self._labels is not None:
            keep &= outs[self._labels] == 0
        # A box clipped to nothing is no person.
        keep &= (dets[..., 2] > dets[..., 0]) & (dets[..., 3] > dets[..., 1])
        return [boxes[k] for boxes, k in zip(dets, keep)]


# ---------------------------------------------------------------- MMPose --
def _import_mm(what: str):
    """Import an OpenMMLab API module or fail with the install hint."""
    import importlib
    try:
        return importlib.import_module(what)
    except ImportError as e:
        raise ImportError(f'the MMPose backend cannot import {what} ({e}); '
                          f'{MMPOSE_HINT}') from None


def _check_files(*paths: str) -> None:
    for path in paths:
        if not osp.isfile(path):
            raise FileNotFoundError(f'model file {path} does not exist')


class MMPoseBackend(PoseBackend):
    """An MMPose top-down model (RTMPose / RTMW config and checkpoint).

    Args:
        config (str): MMPose config file.
        checkpoint (str): Its checkpoint.
        device (str): Torch device.

    Raises:
        ImportError: mmpose (with compiled mmcv) is not installed; the
            message says how to install it.
    """

    name = 'mmpose'

    def __init__(self,
                 config: str,
                 checkpoint: str,
                 device: str = 'cpu') -> None:
        apis = _import_mm('mmpose.apis')
        _check_files(config, checkpoint)
        self.model = osp.basename(checkpoint)
        self._apis = apis
        self._model = apis.init_model(config, checkpoint, device=device)
        self.num_keypoints = int(self._model.dataset_meta['num_keypoints'])

    def estimate(self, frames: Sequence[np.ndarray],
                 boxes: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
        k = self.num_keypoints
        keypoints = np.zeros((len(boxes), k, 2), np.float32)
        scores = np.zeros((len(boxes), k), np.float32)
        for i, (frame, box) in enumerate(zip(frames, boxes)):
            # MMPose pipelines take BGR arrays.
            sample = self._apis.inference_topdown(
                self._model,
                np.ascontiguousarray(frame[..., ::-1]),
                bboxes=box[None],
                bbox_format='xyxy')[0]
            keypoints[i] = sample.pred_instances.keypoints[0]
            scores[i] = sample.pred_instances.keypoint_scores[0]
        return keypoints, scores


class MMDetDetector(DetectorBackend):
    """An MMDetection person detector (config and checkpoint; class 0).

    Args:
        config (str): MMDetection config file.
        checkpoint (str): Its checkpoint.
        device (str): Torch device.
        score_thr (float): Boxes scoring below are dropped.
    """

    def __init__(self,
                 config: str,
                 checkpoint: str,
                 device: str = 'cpu',
                 score_thr: float = 0.3) -> None:
        apis = _import_mm('mmdet.apis')
        _check_files(config, checkpoint)
        self.name = osp.basename(checkpoint)
        self.score_thr = score_thr
        self._apis = apis
        self._model = apis.init_detector(config, checkpoint, device=device)

    def detect(self, frames: np.ndarray) -> List[np.ndarray]:
        results = []
        for frame in frames:
            pred = self._apis.inference_detector(
                self._model, np.ascontiguousarray(frame[..., ::-1]))
            inst = pred.pred_instances.cpu().numpy()
            keep = (inst.labels == 0) & (inst.scores >= self.score_thr)
            results.append(
                np.concatenate([inst.bboxes[keep], inst.scores[keep, None]],
                               1).astype(np.float32))
        return results
