"""Derive a data pipeline from an inherited one, for config files.

MMEngine replaces lists whole when a config inherits another, so a config
that changes one transform of its base's pipeline (the limb stream of a
joint config, say) would have to copy the pipeline. :func:`update_transforms`
states only the change::

    _base_ = ['./posec3d_slowonly_mg36_joint_imigue.py']
    from mmmg.utils.pipelines import update_transforms
    limb = dict(GeneratePoseHeatmaps=dict(with_kp=False, with_limb=True))
    train_dataloader = dict(dataset=dict(pipeline=update_transforms(
        _base_.train_dataloader.dataset.pipeline, **limb)))

An import must come after ``_base_``: MMEngine reads a config with an import
above ``_base_`` as a lazy-import (new-style) config.
"""
from typing import List, Optional


def update_transforms(pipeline: List[dict],
                      **changes: Optional[dict]) -> List[dict]:
    """A copy of ``pipeline`` with the transforms of some types changed.

    Args:
        pipeline (list[dict]): Transform configs, each with a ``type``.
        **changes: For a transform type, the keys to set on every transform
            of that type; ``_delete_=True`` among them replaces the
            transform by one of the same type with only the other keys;
            None drops the transform.

    Returns:
        list[dict]: The new pipeline; ``pipeline`` is not changed.

    Raises:
        ValueError: No type of ``changes`` is in ``pipeline`` (a typo, or
            the wrong pipeline).
    """
    types = [t['type'] for t in pipeline]
    if changes and not set(changes) & set(types):
        raise ValueError(f'none of the transforms {sorted(changes)} is in the '
                         f'pipeline {types}')
    out = []
    for t in pipeline:
        if t['type'] not in changes:
            out.append(t)
            continue
        change = changes[t['type']]
        if change is None:
            continue
        change = dict(change)
        base = dict(type=t['type']) if change.pop('_delete_', False) else t
        out.append(dict(base, **change))
    return out


_LOADER_PIPELINES = (('train_dataloader', 'train_pipeline'),
                     ('val_dataloader', 'val_pipeline'), ('test_dataloader',
                                                          'test_pipeline'))


def update_stream(base, **changes) -> tuple:
    """:func:`update_transforms` on the train, val and test pipelines of a
    base config, and the loader changes that put them in place.

    Args:
        base: The ``_base_`` of a config that defines ``train_pipeline``,
            ``val_pipeline``, ``test_pipeline`` and the three loaders.
        **changes: As for :func:`update_transforms`.

    Returns:
        tuple: ``(train_pipeline, val_pipeline, test_pipeline,
        train_dataloader, val_dataloader, test_dataloader)``; each loader
        change sets the pipeline of its innermost dataset (inside
        ``RepeatDataset`` and other ``dataset=`` wrappers).
    """
    pipelines, loaders = [], []
    for loader, name in _LOADER_PIPELINES:
        pipeline = update_transforms(base[name], **changes)
        change, dataset = dict(pipeline=pipeline), base[loader]['dataset']
        while 'pipeline' not in dataset:
            change, dataset = dict(dataset=change), dataset['dataset']
        pipelines.append(pipeline)
        loaders.append(dict(dataset=change))
    return (*pipelines, *loaders)
