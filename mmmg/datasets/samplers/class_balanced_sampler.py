"""Class-balanced resampling for long-tailed training sets.

MMAction2 1.x dropped 0.x's ``sample_by_class`` and PYSKL's
``ClassSpecificDistributedSampler`` has no 1.x counterpart, so the long tail
could only be re-weighted in the loss. :class:`ClassBalancedSampler` redraws
each epoch's samples instead: a sample of class ``c`` (``n_c`` training
samples) is drawn with weight ``n_c ** -power``, so a class is drawn with
probability proportional to ``n_c ** (1 - power)``:

- ``power=0``: the natural distribution (every sample alike);
- ``power=0.5``: square-root sampling;
- ``power=1``: every class equally often.

Draws are with replacement and an epoch keeps the dataset's length.
"""
import math
from typing import Iterator, Optional, Sized

import numpy as np
import torch
from mmaction.registry import DATA_SAMPLERS
from mmengine.dist import get_dist_info, sync_random_seed
from torch.utils.data import Sampler


def class_sampling_probs(labels: np.ndarray, power: float) -> np.ndarray:
    """Per-sample draw probabilities: ``n_c ** -power``, normalised.

    Args:
        labels (np.ndarray): Class index of every sample.
        power (float): 0 natural, 0.5 square root, 1 class-uniform.

    Returns:
        np.ndarray: float64 probabilities summing to 1.
    """
    labels = np.asarray(labels, dtype=np.int64)
    if labels.size == 0:
        raise ValueError('ClassBalancedSampler: the dataset is empty')
    if labels.min() < 0:
        bad = int(np.flatnonzero(labels < 0)[0])
        raise ValueError(
            f'ClassBalancedSampler: sample {bad} has no label ({labels[bad]});'
            ' class-balanced sampling needs a labelled training set')
    counts = np.bincount(labels)
    weights = counts[labels].astype(np.float64)**-float(power)
    return weights / weights.sum()


@DATA_SAMPLERS.register_module()
class ClassBalancedSampler(Sampler):
    """Draw training samples with class-dependent probabilities.

    DDP-aware like mmengine's ``DefaultSampler``: the ``world_size`` ranks
    draw one shared sequence from ``seed + epoch`` and take every
    ``world_size``-th index, so ranks are disjoint in position and the
    sequence depends neither on the number of workers nor of processes.

    Args:
        dataset (Sized): Training dataset whose ``get_data_info(i)`` holds
            ``label`` (``RepeatDataset`` / ``ConcatDataset`` included).
        power (float): See the module docstring. Defaults to 0.5.
        seed (int, optional): Shared random seed; synced across ranks when
            None. Defaults to None.
        round_up (bool): Pad the epoch so that every rank gets the same
            number of samples (always true for draws with replacement; kept
            for ``DefaultSampler`` compatibility). Defaults to True.
    """

    def __init__(self,
                 dataset: Sized,
                 power: float = 0.5,
                 seed: Optional[int] = None,
                 round_up: bool = True) -> None:
        if not 0 <= power <= 1:
            raise ValueError(f'ClassBalancedSampler: power must lie in '
                             f'[0, 1], got {power}')
        self.rank, self.world_size = get_dist_info()
        self.dataset = dataset
        self.power = power
        self.seed = sync_random_seed() if seed is None else seed
        self.epoch = 0
        labels = [self._label(i) for i in range(len(dataset))]
        self.probs = torch.from_numpy(class_sampling_probs(labels, power))
        self.num_samples = math.ceil(len(dataset) / self.world_size)
        self.total_size = self.num_samples * self.world_size

    def _label(self, index: int) -> int:
        label = self.dataset.get_data_info(index).get('label')
        if label is None or np.ndim(label) != 0:
            raise ValueError(
                f'ClassBalancedSampler: sample {index} of '
                f'{type(self.dataset).__name__} has label {label!r}; it '
                'needs one class index per sample')
        return int(label)

    def __iter__(self) -> Iterator[int]:
        g = torch.Generator()
        g.manual_seed(self.seed + self.epoch)
        indices = torch.multinomial(
            self.probs, self.total_size, replacement=True, generator=g)
        return iter(indices[self.rank::self.world_size].tolist())

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Called by the runner at each epoch: a fresh draw per epoch."""
        self.epoch = epoch
