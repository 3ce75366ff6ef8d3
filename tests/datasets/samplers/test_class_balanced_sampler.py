"""ClassBalancedSampler: draw probabilities against a numpy reference, the
class distribution of real draws, determinism per (seed, epoch), a real
2-process gloo run, and a RepeatDataset of the real pose dataset."""
import os.path as osp

import numpy as np
import pytest
import torch
import torch.multiprocessing as mp
from mmengine.dataset import RepeatDataset

from mmmg.datasets import MGPoseDataset
from mmmg.datasets.samplers import ClassBalancedSampler, class_sampling_probs

# A long tail: 60 / 15 / 4 / 1 samples of classes 0..3.
COUNTS = (60, 15, 4, 1)


class Labelled:
    """The part of a dataset the sampler reads."""

    def __init__(self, labels):
        self.labels = list(labels)

    def __len__(self):
        return len(self.labels)

    def get_data_info(self, i):
        return dict(label=self.labels[i])


def long_tail_labels():
    # Interleaved, so that positions say nothing about classes.
    labels = np.concatenate([np.full(n, c) for c, n in enumerate(COUNTS)])
    return np.random.default_rng(0).permutation(labels)


def reference_class_probs(power):
    """Class c is drawn in proportion to n_c ** (1 - power)."""
    n = np.array(COUNTS, dtype=np.float64)
    return n**(1 - power) / (n**(1 - power)).sum()


@pytest.mark.parametrize('power', [0, 0.5, 1])
def test_probabilities_follow_the_power_law(power):
    labels = long_tail_labels()
    probs = class_sampling_probs(labels, power)
    assert probs.sum() == pytest.approx(1)
    per_class = np.array([probs[labels == c].sum() for c in range(4)])
    np.testing.assert_allclose(per_class, reference_class_probs(power))
    # Samples of one class are alike.
    for c in range(4):
        assert np.ptp(probs[labels == c]) < 1e-15


@pytest.mark.parametrize('power', [0, 0.5, 1])
def test_drawn_classes_match_the_distribution(power):
    labels = long_tail_labels()
    sampler = ClassBalancedSampler(Labelled(labels), power=power, seed=1)
    drawn = []
    for epoch in range(100):
        sampler.set_epoch(epoch)
        indices = list(sampler)
        assert len(indices) == len(sampler) == len(labels)  # epoch length
        drawn += indices
    freq = np.bincount(labels[drawn], minlength=4) / len(drawn)
    # 8,000 draws: a standard error below 0.006 for every class.
    np.testing.assert_allclose(freq, reference_class_probs(power), atol=0.025)


def test_sequence_is_fixed_by_seed_and_epoch():
    data = Labelled(long_tail_labels())
    a, b = ClassBalancedSampler(
        data, seed=5), ClassBalancedSampler(
            data, seed=5)
    assert list(a) == list(b)
    first = list(a)
    a.set_epoch(1)
    assert list(a) != first
    b.set_epoch(1)
    assert list(a) == list(b)
    assert list(ClassBalancedSampler(data, seed=6)) != first


def test_bad_labels_and_power_are_refused():
    with pytest.raises(ValueError, match=r'sample 1 has no label \(-1\)'):
        ClassBalancedSampler(Labelled([0, -1, 2]), seed=0)
    with pytest.raises(ValueError, match='sample 0 of Labelled has label'):
        ClassBalancedSampler(Labelled([[0, 1]]), seed=0)
    with pytest.raises(ValueError, match=r'power must lie in \[0, 1\]'):
        ClassBalancedSampler(Labelled([0]), power=2, seed=0)


def test_repeat_dataset_of_the_pose_dataset(tiny_pose_ann):
    pose = MGPoseDataset(
        ann_file=tiny_pose_ann, pipeline=[], split='train', num_classes=32)
    repeated = RepeatDataset(pose, times=3)
    sampler = ClassBalancedSampler(repeated, power=1, seed=0)
    labels = np.array(
        [pose.get_data_info(i)['label'] for i in range(len(pose))])
    assert len(sampler) == 3 * len(pose)
    drawn = labels[np.array(list(sampler)) % len(pose)]
    assert set(drawn) <= set(labels)


def _ddp_worker(rank, world_size, init_file, out_dir):
    import torch.distributed as dist
    dist.init_process_group(
        'gloo',
        init_method=f'file://{init_file}',
        rank=rank,
        world_size=world_size)
    try:
        sampler = ClassBalancedSampler(Labelled(long_tail_labels()), seed=7)
        sampler.set_epoch(2)
        torch.save(list(sampler), osp.join(out_dir, f'rank{rank}.pt'))
    finally:
        dist.destroy_process_group()


def test_two_processes_split_the_single_process_sequence(tmp_path):
    mp.spawn(
        _ddp_worker,
        args=(2, str(tmp_path / 'init'), str(tmp_path)),
        nprocs=2,
        join=True)
    ranks = [torch.load(tmp_path / f'rank{r}.pt') for r in range(2)]
    n = len(long_tail_labels())
    assert [len(r) for r in ranks] == [n // 2, n // 2]
    single = ClassBalancedSampler(Labelled(long_tail_labels()), seed=7)
    single.set_epoch(2)
    interleaved = [i for pair in zip(*ranks) for i in pair]
    assert interleaved == list(single)
