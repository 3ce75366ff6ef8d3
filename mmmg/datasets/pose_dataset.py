"""Skeleton dataset for micro-gesture annotation pickles."""
import os.path as osp
import pickle
from typing import Callable, List, Optional, Sequence, Union

import numpy as np
from mmaction.datasets import PoseDataset
from mmaction.registry import DATASETS
from mmengine.logging import print_log

from ..classes import IMIGUE_CLASSES, get_classes
from ..utils.cli import DataFileError


def load_pose_annotations(ann_file: str,
                          split: Optional[str] = None) -> List[dict]:
    """The samples of ``split`` (all when None) in a pose pickle.

    Raises:
        DataFileError: The file is missing, truncated, not a pickle, not a
            pose annotation (e.g. a score pickle), or the split is unknown
            or empty; the message names the file and the fix.
    """
    if not osp.isfile(ann_file):
        raise DataFileError(f'annotation file {ann_file!r} not found; check '
                            'the path (or --data-root)')
    try:
        with open(ann_file, 'rb') as f:
            data = pickle.load(f)
    except Exception as e:  # truncated or foreign files fail many ways
        raise DataFileError(
            f'{ann_file}: not a readable annotation pickle ({type(e).__name__}'
            f': {e}); the file is truncated or of another format, write it '
            'again with the converter') from e
    if isinstance(data, dict) and 'format' in data and 'samples' in data:
        raise DataFileError(
            f'{ann_file} is a score pickle (tools/test.py --dump), not an '
            'annotation; pass the annotation written by tools/pseudo_label.py'
            ' or a converter')
    if not isinstance(data, dict) or not isinstance(
            data.get('annotations'), list):
        raise DataFileError(f'{ann_file}: not a pose annotation pickle (no '
                            '`annotations` list); write it with a converter')
    if split is None:
        return data['annotations']
    splits = data.get('split') or {}
    if split not in splits:
        raise DataFileError(
            f'{ann_file} has no split {split!r}; it has '
            f'{", ".join(map(repr, splits)) or "none"}: set the dataset\'s '
            'split to one of them')
    wanted = set(splits[split])
    samples = [a for a in data['annotations'] if a.get('frame_dir') in wanted]
    if not samples:
        raise DataFileError(
            f'{ann_file}: split {split!r} has no samples; drop this loader '
            '(e.g. test_dataloader for a release without a test split) or '
            'pick another split')
    return samples


@DATASETS.register_module()
class MGPoseDataset(PoseDataset):
    """MMAction2 ``PoseDataset`` that gives every sample a stable id.

    The id (``sample_id``, the clip name stored as ``frame_dir``) travels to
    the model outputs through :class:`PackMGInputs`, so score pickles and
    fusion join samples by id rather than by list position. Labels are
    range-checked against ``classes`` when the annotation file is loaded;
    ``-1`` marks a hidden label (the challenge test split).

    With ``data_prefix=dict(video=ROOT)`` every sample also gets
    ``filename = ROOT/<video_path>``, the long video its clip was cut from
    (``video_path`` and ``start`` are written by the iMiGUE converter), for
    RGB+pose pipelines that decode the segment with
    :class:`MMDecodeSegment`. Unlike stock ``PoseDataset``, ``frame_dir``
    stays the clip id.

    Args:
        ann_file (str): Annotation pickle in MMAction2's pose format.
        pipeline (list): Processing pipeline.
        split (str, optional): Split name in ``ann_file['split']``.
        classes (Sequence[str] | str): Class names, or a name in
            ``CLASS_LISTS`` (``'smg'``); defaults to iMiGUE's 32.
        labelled_fraction (float): Keep a seeded random share of the
            samples (at least one), e.g. 0.1 for semi-supervised training on
            10% of the labels. Defaults to 1 (all).
        subset_seed (int): Seed of that draw. Defaults to 0.
        **kwargs: Passed to :class:`mmaction.datasets.PoseDataset`.
    """

    def __init__(self,
                 ann_file: str,
                 pipeline: List[Union[dict, Callable]],
                 split: Optional[str] = None,
                 classes: Sequence[str] = IMIGUE_CLASSES,
                 labelled_fraction: float = 1.0,
                 subset_seed: int = 0,
                 **kwargs) -> None:
        if not 0 < labelled_fraction <= 1:
            raise ValueError('labelled_fraction must be in (0, 1], got '
                             f'{labelled_fraction}')
        self.labelled_fraction = labelled_fraction
        self.subset_seed = subset_seed
        data_prefix = dict(kwargs.pop('data_prefix', None) or {})
        self.video_root = data_prefix.pop('video', None)
        metainfo = dict(classes=get_classes(classes))
        metainfo.update(kwargs.pop('metainfo', None) or {})
        super().__init__(
            ann_file,
            pipeline,
            split=split,
            metainfo=metainfo,
            data_prefix=data_prefix,
            **kwargs)

    def load_data_list(self) -> List[dict]:
        data_list = load_pose_annotations(self.ann_file, self.split)
        num_classes = len(self.metainfo['classes'])
        seen = set()
        for info in data_list:
            sample_id = str(info['frame_dir'])
            if sample_id in seen:
                raise DataFileError(
                    f'{self.ann_file}: sample id {sample_id!r} appears twice '
                    f'in split {self.split!r}')
            seen.add(sample_id)
            label = int(info.get('label', -1))
            if not -1 <= label < num_classes:
                raise DataFileError(
                    f'{self.ann_file}: sample {sample_id!r} has label '
                    f'{label}, outside [0, {num_classes})')
            info['sample_id'] = sample_id
            if self.video_root is not None:
                if not info.get('video_path') or 'start' not in info:
                    raise DataFileError(
                        f'{self.ann_file}: sample {sample_id!r} has no '
                        '`video_path`/`start`, so its RGB frames cannot be '
                        'found; re-run data_prep/imigue_to_mmaction.py with '
                        'the videos present')
                info['filename'] = osp.join(self.video_root,
                                            info['video_path'])
        if self.labelled_fraction < 1:
            data_list = self._subset(data_list)
        return data_list

    def _subset(self, data_list: List[dict]) -> List[dict]:
        keep = max(1, round(self.labelled_fraction * len(data_list)))
        rng = np.random.default_rng(self.subset_seed)
        picked = np.sort(rng.choice(len(data_list), keep, replace=False))
        data_list = [data_list[i] for i in picked]
        classes = {info.get('label', -1) for info in data_list}
        print_log(
            f'{self.ann_file} ({self.split}): kept {keep} samples '
            f'({self.labelled_fraction:.0%}, seed {self.subset_seed}) '
            f'covering {len(classes - {-1})} of '
            f'{len(self.metainfo["classes"])} classes',
            logger='current')
        return data_list
