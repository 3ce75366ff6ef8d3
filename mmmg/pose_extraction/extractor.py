"""Whole-body keypoints of the primary interviewee, one file per video.

Input: videos below a folder or named in a list (as in
:mod:`mmmg.data_prep.video_jobs`). Each video is decoded in order, in
chunks (never whole in memory), by a background thread that stays one
chunk ahead (:class:`~mmmg.pose_extraction.decoding.FrameReader`,
optionally at a reduced size: ``decode_scale``); per chunk, the detector
finds person boxes, the
:class:`~mmmg.pose_extraction.tracking.PrimaryPersonTracker` picks the
interviewee's box per frame (with the whole frame as the box every frame
has it, no tracking needed), and the pose model runs on those boxes in
batches.

Output, per video, ``<out>/<video path relative to the input root, without
extension>.npz`` (or ``.pkl``, a pickled dict with the same keys)::

    keypoint        float32 [T, K, 2]  pixels of the original frame
    keypoint_score  float32 [T, K]
    bbox            float32 [T, 4]     the subject's box, x1 y1 x2 y2
    bbox_score      float32 [T]        the detector's score (1: whole frame)
    person_found    bool    [T]        False: no subject in the frame
    img_shape       int64   [2]        (H, W)
    fps             float
    total_frames    int                T, every decoded frame
    layout          str                'coco_wholebody133' when K = 133
    backend, model, detector  str      what produced the file

Frames without the subject are kept (``T`` is the video's frame count) and
marked: ``person_found`` False, zeros for keypoints, scores and box, never
NaN. With ``min_pose_score > 0`` a frame whose mean keypoint score is lower
is marked the same way (useful with the whole frame as the box).

Runs resume and fail softly (:func:`mmmg.data_prep.video_jobs.
run_video_jobs`): each file is written under a hidden partial name and
renamed when complete, existing outputs are skipped, and a video that
fails is logged to a JSON lines file and skipped (or stops the run in
strict mode). :mod:`mmmg.pose_extraction.sharding` splits the videos over
processes and nodes; progress bars show videos and frames/s.
"""
import os
import os.path as osp
import pickle
import queue
import threading
from contextlib import closing
from dataclasses import dataclass
from typing import (Iterable, Iterator, Optional, Sequence, Tuple, TypeVar,
                    Union)

import numpy as np

from mmmg.data_prep.video_jobs import (DEFAULT_CHUNK_SIZE, FrameCallback,
                                       JobReport, VideoJob, run_video_jobs)
from mmmg.utils.lazy_model import LazyModel
from .backends import (DetectorBackend, MMDetDetector, MMPoseBackend,
                       ONNXDetector, ONNXPoseBackend, PoseBackend,
                       WholeFrameDetector)
from .decoding import FrameReader
from .topdown import box_to_center_scale
from .tracking import PrimaryPersonTracker

OUTPUT_FORMATS = ('.npz', '.pkl')
WHOLEBODY_LAYOUT = 'coco_wholebody133'
T = TypeVar('T')


def prefetch(items: Iterable[T], depth: int = 1) -> Iterator[T]:
    """Yield ``items``, producing up to ``depth`` ahead in a thread.

    An error of the producer is raised in the consumer. Closing the
    generator (``contextlib.closing``) stops and joins the thread, after
    the item it is producing, and closes ``items`` if it can be closed (a
    generator), so the source may be closed afterwards and chained stages
    stop together.
    """
    slots: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(entry) -> bool:
        while not stop.is_set():
            try:
                slots.put(entry, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put((True, item)):
                    return
            put((False, None))
        except BaseException as e:  # handed to the consumer
            put((False, e))
        finally:  # a generator stops its own sources (a chain of stages)
            getattr(items, 'close', lambda: None)()

    thread = threading.Thread(target=produce, daemon=True)
    thread.start()
    try:
        while True:
            more, item = slots.get()
            if not more:
                if item is not None:
                    raise item
                return
            yield item
    finally:
        stop.set()
        thread.join()


@dataclass(frozen=True)
class BackendSpec:
    """How to build the detector and pose model, picklable for workers.

    Attributes:
        backend (str): ``'onnxruntime'`` or ``'mmpose'``.
        pose_model (str, optional): ONNX pose model (onnxruntime).
        pose_config (str, optional): MMPose config (mmpose).
        pose_checkpoint (str, optional): MMPose checkpoint (mmpose).
        det_model (str, optional): ONNX person detector; with neither it
            nor ``det_config`` the whole frame is the box.
        det_config (str, optional): MMDetection config.
        det_checkpoint (str, optional): MMDetection checkpoint.
        det_preset (str): Input normalisation of the ONNX detector.
        det_score_thr (float): Least detector score of a person box.
        device (str): ``'cpu'``, ``'cuda'`` or ``'cuda:N'``.
        batch_size (int): Crops (and detector frames) per inference call.
        threads (int): ONNX Runtime intra-op threads (0: its default).
        pose_input_size (tuple, optional): ``(W, H)`` of a pose model whose
            input size is symbolic.
        det_input_size (tuple, optional): The same for the detector.
    """
    backend: str = 'onnxruntime'
    pose_model: Optional[str] = None
    pose_config: Optional[str] = None
    pose_checkpoint: Optional[str] = None
    det_model: Optional[str] = None
    det_config: Optional[str] = None
    det_checkpoint: Optional[str] = None
    det_preset: str = 'rtmdet'
    det_score_thr: float = 0.3
    device: str = 'cpu'
    batch_size: int = 16
    threads: int = 0
    pose_input_size: Optional[Tuple[int, int]] = None
    det_input_size: Optional[Tuple[int, int]] = None

    def build(self) -> Tuple[DetectorBackend, PoseBackend]:
        """Load the detector and the pose model.

        Raises:
            ValueError: Options that do not fit the backend.
            FileNotFoundError, ModelError, ImportError: See
                :mod:`mmmg.pose_extraction.backends`.
        """
        if self.backend == 'onnxruntime':
            if not self.pose_model:
                raise ValueError('the onnxruntime backend needs a pose model '
                                 '(.onnx)')
            pose = ONNXPoseBackend(self.pose_model, self.device,
                                   self.batch_size, self.threads,
                                   self.pose_input_size)
        elif self.backend == 'mmpose':
            if not (self.pose_config and self.pose_checkpoint):
                raise ValueError('the mmpose backend needs a pose config and '
                                 'checkpoint')
            pose = MMPoseBackend(self.pose_config, self.pose_checkpoint,
                                 self.device)
        else:
            raise ValueError(f'unknown backend {self.backend!r}; expected '
                             "'onnxruntime' or 'mmpose'")
        if self.det_model and self.det_config:
            raise ValueError('give an ONNX detector or an MMDetection one, '
                             'not both')
        if self.det_model:
            detector = ONNXDetector(self.det_model, self.det_preset,
                                    self.det_score_thr, self.device,
                                    self.threads, self.batch_size,
                                    self.det_input_size)
        elif self.det_config:
            if not self.det_checkpoint:
                raise ValueError('an MMDetection detector needs a config and '
                                 'a checkpoint')
            detector = MMDetDetector(self.det_config, self.det_checkpoint,
                                     self.device, self.det_score_thr)
        else:
            detector = WholeFrameDetector()
        return detector, pose


class PoseExtractor(LazyModel):
    """Per-video function writing a pose file (see the module docstring).

    An instance is a :data:`mmmg.data_prep.video_jobs.VideoFunction`; the
    models are built on first use in each process and dropped when pickled
    for a worker.

    Args:
        spec (BackendSpec): The models.
        chunk_size (int): Frames decoded (and detected) at a time.
        iou_thr (float): See :class:`PrimaryPersonTracker`.
        max_lost (int): See :class:`PrimaryPersonTracker`.
        min_pose_score (float): Frames whose mean keypoint score is below
            count as without a person.
        decode_scale (float | str): Decode frames at this share of their
            size (in ``(0, 1]``; 1: full size, outputs as before), or
            ``'auto'``: at the size the models need (:meth:`needed_scale`).
            Boxes and keypoints are always in full-frame pixels.
    """

    # Workers are spawned: ONNX Runtime and CUDA do not survive a fork.
    start_method = 'spawn'

    def __init__(self,
                 spec: BackendSpec,
                 chunk_size: int = DEFAULT_CHUNK_SIZE,
                 iou_thr: float = 0.3,
                 max_lost: int = 25,
                 min_pose_score: float = 0.0,
                 decode_scale: Union[float, str] = 1.0) -> None:
        if chunk_size < 1:
            raise ValueError(f'chunk_size must be >= 1, got {chunk_size}')
        if decode_scale != 'auto' and not 0 < float(decode_scale) <= 1:
            raise ValueError("decode_scale must be in (0, 1] or 'auto', got "
                             f'{decode_scale!r}')
        self.spec = spec
        self.chunk_size = chunk_size
        self.iou_thr = iou_thr
        self.max_lost = max_lost
        self.min_pose_score = min_pose_score
        self.decode_scale = decode_scale

    def build_model(self) -> tuple:
        """The detector and pose sessions of :attr:`spec`."""
        return self.spec.build()

    def needed_scale(self, width: int, height: int) -> float:
        """The least decode scale of a ``width x height`` video at which the
        models see what they would see at full size, nearly.

        An ONNX detector needs its letterbox ratio. With the whole frame as
        the box, the pose model needs the scale of that crop; with a
        detector, person crops are taken from frames at the detector's
        scale, so a subject whose padded box is smaller than the pose input
        times ``1 / scale`` is enlarged from fewer pixels than at full size.
        An MMDetection detector needs the full size.
        """
        detector, pose = self.load()._model
        if isinstance(detector, ONNXDetector):
            w_in, h_in = detector.input_size
            return min(1.0, h_in / height, w_in / width)
        if isinstance(detector, WholeFrameDetector) and \
                hasattr(pose, 'input_size'):
            _, size = box_to_center_scale(
                np.array([[0, 0, width, height]]), pose.input_size)
            return min(1.0, pose.input_size[0] / float(size[0, 0]))
        return 1.0

    def extract(self,
                src: str,
                on_frames: FrameCallback = lambda n: None) -> dict:
        """The pose record of one video (keys as in the module docstring).

        Raises:
            VideoReadError: ``src`` cannot be read.
        """
        detector, pose = self.load()._model
        scale = self.needed_scale if self.decode_scale == 'auto' else \
            float(self.decode_scale)
        # Three stages overlap, a chunk apart: decoding, then detection,
        # tracking and crops, each in a thread of its own, then the pose
        # model here (decord, OpenCV, numpy and ONNX Runtime release the
        # GIL).
        with FrameReader(src, scale) as video, closing(
                prefetch(
                    self._subjects(
                        prefetch(video.chunks(self.chunk_size)), detector,
                        pose, video.size))) as subjects:
            total, k = video.num_frames, pose.num_keypoints
            keypoint = np.zeros((total, k, 2), np.float32)
            score = np.zeros((total, k), np.float32)
            bbox = np.zeros((total, 4), np.float32)
            bbox_score = np.zeros(total, np.float32)
            found = np.zeros(total, bool)
            start = 0
            for n, rows, boxes, prepared in subjects:
                if len(rows):
                    at = start + rows
                    keypoint[at], score[at] = pose.estimate_prepared(prepared)
                    bbox[at], bbox_score[at] = boxes[:, :4], boxes[:, 4]
                    found[at] = True
                start += n
                on_frames(n)
            fps, shape = video.fps, (video.height, video.width)
            factors = np.array(video.factors, np.float32)
        if (factors != 1).any():  # back to full-frame pixels
            # Pixel centres: decoded pixel j covers (j + 0.5) / f - 0.5 of
            # the full frame; box edges simply scale.
            keypoint += 0.5
            keypoint /= factors
            keypoint -= 0.5
            bbox /= np.tile(factors, 2)
        if self.min_pose_score > 0 and k:
            found &= score.mean(axis=1) >= self.min_pose_score
        keypoint[~found], score[~found] = 0, 0
        bbox[~found], bbox_score[~found] = 0, 0
        return dict(
            keypoint=keypoint,
            keypoint_score=score,
            bbox=bbox,
            bbox_score=bbox_score,
            person_found=found,
            img_shape=np.array(shape, np.int64),
            fps=float(fps),
            total_frames=int(total),
            layout=WHOLEBODY_LAYOUT if k == 133 else f'unknown_{k}',
            backend=pose.name,
            model=pose.model,
            detector=detector.name)

    def _subjects(self, chunks: Iterator[np.ndarray],
                  detector: DetectorBackend, pose: PoseBackend,
                  frame_size: Tuple[int, int]) -> Iterator[tuple]:
        """Per chunk: its length, the rows with the subject, their boxes
        ``[n, 5]`` and the pose model's prepared inputs."""
        tracker = PrimaryPersonTracker(frame_size, self.iou_thr, self.max_lost)
        with closing(chunks):
            for chunk in chunks:
                n = len(chunk)
                if isinstance(detector, WholeFrameDetector):
                    # The same box in every frame: nothing to track.
                    rows = np.arange(n)
                    boxes = np.repeat(detector.detect(chunk[:1])[0], n, 0)
                else:
                    chosen = [
                        tracker.update(d) for d in detector.detect(chunk)
                    ]
                    rows = np.array(
                        [i for i, box in enumerate(chosen) if box is not None],
                        int)
                    boxes = np.array([chosen[i] for i in rows],
                                     np.float32).reshape(-1, 5)
                prepared = pose.prepare(
                    chunk if len(rows) == n else chunk[rows], boxes[:, :4]) \
                    if len(rows) else None
                yield n, rows, boxes, prepared

    def __call__(self,
                 src: str,
                 dst: str,
                 on_frames: FrameCallback = lambda n: None) -> int:
        """Write the pose file of ``src`` to ``dst``; return its frames."""
        record = self.extract(src, on_frames)
        save_pose_file(dst, record)
        return record['total_frames']


def save_pose_file(path: str, record: dict) -> None:
    """Write a pose record as ``.npz`` or ``.pkl`` (by the extension).

    Writes exactly to ``path``; atomic replacement is the caller's part.
    """
    ext = osp.splitext(path)[1]
    if ext not in OUTPUT_FORMATS:
        raise ValueError(f'{path}: pose files end in one of {OUTPUT_FORMATS}')
    with open(path, 'wb') as f:
        if ext == '.npz':
            np.savez(f, **record)
        else:
            pickle.dump(record, f, protocol=pickle.HIGHEST_PROTOCOL)


def pose_file_complete(path: str) -> bool:
    """Whether ``path`` is a finished pose file (resume skips it); a
    zero-byte or truncated file of a killed run is not."""
    from .convert import load_pose_file  # convert imports this module
    try:
        load_pose_file(path)
    except (FileNotFoundError, ValueError):
        return False
    return True


def shard_failure_log(out_root: str, index: int, count: int) -> str:
    """Default failure log of a shard; shards must not share one, as a run
    removes its stale log first."""
    name = 'failures.jsonl' if count == 1 else \
        f'failures.shard{index}of{count}.jsonl'
    return osp.join(out_root, name)


def extract_poses(jobs: Sequence[VideoJob],
                  extractor: PoseExtractor,
                  workers: int = 1,
                  quiet: bool = True,
                  **options) -> JobReport:
    """Run ``extractor`` over ``jobs`` with resume and a failure log.

    The models are built here first, so a bad model file fails before any
    video; with worker processes each worker builds its own.

    Args:
        jobs (Sequence[VideoJob]): Videos and their pose files (plan them
            with ``plan_video_jobs(..., suffix='.npz')``).
        extractor (PoseExtractor): The per-video function.
        workers (int): Worker processes; 0 runs in this process.
        quiet (bool): Silence FFmpeg's messages.
        **options: ``overwrite``, ``strict``, ``failure_log`` and
            ``progress`` of :func:`run_video_jobs`.

    Returns:
        JobReport: What was done, skipped and failed.
    """
    for job in jobs:
        if osp.splitext(job.dst)[1] not in OUTPUT_FORMATS:
            raise ValueError(f'{job.dst}: pose files end in one of '
                             f'{OUTPUT_FORMATS}')
    extractor.load()
    if workers > 0:
        extractor.release()
    return run_video_jobs(
        jobs,
        extractor,
        workers=workers,
        desc='pose',
        quiet=quiet,
        verify=pose_file_complete,
        **options)


def default_threads(workers: int) -> int:
    """ONNX Runtime threads per process that share the cores evenly."""
    return max(1, (os.cpu_count() or 1) // max(1, workers))
