"""Heatmaps drawn on the model's device: the loader ships keypoints.

A PoseConv3D or RGBPoseConv3D config whose pipelines end with
``GeneratePoseHeatmaps`` -> ``FormatShape`` -> ``PackMGInputs`` becomes its
device-rendering variant by swapping that tail for
:class:`PackPoseKeypoints` and its data preprocessor for
:class:`~mmmg.models.data_preprocessors.HeatmapDataPreprocessor` (or
:class:`~mmmg.models.data_preprocessors.MultiModalHeatmapDataPreprocessor`)
with the same heatmap options; :func:`render_on_device` derives both from
the inherited config::

    _base_ = ['./posec3d_slowonly_mg36_joint_imigue.py']
    from mmmg.utils.gpu_render import render_on_device
    model, train_dataloader, val_dataloader, test_dataloader = (
        render_on_device(_base_))

A sample then carries a few KB of keypoints instead of megabytes of float32
maps; the maps equal the loader's (``tests/configs/test_gpu_render_configs``).

:class:`PackPoseKeypoints` is registered with ``mmmg.models`` (whose data
preprocessors read what it packs), so ``custom_imports=['mmmg']`` suffices.
"""
from typing import Dict, List, Sequence, Tuple

import numpy as np
from mmaction.registry import TRANSFORMS
from mmcv.transforms import to_tensor

from mmmg.datasets.transforms.formatting import PackMGInputs
from mmmg.datasets.transforms.heatmaps import MAP_SCALE

LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')
HEATMAPS = 'GeneratePoseHeatmaps'
PACKS = ('PackMGInputs', 'PackActionInputs')
RENDER_META_KEYS = ('img_shape', 'num_clips', 'clip_len', 'heatmap_double')


@TRANSFORMS.register_module()
class PackPoseKeypoints(PackMGInputs):
    """Pack keypoints for heatmaps drawn on the model's device.

    The loader half of device rendering: it ends a pipeline in place of
    ``GeneratePoseHeatmaps`` + ``FormatShape('NCTHW_Heatmap')`` +
    ``PackMGInputs``, and ``HeatmapDataPreprocessor`` draws the maps.

    Required Keys:
        - keypoint
        - keypoint_score (optional)
        - img_shape, num_clips, clip_len
        - the keys of ``collect_keys``

    Added Keys:
        - inputs (a dict of ``keypoint``, ``keypoint_score`` and
          ``collect_keys``)
        - data_samples (metainfo with ``heatmap_double``)

    Modified Keys:
        - keypoint (float32, as the device draws it; the pipeline's
          arithmetic may have made it float64)

    Args:
        double (bool): Whether the device appends the flipped maps of these
            samples (test-time flip averaging, as ``double`` of
            ``GeneratePoseHeatmaps``). Defaults to False.
        collect_keys (Sequence[str]): Other inputs packed beside the
            keypoints (the RGB frames of RGBPose). Defaults to ().
        meta_keys (Sequence[str]): Meta keys; those the device needs
            (``img_shape``, ``num_clips``, ``clip_len``, ``heatmap_double``)
            are added.
    """

    def __init__(self,
                 double: bool = False,
                 collect_keys: Sequence[str] = (),
                 meta_keys: Sequence[str] = ('img_shape', 'img_key',
                                             'video_id', 'timestamp')):
        self.double = double
        meta_keys = tuple(meta_keys)
        meta_keys += tuple(k for k in RENDER_META_KEYS if k not in meta_keys)
        super().__init__(
            collect_keys=tuple(collect_keys) + ('keypoint', ),
            meta_keys=meta_keys)

    def transform(self, results: Dict) -> Dict:
        results['heatmap_double'] = self.double
        results['keypoint'] = np.asarray(results['keypoint'], np.float32)
        packed = super().transform(results)
        # Without scores the maps are drawn with peak 1, as
        # GeneratePoseHeatmaps does.
        if 'keypoint_score' in results:
            packed['inputs']['keypoint_score'] = to_tensor(
                results['keypoint_score'])
        return packed

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(double={self.double}, '
                f'collect_keys={self.collect_keys}, '
                f'meta_keys={self.meta_keys})')


def _find_pipeline(dataset: dict, where: str) -> Tuple[List[dict], list]:
    """The pipeline of a dataset config (inside wrappers such as
    ``RepeatDataset``) and the keys leading to it."""
    path = []
    while 'pipeline' not in dataset:
        if 'dataset' not in dataset:
            raise ValueError(f'{where}: no pipeline in its dataset config')
        dataset = dataset['dataset']
        path.append('dataset')
    return list(dataset['pipeline']), path


def _swap_tail(pipeline: List[dict], where: str) -> Tuple[List[dict], dict]:
    """``pipeline`` ending with :class:`PackPoseKeypoints`, and the options
    of the heatmaps it drew."""
    types = [t['type'] for t in pipeline]
    if types.count(HEATMAPS) != 1:
        raise ValueError(f'{where}: expected one {HEATMAPS} in the pipeline, '
                         f'got {types}')
    start = types.index(HEATMAPS)
    heatmaps = dict(pipeline[start])
    tail = []
    for t in pipeline[start + 1:]:
        if t['type'] == 'FormatShape':
            # RGB frames are still formatted; the maps are not there.
            if t.get('input_format') != 'NCTHW_Heatmap':
                tail.append(t)
        elif t['type'] in PACKS:
            keys = [
                k for k in t.get('collect_keys') or () if k != 'heatmap_imgs'
            ]
            pack = dict(
                type='PackPoseKeypoints',
                double=heatmaps.pop('double', False),
                collect_keys=tuple(keys))
            if 'meta_keys' in t:
                pack['meta_keys'] = t['meta_keys']
            tail.append(pack)
        else:
            raise ValueError(f'{where}: cannot move {t["type"]} after '
                             f'{HEATMAPS} to the device')
    if not tail or tail[-1]['type'] != 'PackPoseKeypoints':
        raise ValueError(f'{where}: the pipeline must end with one of {PACKS}')
    heatmaps.pop('type')
    heatmaps.pop('double', None)
    return pipeline[:start] + tail, heatmaps


def _nest(path: list, value: dict) -> dict:
    for key in reversed(path):
        value = {key: value}
    return value


def _data_preprocessor(model: dict, heatmaps: dict) -> dict:
    """The base model's data preprocessor with the heatmaps drawn by it."""
    base = dict(model.get('data_preprocessor') or {})
    if base.get('type') == 'MultiModalDataPreprocessor':
        pose = base['preprocessors']['heatmap_imgs']
        return dict(
            type='MultiModalHeatmapDataPreprocessor',
            preprocessors=dict(
                heatmap_imgs=_heatmap_preprocessor(pose, heatmaps)))
    return _heatmap_preprocessor(base, heatmaps)


def _heatmap_preprocessor(base: dict, heatmaps: dict) -> dict:
    if base.get('type',
                'ActionDataPreprocessor') not in ('ActionDataPreprocessor',
                                                  'HeatmapDataPreprocessor'):
        raise ValueError(f'cannot draw heatmaps in {base["type"]}')
    # Normalisation and blending of the base carry over.
    kept = {k: base[k] for k in ('mean', 'std', 'blending') if k in base}
    heatmaps = dict(heatmaps)
    scale = MAP_SCALE[heatmaps.pop('dtype', 'float32')]
    if scale != 1:
        # The loader stored maps x scale (uint8); the device draws them in
        # [0, 1], so the same normalisation is that of maps / scale.
        kept['mean'] = [m / scale for m in kept.get('mean', [0.])]
        kept['std'] = [v / scale for v in kept.get('std', [1.])]
    preprocessor = dict(type='HeatmapDataPreprocessor', **kept, **heatmaps)
    # Replace the base's (its other keys do not apply); MMEngine keeps a
    # `_delete_` that has nothing to replace, so only when there is one.
    return dict(preprocessor, _delete_=True) if base else preprocessor


def render_on_device(cfg) -> Tuple[dict, dict, dict, dict]:
    """The overrides that make ``cfg`` draw its heatmaps on the device.

    Args:
        cfg: A config (``_base_`` inside a config file) whose train, val
            and test pipelines draw heatmaps with ``GeneratePoseHeatmaps``
            of the same options (``double`` aside).

    Returns:
        tuple[dict]: ``model``, ``train_dataloader``, ``val_dataloader`` and
        ``test_dataloader`` overrides to merge into ``cfg``.

    Raises:
        ValueError: A pipeline does not end as expected, or the pipelines
            draw different heatmaps.
    """
    loaders, options = [], {}
    for name in LOADERS:
        pipeline, path = _find_pipeline(cfg[name]['dataset'], name)
        pipeline, options[name] = _swap_tail(pipeline, name)
        loaders.append(dict(dataset=_nest(path, dict(pipeline=pipeline))))
    heatmaps = options[LOADERS[0]]
    for name in LOADERS[1:]:
        if options[name] != heatmaps:
            raise ValueError(
                f'{name} draws heatmaps with {options[name]}, '
                f'{LOADERS[0]} with {heatmaps}: one data preprocessor '
                'cannot draw both')
    model = dict(data_preprocessor=_data_preprocessor(cfg['model'], heatmaps))
    return (model, *loaders)
