"""Clip features of an encoder, for the protocols that need no training of
the encoder: retrieval and MG-based emotion recognition.

A feature file is an ``.npz`` (no pickled objects) with

- ``features``: float32 ``[N, D]``, the backbone output of each clip
  (averaged over test clips when the pipeline makes several);
- ``labels``: int64 ``[N]`` (-1 where hidden);
- ``sample_ids``: str ``[N]``, the dataset's sample ids;
- ``videos``: str ``[N]``, the long video each clip comes from (the
  annotation's ``video``, else the id up to its last ``_``);
- ``checkpoint``: str, where the weights came from.
"""
import os
import os.path as osp
from typing import Dict, Optional

import numpy as np
import torch
from mmaction.registry import MODELS
from mmengine.config import Config
from mmengine.runner import Runner
from tqdm import tqdm

from mmmg.utils.io import atomic_open

FEATURE_KEYS = ('features', 'labels', 'sample_ids', 'videos')


class FeatureFileError(ValueError):
    """A feature file that is missing, malformed or inconsistent."""


def load_encoder(cfg: Config, checkpoint: str) -> torch.nn.Module:
    """The config's model with the checkpoint's ``backbone.`` weights.

    Works for pre-training checkpoints (whose encoder sits under
    ``backbone.``) and for trained recognizers alike; the head, if any,
    keeps its initial weights and is not used.
    """
    from mmmg.engine.checkpoint import read_checkpoint
    if not osp.isfile(checkpoint):
        raise FileNotFoundError(f'checkpoint {checkpoint!r} not found')
    state = read_checkpoint(checkpoint)
    model_cfg = cfg.model.copy()
    # The weights come from ``checkpoint``, not from the config's init.
    model_cfg.backbone = dict(model_cfg.backbone, init_cfg=None)
    model = MODELS.build(model_cfg)
    state = state.get('state_dict', state)
    prefix = 'backbone.'
    backbone = {
        k[len(prefix):]: v
        for k, v in state.items() if k.startswith(prefix)
    }
    if not backbone:
        raise KeyError(f'{checkpoint}: no `{prefix}` weights; is it a '
                       'checkpoint of this encoder?')
    missing, unexpected = model.backbone.load_state_dict(
        backbone, strict=False)
    if missing or unexpected:
        raise KeyError(f'{checkpoint}: backbone weights do not match the '
                       f'config: missing {missing[:5]}, unexpected '
                       f'{unexpected[:5]}')
    return model.eval()


@torch.no_grad()
def extract_features(model: torch.nn.Module,
                     dataloader_cfg: dict,
                     progress: bool = True) -> Dict[str, np.ndarray]:
    """Backbone features of every sample of a dataloader config."""
    loader = Runner.build_dataloader(dataloader_cfg)
    dataset = loader.dataset
    videos = {}
    for i in range(len(dataset)):
        info = dataset.get_data_info(i)
        sid = str(info.get('sample_id', info.get('frame_dir', i)))
        videos[sid] = str(info.get('video') or sid.rsplit('_', 1)[0])
    feats, labels, ids = [], [], []
    for batch in tqdm(
            loader, desc='features', unit='batch', disable=not progress):
        data = model.data_preprocessor(batch, False)
        inputs = data['inputs']
        out = model.backbone(inputs.flatten(0, 1))
        feats.append(
            out.view(inputs.shape[0], inputs.shape[1],
                     -1).mean(1).float().numpy())
        for sample in data['data_samples']:
            ids.append(str(sample.metainfo['sample_id']))
            label = sample.get('gt_labels')
            labels.append(int(label.item) if label is not None else -1)
    return dict(
        features=np.concatenate(feats).astype(np.float32),
        labels=np.asarray(labels, np.int64),
        sample_ids=np.asarray(ids),
        videos=np.asarray([videos[i] for i in ids]))


def save_features(path: str,
                  features: Dict[str, np.ndarray],
                  checkpoint: Optional[str] = None) -> None:
    """Write a feature file atomically."""
    os.makedirs(osp.dirname(path) or '.', exist_ok=True)
    with atomic_open(path, 'wb') as f:
        np.savez(
            f,
            checkpoint=np.asarray(checkpoint or ''),
            **{k: features[k]
               for k in FEATURE_KEYS})


def load_features(path: str) -> Dict[str, np.ndarray]:
    """Read and check a feature file."""
    if not osp.isfile(path):
        raise FeatureFileError(
            f'feature file {path!r} not found; check the path')
    try:
        with np.load(path, allow_pickle=False) as data:
            out = {k: data[k] for k in data.files}
    except (ValueError, OSError) as e:
        # Not numpy's advice to allow pickles: that could run code.
        reason = str(e).split('. ')[0]
        raise FeatureFileError(
            f'{path}: not a feature file ({reason}); write it with '
            'tools/extract_features.py') from e
    missing = [k for k in FEATURE_KEYS if k not in out]
    if missing:
        raise FeatureFileError(f'{path}: missing {missing}; write it with '
                               'tools/extract_features.py')
    n = len(out['features'])
    if out['features'].ndim != 2 or any(
            len(out[k]) != n for k in FEATURE_KEYS):
        raise FeatureFileError(f'{path}: features must be [N, D] with N '
                               'labels, ids and videos')
    if not np.isfinite(out['features']).all():
        raise FeatureFileError(f'{path}: features contain NaN or inf')
    if len(set(out['sample_ids'].tolist())) != n:
        raise FeatureFileError(f'{path}: duplicate sample ids')
    return out
