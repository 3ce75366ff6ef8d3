"""Video bags of frozen clip features as an MMEngine dataset."""
from typing import List, Optional, Sequence

import numpy as np
import torch
from mmaction.registry import DATASETS
from mmaction.structures import ActionDataSample
from mmengine.dataset import BaseDataset

from mmmg.evaluation.features import load_features
from .bags import build_bags, read_video_labels


@DATASETS.register_module()
class VideoBagDataset(BaseDataset):
    """One sample per labelled video: its clip features as a padded bag.

    The clips of ``feature_files`` (one file per stream, e.g. a skeleton and
    an RGB encoder, from ``tools/extract_features.py``) are joined by sample
    id, grouped by video and padded to ``max_clips`` (see
    :func:`~mmmg.emotion.build_bags`); the outcome of each video comes from
    ``ann_file``, a CSV ``video,outcome`` (see
    :func:`~mmmg.emotion.read_video_labels`). A sample is
    ``dict(features [K, D], mask [K], data_samples)`` with the label in
    ``gt_labels`` and the video name in the metainfo, batched by
    ``default_collate``.

    Args:
        ann_file (str): The ``video,outcome`` CSV.
        feature_files (list[str]): Feature files of the same clips, one per
            stream; their features are concatenated.
        max_clips (int): Clips per bag K; longer videos keep K clips spread
            evenly. Defaults to 64.
        strict (bool): Fail on videos without a label instead of leaving
            them out. Defaults to False.
        kwargs: ``BaseDataset`` arguments (``test_mode``, ...).
    """

    METAINFO = dict(classes=('lose', 'win'))

    def __init__(self,
                 ann_file: str,
                 feature_files: Sequence[str],
                 max_clips: int = 64,
                 strict: bool = False,
                 **kwargs) -> None:
        if isinstance(feature_files, str) or not feature_files:
            raise ValueError('feature_files must be a list of feature '
                             f'files, got {feature_files!r}')
        self.feature_files = list(feature_files)
        self.max_clips = max_clips
        self.strict = strict
        super().__init__(ann_file=ann_file, **kwargs)

    def load_data_list(self) -> List[dict]:
        bags = build_bags([load_features(p) for p in self.feature_files],
                          read_video_labels(self.ann_file), self.max_clips,
                          self.strict)
        return [
            dict(features=f, mask=m,
                 label=int(y), video=v) for f, m, y, v in zip(
                     bags.features, bags.mask, bags.labels, bags.videos)
        ]

    @property
    def feature_dims(self) -> int:
        """D, the summed width of the streams."""
        return int(self.get_data_info(0)['features'].shape[-1])

    def class_counts(self, num_classes: Optional[int] = None) -> np.ndarray:
        """Videos per class."""
        labels = [self.get_data_info(i)['label'] for i in range(len(self))]
        return np.bincount(
            labels, minlength=num_classes or len(self.metainfo['classes']))

    def prepare_data(self, idx: int) -> dict:
        info = self.get_data_info(idx)
        sample = ActionDataSample().set_gt_labels(info['label'])
        sample.set_metainfo(dict(video=info['video']))
        return dict(
            features=torch.from_numpy(info['features']),
            mask=torch.from_numpy(info['mask']),
            data_samples=sample)


__all__ = ['VideoBagDataset']
