"""Which model and data each fused stream comes from, and the check that
test scores come from the models the ensemble was fitted on.

Temperatures and weights fitted on one model's validation scores are
meaningless for another model's test scores, so the test file of every
stream must agree with its validation file (or with the ``fusion.json``
being applied) on the model, and must not score the validation split.
"""
import os.path as osp
from typing import Dict, Mapping, Sequence

from .score_sources import ScoreSourceError, StreamScores

# Provenance that must be equal between a stream's validation and test
# files, where both record it.
SAME_MODEL_KEYS = ('checkpoint_sha256', 'config', 'num_classes', 'classes')
# What identifies the tested data; a test file must not equal its
# validation file in these.
DATA_KEYS = ('ann_file', 'split')
_META_KEYS = ('config', 'checkpoint', 'checkpoint_sha256') + DATA_KEYS


def stream_provenance(stream: StreamScores) -> Dict:
    """The provenance of one stream: its file, class count and names, the
    score kind and what the file's ``meta`` records (config, checkpoint
    and its digest, the tested annotation file and split)."""
    out = dict(
        source=stream.source,
        kind=stream.kind,
        num_classes=int(stream.scores.shape[1]),
        classes=list(stream.classes) if stream.classes else None)
    out.update((key, stream.meta[key]) for key in _META_KEYS
               if stream.meta.get(key) is not None)
    return out


def _comparable(key: str, value):
    # The same file may be given by different relative paths.
    if key in ('config', 'ann_file') and value is not None:
        return osp.basename(str(value))
    return value


def _short(key: str, value) -> str:
    if key.endswith('sha256'):
        return f'{value[:12]}...'
    text = repr(value)
    return text if len(text) <= 60 else f'{text[:57]}...'


def check_provenance(reference: Mapping[str, Dict],
                     streams: Sequence[StreamScores], against: str) -> None:
    """Refuse test streams that differ from the reference in model or that
    score the reference's split.

    Args:
        reference (Mapping[str, dict]): :func:`stream_provenance` of the
            validation streams, by stream name.
        streams (Sequence[StreamScores]): The test streams.
        against (str): What the reference is, for the message (``'the
            validation files'``, a ``fusion.json`` path).

    Raises:
        ScoreSourceError: Naming every file and what differs.
    """
    problems = []
    for stream in streams:
        ref = reference.get(stream.name)
        if ref is None:
            continue
        own = stream_provenance(stream)
        where = f'{own["source"]} (stream {stream.name!r})'
        for key in SAME_MODEL_KEYS:
            mine, theirs = own.get(key), ref.get(key)
            if mine is None or theirs is None or \
                    _comparable(key, mine) == _comparable(key, theirs):
                continue
            problems.append(f'{where} has {key} {_short(key, mine)} but '
                            f'{ref["source"]} has {_short(key, theirs)}')
        data = [_comparable(k, own.get(k)) for k in DATA_KEYS]
        if data != [None, None] and data == [
                _comparable(k, ref.get(k)) for k in DATA_KEYS
        ]:
            tested = ', '.join(f'{k} {v!r}' for k, v in zip(DATA_KEYS, data)
                               if v is not None)
            problems.append(f'{where} scores the data {ref["source"]} was '
                            f'fitted on ({tested})')
    if problems:
        raise ScoreSourceError(
            f'the test files do not match {against}: ' + '; '.join(problems) +
            '; give the test scores of the same models (tools/test.py '
            'with the same config and checkpoint on the test split)')
