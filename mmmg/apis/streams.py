"""Trained streams for inference: a model, its test pipeline cut at the
loading step, and its class list.

A stream is one trained model (config + checkpoint) of one of three kinds,
told apart by its test pipeline:

- ``'pose'``: skeleton models (PoseConv3D on heatmaps drawn by the loader
  or on the model's device); fed the keypoints of a window;
- ``'video'``: RGB (or derived-video) models such as Video Swin or
  SlowOnly; fed the decoded frames of a window;
- ``'rgbpose'``: RGBPoseConv3D; fed both.

The config's test pipeline is reused as it is, minus the steps that open
and decode a file: its sampling step draws the frames of a window (one
clip by default: the sliding windows are the temporal views), the frames or
keypoints of those indices are put in, and every later transform
(compaction, resizing, crops, heatmaps, flips, formatting) runs unchanged.
"""
import inspect
import os.path as osp
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

from mmmg.classes import get_classes
from mmmg.utils.cli import ToolError

# Steps replaced by the window feed: opening a file and decoding frames.
INIT_STEPS = ('DecordInit', 'DecordInitSegment', 'OpenCVInit', 'PyAVInit',
              'PIMSInit')
VIDEO_DECODE_STEPS = ('DecordDecode', 'OpenCVDecode', 'PyAVDecode',
                      'PIMSDecode')
RGBPOSE_DECODE_STEPS = ('MMDecode', 'MMDecodeSegment')
SAMPLING_STEPS = ('SampleFrames', 'UniformSampleFrames', 'UniformSample',
                  'DenseSampleFrames', 'MMUniformSampleFrames')
KINDS = ('pose', 'video', 'rgbpose')


class StreamError(ToolError, ValueError):
    """A stream that cannot be loaded or does not fit the others (one line
    under the tools' error convention)."""


@dataclass
class Stream:
    """One loaded model ready to score windows.

    Attributes:
        name (str): Stream name (the fusion name of a one-output model).
        kind (str): ``'pose'``, ``'video'`` or ``'rgbpose'``.
        model: The recognizer, in eval mode on ``device``.
        classes (tuple[str]): Class names in label order.
        clip_frames (int): Frames one training clip spans (the default
            window length).
        layout (str, optional): Keypoint layout of pose inputs.
        outputs (tuple[str]): Names of the scores the model returns: the
            stream name, or ``'<name>.<part>'`` per part of a
            multi-output head (RGBPoseConv3D: ``rgb`` and ``pose``), as
            ``tools/fuse_scores.py`` names them.
        sample (callable): The pipeline's sampling step.
        process (callable): The transforms after decoding.
        config (str): The config file.
        checkpoint (str): The checkpoint file.
        device (str): Where the model runs.
    """
    name: str
    kind: str
    model: object
    classes: Tuple[str, ...]
    clip_frames: int
    layout: Optional[str]
    outputs: Tuple[str, ...]
    sample: Callable
    process: Callable
    config: str = ''
    checkpoint: str = ''
    device: str = 'cpu'
    parts: Tuple[str, ...] = field(default=())

    @property
    def needs_pose(self) -> bool:
        return self.kind in ('pose', 'rgbpose')

    @property
    def needs_frames(self) -> bool:
        return self.kind in ('video', 'rgbpose')


# ------------------------------------------------------------- pipeline --
def _pipeline_of(cfg, loader: str) -> Optional[list]:
    from mmmg.utils.config import inner_dataset
    if loader not in cfg or cfg[loader] is None:
        return None
    return list(inner_dataset(cfg[loader].dataset).get('pipeline') or [])


def _kind_of(pipeline: Sequence[dict], config: str) -> str:
    types = [t.get('type') for t in pipeline]
    if any(t in RGBPOSE_DECODE_STEPS for t in types):
        return 'rgbpose'
    if any(t in VIDEO_DECODE_STEPS for t in types):
        return 'video'
    if 'PoseDecode' in types:
        return 'pose'
    raise StreamError(
        f'{config}: cannot tell what the test pipeline reads (no PoseDecode, '
        f'video decoding or MMDecode step among {types}); spotting supports '
        'skeleton, video and RGBPose models')


def _sampling_step(pipeline: Sequence[dict], config: str) -> dict:
    steps = [t for t in pipeline if t.get('type') in SAMPLING_STEPS]
    if len(steps) != 1:
        raise StreamError(
            f'{config}: the test pipeline needs exactly one frame sampling '
            f'step ({", ".join(SAMPLING_STEPS)}), found {len(steps)}')
    return dict(steps[0])


def clip_frames_of(step: dict) -> int:
    """Frames one clip of a sampling step spans: ``clip_len`` times
    ``frame_interval`` (the longest modality of RGBPoseConv3D)."""
    clip_len = step.get('clip_len', 1)
    if isinstance(clip_len, dict):
        clip_len = max(clip_len.values())
    return int(clip_len) * int(step.get('frame_interval', 1))


def split_pipeline(pipeline: Sequence[dict],
                   config: str = 'config',
                   num_clips: Optional[int] = 1) -> Tuple[dict, List[dict]]:
    """``(sampling step, transforms after decoding)`` of a test pipeline.

    The opening and decoding steps are dropped (the window feed replaces
    them); the sampling step is set to test mode and, unless ``num_clips``
    is None, to that many clips per window.
    """
    sample = _sampling_step(pipeline, config)
    sample['test_mode'] = True
    if num_clips is not None:
        sample['num_clips'] = num_clips
    skip = INIT_STEPS + VIDEO_DECODE_STEPS + RGBPOSE_DECODE_STEPS
    rest = pipeline[[t.get('type')
                     for t in pipeline].index(sample['type']) + 1:]
    return sample, [dict(t) for t in rest if t.get('type') not in skip]


def _layout_of(cfg, pipeline: Sequence[dict]) -> Optional[str]:
    if cfg.get('layout'):
        return str(cfg.layout)
    for step in pipeline:
        if step.get('layout'):
            return str(step['layout'])
    preprocessor = cfg.model.get('data_preprocessor') or {}
    return preprocessor.get('layout')


# -------------------------------------------------------------- classes --
def _dataset_classes(cfg) -> Optional[Tuple[str, ...]]:
    from mmaction.registry import DATASETS

    from mmmg.utils.config import inner_dataset
    for loader in ('test_dataloader', 'val_dataloader', 'train_dataloader'):
        if loader not in cfg or cfg[loader] is None:
            continue
        dataset = inner_dataset(cfg[loader].dataset)
        if dataset.get('classes') is not None:
            return tuple(get_classes(dataset['classes']))
        cls = DATASETS.get(dataset.get('type', ''))
        if cls is not None:
            default = inspect.signature(cls).parameters.get('classes')
            if default is not None and default.default is not \
                    inspect.Parameter.empty:
                return tuple(get_classes(default.default))
    return None


def _num_classes(model) -> Optional[int]:
    head = getattr(model, 'cls_head', None)
    return getattr(head, 'num_classes', None)


def stream_classes(cfg, checkpoint_meta: dict, model,
                   source: str) -> Tuple[str, ...]:
    """The class names of a stream: those its checkpoint was trained with
    (``meta.dataset_meta.classes``), else its config's dataset's, else
    the label indices as text; their count must be the head's."""
    classes = ((checkpoint_meta or {}).get('dataset_meta')
               or {}).get('classes')
    classes = tuple(classes) if classes else _dataset_classes(cfg)
    num = _num_classes(model)
    if classes is None:
        if num is None:
            raise StreamError(f'{source}: no class list in the checkpoint or '
                              'config, and the head states no num_classes')
        return tuple(str(k) for k in range(num))
    if num is not None and len(classes) != num:
        raise StreamError(f'{source}: {len(classes)} class names for a head '
                          f'of {num} classes; set the dataset classes= of the '
                          'config to the training class list')
    return tuple(classes)


# ---------------------------------------------------------------- loading --
def _build_model(cfg, checkpoint: str, device: str):
    import torch
    from mmaction.registry import MODELS
    from mmengine.registry import init_default_scope

    from mmmg.engine.checkpoint import check_checkpoint_fits, read_checkpoint
    init_default_scope(cfg.get('default_scope', 'mmaction'))
    model_cfg = cfg.model.copy()
    head = model_cfg.get('cls_head')
    if head is not None:
        # Probabilities, averaged over the clips and crops of a window.
        model_cfg['cls_head'] = dict(head, average_clips='prob')
    model = MODELS.build(model_cfg)
    ckpt = read_checkpoint(checkpoint)
    state = ckpt.get('state_dict', ckpt) if isinstance(ckpt, dict) else None
    if not isinstance(state, dict):
        raise StreamError(f'{checkpoint}: holds no state_dict')
    state = {
        (k[7:] if k.startswith('module.') else k): v
        for k, v in state.items()
    }
    check_checkpoint_fits(
        model,
        state,
        checkpoint,
        fix='pass the checkpoint trained with this config')
    model.load_state_dict(state, strict=False)
    model.to(torch.device(device)).eval()
    return model, ckpt.get('meta') or {}


def load_stream(config: str,
                checkpoint: str,
                device: str = 'cpu',
                name: Optional[str] = None,
                num_clips: Optional[int] = 1) -> Stream:
    """Load one trained stream.

    Args:
        config (str): Its config file (mmmg, MMAction2 or derived).
        checkpoint (str): Its checkpoint (``tools/train.py``'s ``.pth``).
        device (str): ``'cpu'``, ``'cuda'`` or ``'cuda:N'``.
        name (str, optional): Stream name; defaults to the config's file
            name without extension.
        num_clips (int, optional): Clips sampled from each window; None
            keeps the test pipeline's count (more views, slower).

    Returns:
        Stream: The model and its window pipeline.

    Raises:
        StreamError: A pipeline it cannot feed or a class list that does
            not fit; ``ToolError`` / ``FileNotFoundError`` for missing or
            unfit files (see :mod:`mmmg.engine.checkpoint`).
    """
    from mmengine.dataset import Compose
    from mmengine.registry import init_default_scope

    import mmmg
    from mmmg.utils.config import read_config
    mmmg.register_all_modules()
    cfg = read_config(config)
    name = name or osp.splitext(osp.basename(config))[0]
    test = _pipeline_of(cfg, 'test_dataloader')
    if not test:
        raise StreamError(f'{config}: no test_dataloader pipeline to score '
                          'windows with')
    kind = _kind_of(test, config)
    sample_cfg, process_cfg = split_pipeline(test, config, num_clips)
    train = _pipeline_of(cfg, 'train_dataloader') or test
    try:
        clip_frames = clip_frames_of(_sampling_step(train, config))
    except StreamError:
        clip_frames = clip_frames_of(sample_cfg)
    layout = _layout_of(cfg, test)
    if kind != 'video' and layout is None:
        raise StreamError(f'{config}: a pose stream needs its keypoint '
                          "layout; set layout = '<name>' in the config")
    model, meta = _build_model(cfg, checkpoint, device)
    classes = stream_classes(cfg, meta, model, checkpoint)
    init_default_scope(cfg.get('default_scope', 'mmaction'))
    parts = tuple(getattr(model.cls_head, 'loss_components', ()) or ())
    outputs = tuple(f'{name}.{p}' for p in parts) if parts else (name, )
    return Stream(
        name=name,
        kind=kind,
        model=model,
        classes=classes,
        clip_frames=clip_frames,
        layout=layout,
        outputs=outputs,
        sample=Compose([sample_cfg]),
        process=Compose(process_cfg),
        config=config,
        checkpoint=checkpoint,
        device=device,
        parts=parts)


@dataclass
class StreamSet:
    """Streams that score the same classes, and how to fuse them.

    Attributes:
        streams (list[Stream]): In the order given.
        classes (tuple[str]): The shared class list.
        fusion: An :class:`mmmg.fusion.Ensemble` (``fusion.json``), or
            None for the plain mean of the outputs.
    """
    streams: List[Stream]
    classes: Tuple[str, ...]
    fusion: object = None

    @property
    def outputs(self) -> List[str]:
        return [o for s in self.streams for o in s.outputs]

    def fuse(self, scores: Dict[str, np.ndarray]) -> np.ndarray:
        """``[N, C]`` fused probabilities of per-output ``[N, C]`` scores.
        """
        if self.fusion is None:
            return np.mean([scores[o] for o in self.outputs], axis=0)
        return self.fusion.fuse(
            np.stack([scores[o] for o in self.fusion.streams]))


def _first_difference(a: Sequence[str], b: Sequence[str]) -> str:
    if len(a) != len(b):
        return f'{len(a)} vs {len(b)} classes'
    k = next(i for i, (x, y) in enumerate(zip(a, b)) if x != y)
    return f'class {k} is {a[k]!r} vs {b[k]!r}'


def check_fusion(fusion, outputs: Sequence[str], classes: Sequence[str],
                 source: str) -> None:
    """Refuse a fusion whose streams or classes differ from the loaded
    streams' (:class:`StreamError` naming the mismatch)."""
    missing = sorted(set(fusion.streams) - set(outputs))
    extra = sorted(set(outputs) - set(fusion.streams))
    if missing or extra:
        raise StreamError(
            f'{source} fuses streams {list(fusion.streams)} but the loaded '
            f'ones are {list(outputs)} (missing: {missing}, not in the '
            f'fusion: {extra}); name the --streams as in the fusion')
    for stream, prov in (fusion.meta.get('provenance') or {}).items():
        names = prov.get('classes')
        if names and tuple(names) != tuple(classes):
            diff = _first_difference(names, classes)
            raise StreamError(
                f'{source}: stream {stream!r} was fitted on '
                f'other classes than the loaded streams ({diff})')
        num = prov.get('num_classes')
        if num is not None and int(num) != len(classes):
            raise StreamError(
                f'{source}: stream {stream!r} was fitted on {num} classes, '
                f'the loaded streams have {len(classes)}')


def check_streams(streams: Sequence[Stream]) -> Tuple[str, ...]:
    """The class list all ``streams`` share; :class:`StreamError` naming
    the first two that differ."""
    if not streams:
        raise StreamError('no stream given')
    names = [s.name for s in streams]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise StreamError(f'stream names must be unique; {dup} repeat')
    first = streams[0]
    for other in streams[1:]:
        if other.classes != first.classes:
            raise StreamError(
                f'streams {first.name!r} and {other.name!r} score different '
                f'classes ({_first_difference(first.classes, other.classes)})'
                '; every stream must be trained on the same class list')
    return first.classes


def load_streams(specs: Dict[str, Tuple[str, str]],
                 fusion: Optional[str] = None,
                 device: str = 'cpu',
                 num_clips: Optional[int] = 1) -> StreamSet:
    """Load several streams and an optional ``fusion.json``.

    Args:
        specs (dict): ``{name: (config, checkpoint)}``.
        fusion (str, optional): A ``fusion.json`` of
            ``tools/fuse_scores.py``; its streams must be the loaded
            outputs and its classes theirs.
        device (str): Device of every model.
        num_clips (int, optional): See :func:`load_stream`.

    Raises:
        StreamError: Streams whose classes differ, or a fusion that does
            not fit them, named in the message.
    """
    from mmmg.fusion import Ensemble
    ensemble = None
    if fusion is not None:
        if not osp.isfile(fusion):
            raise FileNotFoundError(f'fusion file {fusion!r} not found')
        try:
            ensemble = Ensemble.load(fusion)
        except ValueError as e:
            raise StreamError(str(e)) from e
    streams = [
        load_stream(cfg, ckpt, device, name, num_clips)
        for name, (cfg, ckpt) in specs.items()
    ]
    classes = check_streams(streams)
    outputs = [o for s in streams for o in s.outputs]
    if ensemble is not None:
        check_fusion(ensemble, outputs, classes, fusion)
    return StreamSet(streams, classes, ensemble)
