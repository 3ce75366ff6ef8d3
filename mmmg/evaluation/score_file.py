"""The mmmg score pickle: one format for test dumps, fusion and pseudo-labels.

A score file is a pickled dict::

    {
        'format': 'mmmg.scores',
        'version': 1,
        'num_classes': C,
        'classes': [C names] or None,
        'streams': ['joint'],              # or ['rgb', 'pose'] for RGBPose
        'meta': {...},                     # provenance, see below
        'samples': [                       # sorted by id, each id once
            {'id': '0187_3',               # clip name (stable sample id)
             'label': 10,                  # ground truth, None if unknown
             'scores': {'joint': float32[C]}},  # probabilities, clip-averaged
            ...
        ],
    }

Files are written atomically (temp file + rename). ``meta`` records where
the scores come from: ``config``, ``checkpoint``, ``checkpoint_sha256``
(:func:`with_checkpoint_digest`) and the tested ``split`` where the writer
knows them; fusion refuses to join files whose provenance differs.
"""
import hashlib
import os
import os.path as osp
import pickle
from typing import Dict, Optional, Sequence

import numpy as np

from mmmg.utils.io import atomic_open
from mmmg.utils.sorting import natural_key

SCORE_FORMAT = 'mmmg.scores'
SCORE_VERSION = 1


class ScoreFileError(ValueError):
    """A score file or record set that breaks the format."""


def with_checkpoint_digest(meta: Optional[dict]) -> dict:
    """``meta`` plus the SHA-256 of its ``checkpoint`` file, which tells
    two checkpoints apart whatever their paths."""
    meta = dict(meta or {})
    checkpoint = meta.get('checkpoint')
    if checkpoint and osp.isfile(checkpoint):
        digest = hashlib.sha256()
        with open(checkpoint, 'rb') as f:
            for block in iter(lambda: f.read(2**20), b''):
                digest.update(block)
        meta['checkpoint_sha256'] = digest.hexdigest()
    return meta


def build_score_file(records: Sequence[dict],
                     classes: Optional[Sequence[str]] = None,
                     meta: Optional[dict] = None,
                     source: str = '<records>') -> dict:
    """Validate records and assemble a score file dict.

    Args:
        records: Dicts with ``id``, ``label`` and ``scores`` (stream name to
            a 1-D array of class probabilities).
        classes: Class names, if known.
        meta: Free-form provenance.
        source: Name used in error messages (usually a file path).
    """
    if not records:
        raise ScoreFileError(f'{source}: no samples')
    streams = sorted(records[0]['scores'])
    num_classes = None
    by_id: Dict[str, dict] = {}
    for rec in records:
        sid = str(rec['id'])
        if sid in by_id:
            raise ScoreFileError(f'{source}: duplicate sample id {sid!r}')
        if sorted(rec['scores']) != streams:
            raise ScoreFileError(
                f'{source}: sample {sid!r} has streams '
                f'{sorted(rec["scores"])}, expected {streams}')
        scores = {}
        for name, value in rec['scores'].items():
            value = np.asarray(value, dtype=np.float32).reshape(-1)
            if num_classes is None:
                num_classes = value.size
            if value.size != num_classes:
                raise ScoreFileError(
                    f'{source}: sample {sid!r} stream {name!r} has '
                    f'{value.size} classes, expected {num_classes}')
            if not np.isfinite(value).all():
                raise ScoreFileError(f'{source}: sample {sid!r} stream '
                                     f'{name!r} has NaN or infinite scores')
            scores[name] = value
        label = rec.get('label')
        label = None if label is None or int(label) < 0 else int(label)
        if label is not None and label >= num_classes:
            raise ScoreFileError(f'{source}: sample {sid!r} has label '
                                 f'{label} but only {num_classes} classes')
        by_id[sid] = dict(id=sid, label=label, scores=scores)
    if classes is not None and len(classes) != num_classes:
        raise ScoreFileError(f'{source}: {len(classes)} class names for '
                             f'{num_classes} classes')
    return dict(
        format=SCORE_FORMAT,
        version=SCORE_VERSION,
        num_classes=num_classes,
        classes=list(classes) if classes is not None else None,
        streams=streams,
        meta=dict(meta or {}),
        samples=[by_id[k] for k in sorted(by_id, key=natural_key)])


def save_scores(path: str, score_file: dict) -> None:
    """Write a score file atomically."""
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    with atomic_open(path, 'wb') as f:
        pickle.dump(score_file, f, protocol=pickle.HIGHEST_PROTOCOL)


def load_scores(path: str) -> dict:
    """Load and validate an mmmg score file."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'score file {path!r} not found')
    with open(path, 'rb') as f:
        try:
            data = pickle.load(f)
        except Exception as err:
            raise ScoreFileError(f'{path}: not a readable pickle '
                                 f'({type(err).__name__}: {err})') from None
    return check_score_file(data, path)


def check_score_file(data, source: str) -> dict:
    """Validate the unpickled content of a score file (named ``source`` in
    messages); returns it rebuilt by :func:`build_score_file`."""
    if not isinstance(data, dict) or data.get('format') != SCORE_FORMAT:
        raise ScoreFileError(f'{source}: not an mmmg score file '
                             f'(no "format": "mmmg.scores" key)')
    if data.get('version') != SCORE_VERSION:
        raise ScoreFileError(f'{source}: unsupported version '
                             f'{data.get("version")!r}')
    return build_score_file(
        data['samples'], data.get('classes'), data.get('meta'), source=source)


def score_matrix(score_file: dict, stream: str) -> np.ndarray:
    """``[N, C]`` scores of one stream in sample order."""
    return np.stack([s['scores'][stream] for s in score_file['samples']])


def label_vector(score_file: dict) -> np.ndarray:
    """``[N]`` labels in sample order, -1 where unknown."""
    return np.array([
        -1 if s['label'] is None else s['label'] for s in score_file['samples']
    ],
                    dtype=np.int64)
