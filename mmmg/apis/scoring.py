"""Score clips and whole videos with loaded streams (:mod:`.streams`).

:func:`score_video` slides windows over a long video: their length and
stride are given in frames (``48``) or seconds (``'2s'``) and default to
the longest training clip of the streams and half of it. Windows are
scored ``batch_size`` at a time; RGB frames are decoded per batch, only
the frames the windows sample (decord batches), so memory holds one
batch's frames, never the video. Keypoints come from the video's pose
file (small: ``[T, K, 2]``).

Windows in which the pose file finds the subject in fewer than
``min_person`` of the frames (an empty chair, someone walking away) are
not scored: no model sees an empty skeleton, and the spotting step treats
their frames as without gesture.
"""
import re
import time
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from .streams import Stream, StreamError, StreamSet

Duration = Union[int, float, str, None]
_DURATION = re.compile(r'^\s*(\d+(?:\.\d*)?)\s*(s|f)?\s*$')


def to_frames(value: Duration, fps: float, what: str = 'window') -> int:
    """Frames of a duration: an int (frames), ``'48'`` / ``'48f'``
    (frames) or ``'2s'`` / ``'1.5s'`` (seconds at ``fps``)."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        frames = int(value)
    else:
        match = _DURATION.match(str(value))
        if not match:
            raise StreamError(f'{what} {value!r} is not a duration; give '
                              "frames (48) or seconds ('2s')")
        number, unit = float(match.group(1)), match.group(2)
        frames = int(round(number * fps)) if unit == 's' else int(number)
    if frames < 1:
        raise StreamError(f'{what} {value!r} is less than one frame')
    return frames


def plan_windows(num_frames: int, window: int,
                 stride: int) -> Tuple[np.ndarray, np.ndarray]:
    """``(starts, ends)`` (end exclusive) of windows covering every frame.

    Windows start every ``stride`` frames; a last one ends at the video's
    end when the stride leaves frames uncovered. A video shorter than the
    window gets one window of the whole video (the sampling step pads it
    as it pads a short training clip).
    """
    if num_frames < 1:
        raise StreamError('the video has no frames')
    if window >= num_frames:
        return np.array([0]), np.array([num_frames])
    starts = list(range(0, num_frames - window + 1, stride))
    if starts[-1] + window < num_frames:
        starts.append(num_frames - window)
    starts = np.array(starts)
    return starts, starts + window


@dataclass
class PoseTrack:
    """The keypoints of one video for pose streams.

    Attributes:
        record (dict): A pose file's record (see
            :mod:`mmmg.pose_extraction.extractor`).
        source (str): Where it came from, for messages.
    """
    record: dict
    source: str = 'pose'
    _layouts: Dict[str, Tuple[np.ndarray,
                              np.ndarray]] = field(default_factory=dict)

    @property
    def num_frames(self) -> int:
        return int(len(self.record['keypoint']))

    @property
    def person_found(self) -> np.ndarray:
        found = self.record.get('person_found')
        if found is None:
            return np.asarray(self.record['keypoint_score']).max(-1) > 0
        return np.asarray(found, bool)

    @property
    def img_shape(self) -> Tuple[int, int]:
        return tuple(int(v) for v in self.record['img_shape'])

    def in_layout(self, layout: str) -> Tuple[np.ndarray, np.ndarray]:
        """``[T, V, 2]`` keypoints and ``[T, V]`` scores in ``layout``."""
        from mmmg.pose_extraction.convert import pose_in_layout
        if layout not in self._layouts:
            try:
                self._layouts[layout] = pose_in_layout(self.record, layout)
            except (KeyError, ValueError) as e:
                raise StreamError(f'{self.source}: cannot convert its '
                                  f'keypoints to layout {layout!r} ({e})')
        return self._layouts[layout]


def load_pose(path: str) -> PoseTrack:
    """A pose file of ``tools/extract_pose.py`` as a :class:`PoseTrack`."""
    from mmmg.pose_extraction.convert import load_pose_file
    return PoseTrack(load_pose_file(path), path)


# ---------------------------------------------------------------- feeding --
def _window_results(stream: Stream, start: int, end: int,
                    pose: Optional[PoseTrack]) -> dict:
    """The pipeline input of one window, up to its sampling step.

    Keypoints keep the pose file's ``img_shape``; with RGB frames, stock
    ``MMDecode`` rescales them to the decoded frames' size.
    """
    results = dict(
        total_frames=end - start,
        start_index=0,
        label=-1,
        frame_dir=f'frames {start}-{end - 1}')
    if stream.needs_pose:
        kp, score = pose.in_layout(stream.layout)
        shape = pose.img_shape
        results.update(
            keypoint=kp[None, start:end].copy(),
            keypoint_score=score[None, start:end].copy(),
            img_shape=shape,
            original_shape=shape)
    if stream.kind == 'video':
        results.update(modality='RGB')
    elif stream.kind == 'pose':
        results.update(modality='Pose')
    else:
        results.update(modality=['RGB', 'Pose'])
    return results


def _frame_indices(results: dict, kind: str) -> Optional[np.ndarray]:
    """Window-relative frames the sampled clip needs (None: keypoints only).
    """
    if kind == 'video':
        inds = results['frame_inds']
    elif kind == 'rgbpose':
        inds = results['RGB_inds']
    else:
        return None
    inds = np.asarray(inds).reshape(-1).astype(int)
    # Samplers loop or clamp short windows; clamp anything past the end.
    return np.clip(inds, 0, results['total_frames'] - 1)


def _put_frames(results: dict, kind: str, imgs: List[np.ndarray]) -> dict:
    """Put decoded frames where the dropped decoding step would have."""
    shape = imgs[0].shape[:2]
    results['imgs'] = imgs
    if kind == 'video':
        results['img_shape'] = results['original_shape'] = shape
        return results
    # RGBPoseConv3D: stock MMDecode slices the keypoints (Pose_inds) and
    # rescales them to the frames; the RGB part is done above.
    from mmaction.datasets.transforms import MMDecode
    modality = results['modality']
    results['modality'] = [m for m in modality if m != 'RGB']
    results['RGB_inds'] = np.asarray(results['RGB_inds']).reshape(-1)
    results = MMDecode().transform(results)
    results['modality'] = modality
    return results


def _predict(stream: Stream, packed: List[dict]) -> Dict[str, np.ndarray]:
    """Per-output ``[N, C]`` probabilities of packed samples."""
    import torch
    from mmengine.dataset import pseudo_collate

    from mmmg.evaluation.predictions import sample_streams
    with torch.no_grad():
        out = stream.model.test_step(pseudo_collate(packed))
    rows = [sample_streams(s.to_dict(), stream.name) for s in out]
    scores = {}
    for output in stream.outputs:
        key = output.split('.', 1)[1] if stream.parts else stream.name
        scores[output] = np.stack([r[key] for r in rows]).astype(np.float32)
    return scores


def score_clips(stream: Stream,
                samples: Sequence[dict]) -> Dict[str, np.ndarray]:
    """Per-output ``[N, C]`` probabilities of clips.

    Args:
        stream (Stream): A loaded stream.
        samples (Sequence[dict]): Each clip as ``imgs`` (``[T, H, W, 3]``
            RGB ``uint8``, for video and RGBPose streams) and/or
            ``keypoint`` (``[T, V, 2]`` or ``[M, T, V, 2]`` in the stream's
            layout) with ``keypoint_score`` and ``img_shape`` (H, W) (for
            pose and RGBPose streams).
    """
    packed = []
    for i, sample in enumerate(samples):
        pose, frames = None, sample.get('imgs')
        if stream.needs_pose:
            if 'keypoint' not in sample or 'img_shape' not in sample:
                raise StreamError(f'clip {i}: stream {stream.name!r} needs '
                                  'keypoint, keypoint_score and img_shape')
            kp = np.asarray(sample['keypoint'], np.float32)
            score = sample.get('keypoint_score')
            score = np.ones(kp.shape[:-1], np.float32) if score is None \
                else np.asarray(score, np.float32)
            if kp.ndim == 4:  # one person: the first
                kp, score = kp[0], score[0]
            pose = PoseTrack(
                dict(
                    keypoint=kp,
                    keypoint_score=score,
                    img_shape=sample['img_shape'],
                    layout=stream.layout), f'clip {i}')
            total = len(kp)
        if stream.needs_frames:
            if frames is None:
                raise StreamError(f'clip {i}: stream {stream.name!r} needs '
                                  'imgs, the RGB frames')
            total = len(frames)
        results = stream.sample(_window_results(stream, 0, total, pose))
        inds = _frame_indices(results, stream.kind)
        if inds is not None:
            results = _put_frames(results, stream.kind,
                                  [np.asarray(frames[j]) for j in inds])
        packed.append(stream.process(results))
    return _predict(stream, packed)


def score_clip(stream: Stream, sample: dict) -> Dict[str, np.ndarray]:
    """Per-output ``[C]`` probabilities of one clip (see
    :func:`score_clips`)."""
    return {k: v[0] for k, v in score_clips(stream, [sample]).items()}


# ------------------------------------------------------------------ video --
@dataclass
class VideoScores:
    """Window scores of one video.

    Attributes:
        video (str): The video (or pose file) scored.
        num_frames (int): Its frames.
        fps (float): Its frame rate.
        window (int): Window length, frames.
        stride (int): Window stride, frames.
        starts (np.ndarray): ``[W]`` first frame of each window.
        ends (np.ndarray): ``[W]`` end of each window (exclusive).
        scored (np.ndarray): ``[W]`` bool, False for a window without the
            subject (not scored).
        scores (dict): Per output, ``[W, C]`` probabilities; NaN rows for
            windows not scored.
        fused (np.ndarray): ``[W, C]`` fused probabilities (NaN likewise).
        classes (tuple[str]): Class names.
        padded (bool): The video is shorter than the window.
        seconds (dict): Wall time of ``'decode'`` and ``'model'``.
    """
    video: str
    num_frames: int
    fps: float
    window: int
    stride: int
    starts: np.ndarray
    ends: np.ndarray
    scored: np.ndarray
    scores: Dict[str, np.ndarray]
    fused: np.ndarray
    classes: Tuple[str, ...]
    padded: bool = False
    seconds: Dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict:
        """JSON-ready content (NaN rows as None)."""

        def rows(matrix):
            return [
                None if np.isnan(r).any() else [round(float(v), 6) for v in r]
                for r in matrix
            ]

        return dict(
            video=self.video,
            num_frames=int(self.num_frames),
            fps=float(self.fps),
            window=int(self.window),
            stride=int(self.stride),
            padded=bool(self.padded),
            classes=list(self.classes),
            starts=[int(v) for v in self.starts],
            ends=[int(v) for v in self.ends],
            scored=[bool(v) for v in self.scored],
            scores={
                k: rows(v)
                for k, v in self.scores.items()
            },
            fused=rows(self.fused),
            seconds={
                k: round(float(v), 4)
                for k, v in self.seconds.items()
            })


def _video_meta(video: Optional[str], pose: Optional[PoseTrack],
                need_frames: bool):
    """``(reader, num_frames, fps)``; the reader only when frames are
    needed."""
    reader = None
    if need_frames:
        from mmmg.data_prep.video_jobs import VideoStream
        if video is None:
            raise StreamError('video streams need the video file')
        reader = VideoStream(video)
        num, fps = reader.num_frames, reader.fps
        if pose is not None and abs(pose.num_frames - num) > 5:
            raise StreamError(
                f'{pose.source} has {pose.num_frames} frames but {video} '
                f'has {num}; pass the pose file of this video')
        return reader, min(num, pose.num_frames) if pose else num, fps
    if pose is None:
        raise StreamError('pose streams need the pose of the video')
    fps = float(pose.record.get('fps') or 25.0)
    return None, pose.num_frames, fps


def score_video(streams: StreamSet,
                video: Optional[str] = None,
                pose: Union[None, str, dict, PoseTrack] = None,
                window: Duration = None,
                stride: Duration = None,
                batch_size: int = 8,
                min_person: float = 0.5,
                on_frames: Optional[Callable[[int],
                                             None]] = None) -> VideoScores:
    """Score a long video with sliding windows (see the module docstring).

    Args:
        streams (StreamSet): From :func:`load_streams`.
        video (str, optional): The video; needed by video and RGBPose
            streams (pose-only streams never decode it).
        pose: The video's pose file, its record or a :class:`PoseTrack`;
            needed by pose and RGBPose streams. With it, windows without
            the subject are skipped.
        window: Window length in frames or seconds (``'2s'``); defaults to
            the longest training clip of the streams.
        stride: Window stride, likewise; defaults to half the window.
        batch_size (int): Windows per model call.
        min_person (float): Least fraction of a window's frames with the
            subject for it to be scored.
        on_frames (callable, optional): Told how many frames each batch
            moved forward (progress bars).

    Returns:
        VideoScores: Window bounds and per-output and fused probabilities.
    """
    if batch_size < 1:
        raise StreamError(f'batch_size must be >= 1, got {batch_size}')
    if isinstance(pose, str):
        pose = load_pose(pose)
    elif isinstance(pose, dict):
        pose = PoseTrack(pose, video or 'pose')
    need_frames = any(s.needs_frames for s in streams.streams)
    if any(s.needs_pose for s in streams.streams) and pose is None:
        raise StreamError(f'{video}: pose streams need its pose file')
    reader, num_frames, fps = _video_meta(video, pose, need_frames)
    default = max(s.clip_frames for s in streams.streams)
    window = to_frames(default if window is None else window, fps, 'window')
    stride = to_frames(
        max(1, window // 2) if stride is None else stride, fps, 'stride')
    starts, ends = plan_windows(num_frames, window, stride)
    if pose is not None:
        found = pose.person_found[:num_frames].astype(float)
        present = np.array([found[s:e].mean() for s, e in zip(starts, ends)])
        scored = present >= min_person
    else:
        scored = np.ones(len(starts), bool)
    nan = np.full((len(starts), len(streams.classes)), np.nan, np.float32)
    scores = {o: nan.copy() for o in streams.outputs}
    seconds = dict(decode=0.0, model=0.0)
    todo = np.flatnonzero(scored)
    done_until = 0
    try:
        for b in range(0, len(todo), batch_size):
            batch = todo[b:b + batch_size]
            _score_batch(streams, batch, starts, ends, pose, reader, scores,
                         seconds)
            if on_frames is not None:
                reached = int(ends[batch[-1]])
                on_frames(max(0, reached - done_until))
                done_until = max(done_until, reached)
    finally:
        if reader is not None:
            reader.close()
    if on_frames is not None and done_until < num_frames:
        on_frames(num_frames - done_until)
    fused = nan.copy()
    if len(todo):
        fused[todo] = streams.fuse({k: v[todo] for k, v in scores.items()})
    return VideoScores(
        video=video or (pose.source if pose else ''),
        num_frames=num_frames,
        fps=fps,
        window=window,
        stride=stride,
        starts=starts,
        ends=ends,
        scored=scored,
        scores=scores,
        fused=fused,
        classes=streams.classes,
        padded=window > num_frames,
        seconds=seconds)


def _score_batch(streams: StreamSet, batch: np.ndarray, starts: np.ndarray,
                 ends: np.ndarray, pose: Optional[PoseTrack], reader,
                 scores: Dict[str, np.ndarray], seconds: Dict[str,
                                                              float]) -> None:
    """Score windows ``batch`` with every stream, decoding once."""
    sampled = {}
    needed = set()
    for stream in streams.streams:
        rows = []
        for w in batch:
            results = stream.sample(
                _window_results(stream, int(starts[w]), int(ends[w]), pose))
            inds = _frame_indices(results, stream.kind)
            if inds is not None:
                needed.update((starts[w] + inds).tolist())
            rows.append((w, results, inds))
        sampled[stream.name] = rows
    frames = {}
    if needed:
        tic = time.perf_counter()
        order = sorted(needed)
        for i, img in zip(order, reader.read(order)):
            frames[i] = img
        seconds['decode'] += time.perf_counter() - tic
    tic = time.perf_counter()
    for stream in streams.streams:
        packed = []
        for w, results, inds in sampled[stream.name]:
            if inds is not None:
                results = _put_frames(
                    results, stream.kind,
                    [frames[int(starts[w] + j)] for j in inds])
            packed.append(stream.process(results))
        for output, probs in _predict(stream, packed).items():
            scores[output][batch] = probs
    seconds['model'] += time.perf_counter() - tic
