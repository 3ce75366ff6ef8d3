"""Score files of any origin as named streams, joined by sample id.

Reads mmmg score pickles (``tools/test.py --dump``) and stock MMAction2
``tools/test.py --dump`` files (mmengine's ``DumpResults``: a list of data
samples in dataset order), in both of MMAction2's key conventions (see
:mod:`mmmg.evaluation.predictions`).

Stock dumps carry no sample id unless the pipeline packed one, so their ids
come from the list the dump was tested on, in order.
"""
import csv
import logging
import os.path as osp
import pickle
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, NamedTuple, Optional, Sequence, Tuple

import numpy as np

from mmmg.evaluation.predictions import sample_label, sample_streams
from mmmg.evaluation.score_file import (SCORE_FORMAT, ScoreFileError,
                                        check_score_file)
from mmmg.utils.sorting import natural_key
from mmmg.utils.video_list import read_video_list

SCORE_KINDS = ('auto', 'prob', 'logit')
logger = logging.getLogger(__name__)
# Metainfo keys that identify a sample in a stock dump.
_ID_KEYS = ('sample_id', 'frame_dir')


class ScoreSourceError(ScoreFileError):
    """A score file that cannot be read, or streams that cannot be joined."""


@dataclass
class StreamScores:
    """One stream's scores of one file.

    Attributes:
        name (str): Stream name, e.g. ``'joint'`` or ``'rgbpose.rgb'``.
        ids (list[str]): Sample ids, in file order.
        scores (np.ndarray): ``[N, C]`` float64 probabilities.
        labels (np.ndarray): ``[N]`` int64 labels, -1 where unknown.
        source (str): The file (and ``#stream`` of a multi-stream file).
        classes (list[str], optional): Class names, when the file has them.
        kind (str): What the file held: ``'prob'``, or ``'logit'``
            (softmaxed into :attr:`scores`).
        meta (dict): The file's provenance (mmmg score files; empty for
            stock dumps).
    """
    name: str
    ids: List[str]
    scores: np.ndarray
    labels: np.ndarray
    source: str
    classes: Optional[List[str]] = None
    kind: str = 'prob'
    meta: Dict = field(default_factory=dict)


def some_ids(ids: Iterable, limit: int = 5, count: bool = False) -> str:
    """The first ids of a collection for a message: ``'a', 'b' and 3
    more``, or with ``count`` ``5 ids ('a', 'b' and 3 more)``."""
    ids = list(ids)
    if count and not ids:
        return 'no ids'
    more = f' and {len(ids) - limit} more' if len(ids) > limit else ''
    listed = f'{", ".join(map(repr, ids[:limit]))}{more}'
    return f'{len(ids)} ids ({listed})' if count else listed


def read_id_list(path: str) -> List[str]:
    """Sample ids of a test list, in its order.

    Accepts a pose annotation pickle with a split, ``ANN.pkl:SPLIT`` (the
    split's ``frame_dir`` in annotation order, as ``MGPoseDataset`` yields
    them); a CSV with an ``Id`` column (a MiGA submission or test list);
    or a text list read as ``MGVideoClipDataset`` reads it: a segment list,
    a clip list (``0187_0.mp4 8`` gives ``0187_0``) or one id per line.
    """
    base, sep, split = path.rpartition(':')
    if sep and base.endswith(('.pkl', '.pickle')):
        return _pickle_split_ids(base, split)
    if not osp.isfile(path):
        raise FileNotFoundError(f'id list {path!r} not found')
    if path.endswith('.csv'):
        with open(path, newline='') as f:
            rows = list(csv.DictReader(f))
        if not rows or 'Id' not in rows[0]:
            raise ScoreSourceError(f'{path}: a CSV id list needs an "Id" '
                                   'column')
        return [row['Id'] for row in rows]
    _, entries = read_video_list(path)
    return [entry.sample_id for entry in entries]


def read_pose_split(path: str, split: str) -> Tuple[dict, List[str]]:
    """A pose annotation pickle and the ids of one of its splits, in the
    split's order."""
    data = _load_pickle(path, 'pose annotation')
    if not isinstance(data, dict) or 'annotations' not in data:
        what = ('an mmmg score file' if isinstance(data, dict)
                and data.get('format') == SCORE_FORMAT else 'another file')
        raise ScoreSourceError(
            f'{path}: {what}, not a pose annotation pickle (a dict with '
            '"split" and "annotations", as data_prep writes it)')
    splits = data.get('split')
    if not splits or split not in splits:
        raise ScoreSourceError(f'{path}: no split {split!r} (the file has '
                               f'{sorted(splits or {})})')
    return data, [str(i) for i in splits[split]]


def _pickle_split_ids(path: str, split: str) -> List[str]:
    data, split_ids = read_pose_split(path, split)
    wanted = set(split_ids)
    # The order of MMAction2's PoseDataset: annotations filtered by split.
    return [
        str(a['frame_dir']) for a in data['annotations']
        if str(a['frame_dir']) in wanted
    ]


def _load_pickle(path: str, what: str):
    if not osp.isfile(path):
        raise FileNotFoundError(f'{what} file {path!r} not found')
    with open(path, 'rb') as f:
        try:
            return pickle.load(f)
        except Exception as err:
            raise ScoreSourceError(f'{path}: not a readable pickle '
                                   f'({type(err).__name__}: {err})') from None


def _score_kind(matrices: Sequence[np.ndarray], ids: Sequence[str],
                score_kind: str, path: str) -> str:
    """Whether a file holds probabilities or logits, decided for the whole
    file: ``'auto'`` refuses a file in which only some rows are
    probabilities (a mixed file is broken, not a file of logits)."""
    is_prob = np.stack([(m >= -1e-6).all(1) & (np.abs(m.sum(1) - 1) <= 1e-3)
                        for m in matrices]).all(0)
    if score_kind == 'logit' or (score_kind == 'auto' and not is_prob.any()):
        return 'logit'
    if score_kind == 'prob' and not is_prob.all():
        bad = np.flatnonzero(~is_prob)
        raise ScoreSourceError(
            f'{path}: {len(bad)} samples ({some_ids(ids[i] for i in bad)}) '
            'are not probabilities (negative or not summing to 1); pass '
            "score_kind='logit' if the dump holds logits")
    if not is_prob.all():
        bad = np.flatnonzero(~is_prob)
        raise ScoreSourceError(
            f'{path}: mixes probabilities and other scores: '
            f'{len(bad)} of {len(is_prob)} samples '
            f'({some_ids(ids[i] for i in bad)}) are not probabilities '
            '(negative or not summing to 1) while the others are; a file '
            'must hold one kind: dump it again')
    return 'prob'


def _softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(1, keepdims=True)
    np.exp(z, out=z)
    return z / z.sum(1, keepdims=True)


def _check_finite(scores: np.ndarray, ids: Sequence[str], source: str) -> None:
    bad = np.flatnonzero(~np.isfinite(scores).all(1))
    if len(bad):
        raise ScoreSourceError(
            f'{source}: NaN or infinite scores in {len(bad)} samples '
            f'({some_ids(ids[i] for i in bad)})')


def _check_unique(ids: Sequence[str], source: str) -> None:
    seen, dup = set(), []
    for i in ids:
        if i in seen:
            dup.append(i)
        seen.add(i)
    if dup:
        raise ScoreSourceError(f'{source}: duplicate sample ids '
                               f'({some_ids(sorted(set(dup)))})')


class _FileScores(NamedTuple):
    """What one score file holds, before it is split into streams."""
    ids: List[str]
    rows: Dict[str, list]
    labels: list
    classes: Optional[List[str]] = None
    meta: Optional[dict] = None


def _mmmg_records(data: dict, path: str) -> _FileScores:
    score_file = check_score_file(data, path)
    samples = score_file['samples']
    rows = {
        s: [r['scores'][s] for r in samples]
        for s in score_file['streams']
    }
    return _FileScores([r['id'] for r in samples], rows,
                       [r['label'] for r in samples], score_file['classes'],
                       score_file['meta'])


def _stock_records(records: list, path: str,
                   ids: Optional[Sequence[str]]) -> _FileScores:
    """Ids, labels and per-stream score rows of a DumpResults list."""
    if not records:
        raise ScoreSourceError(f'{path}: the dump holds no samples')
    for i, rec in enumerate(records):
        if not isinstance(rec, dict) or not ('pred_scores' in rec
                                             or 'pred_score' in rec):
            raise ScoreSourceError(
                f'{path}: record {i} is not an MMAction2 prediction (no '
                'pred_scores / pred_score); expected an mmmg score pickle or '
                'a stock tools/test.py --dump file')
    own = [
        next((str(rec[k]) for k in _ID_KEYS if k in rec), None)
        for rec in records
    ]
    if all(i is not None for i in own):
        if ids is not None and list(ids) != own:
            raise ScoreSourceError(
                f'{path}: the records carry sample ids that differ from the '
                'given id list')
        ids = own
    elif ids is None:
        raise ScoreSourceError(
            f'{path}: a stock dump without sample ids; give the list it was '
            'tested on (--val-ids / --test-ids: an id or video list, a MiGA '
            'CSV or ANN.pkl:SPLIT), in the same order')
    elif len(ids) != len(records):
        raise ScoreSourceError(
            f'{path}: {len(records)} samples but the id list has {len(ids)} '
            'ids; it must be the list the dump was tested on')
    rows: Dict[str, list] = {}
    for rec in records:
        for name, score in sample_streams(rec, '').items():
            rows.setdefault(name, []).append(score)
    return _FileScores([str(i) for i in ids], rows,
                       [sample_label(rec) for rec in records])


def _read_file(path: str, ids: Optional[Sequence[str]]) -> _FileScores:
    data = _load_pickle(path, 'score')
    if isinstance(data, dict) and data.get('format') == SCORE_FORMAT:
        content = _mmmg_records(data, path)
    elif isinstance(data, list):
        content = _stock_records(data, path, ids)
    else:
        raise ScoreSourceError(
            f'{path}: unknown format ({type(data).__name__}); expected an '
            'mmmg score pickle or a stock MMAction2 tools/test.py --dump '
            'list')
    _check_unique(content.ids, path)
    labels = np.array([-1 if y is None else int(y) for y in content.labels],
                      dtype=np.int64)
    return content._replace(labels=labels)


def _stream_matrix(rows: list, content: _FileScores,
                   source: str) -> np.ndarray:
    """``[N, C]`` scores of one stream, checked."""
    try:
        scores = np.stack(
            [np.asarray(r, dtype=np.float64).reshape(-1) for r in rows])
    except ValueError:
        sizes = sorted({np.asarray(r).size for r in rows})
        raise ScoreSourceError(f'{source}: samples have different class '
                               f'counts {sizes}') from None
    _check_finite(scores, content.ids, source)
    bad = np.flatnonzero(content.labels >= scores.shape[1])
    if len(bad):
        raise ScoreSourceError(
            f'{source}: labels outside [0, {scores.shape[1]}) for '
            f'{some_ids(content.ids[i] for i in bad)}')
    return scores


def read_score_streams(path: str,
                       name: Optional[str] = None,
                       stream: Optional[str] = None,
                       ids: Optional[Sequence[str]] = None,
                       score_kind: str = 'auto') -> List[StreamScores]:
    """The streams of one score file.

    Args:
        path (str): An mmmg score pickle or a stock MMAction2 dump.
        name (str, optional): Stream name of a one-stream file, or the
            prefix ``NAME.`` of the streams of a multi-stream file.
            Defaults to the streams' own names (a stock single-stream dump:
            the file name without extension).
        stream (str, optional): Take only this stream of the file.
        ids (Sequence[str], optional): Ids of a stock dump's samples, in
            order, when its records carry none.
        score_kind (str): ``'prob'``, ``'logit'`` (softmaxed) or
            ``'auto'``, decided for the whole file: probabilities if every
            row is one, logits if none is; a file mixing both is refused.

    Returns:
        list[StreamScores]: One per stream.
    """
    if score_kind not in SCORE_KINDS:
        raise ValueError(f'score_kind must be one of {SCORE_KINDS}, got '
                         f'{score_kind!r}')
    content = _read_file(path, ids)
    rows = content.rows
    keys = sorted(rows)
    if stream is not None:
        # A single-stream stock dump's stream is anonymous ('').
        if stream not in rows:
            raise ScoreSourceError(
                f'{path}: no stream {stream!r}; the file has '
                f'{[s or "(unnamed)" for s in keys]}')
        keys = [stream]
    sources = {k: f'{path}#{k}' if len(rows) > 1 else path for k in keys}
    matrices = [_stream_matrix(rows[k], content, sources[k]) for k in keys]
    kind = _score_kind(matrices, content.ids, score_kind, path)
    default = osp.splitext(osp.basename(path))[0]
    out = []
    for key, scores in zip(keys, matrices):
        if len(rows) == 1 or stream is not None:
            stream_name = name or key or default
        else:
            stream_name = f'{name}.{key}' if name else key
        out.append(
            StreamScores(stream_name, content.ids,
                         _softmax(scores) if kind == 'logit' else scores,
                         content.labels, sources[key], content.classes, kind,
                         dict(content.meta or {})))
    return out


def align_streams(streams: Sequence[StreamScores],
                  require_same_ids: bool = True
                  ) -> Tuple[List[str], np.ndarray, np.ndarray]:
    """Join streams by sample id, never by position.

    Args:
        streams (Sequence[StreamScores]): The streams to join.
        require_same_ids (bool): Every stream must score the same samples;
            otherwise the samples all streams share are kept (and the
            others logged).

    Returns:
        tuple: ids (natural order: video ascending, clip numeric), the
        ``[S, N, C]`` stack and the ``[N]`` labels (-1 where no file knows
        the label).
    """
    if not streams:
        raise ScoreSourceError('no score streams to join')
    names = [s.name for s in streams]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ScoreSourceError(f'stream names {dup} are used twice (' +
                               ', '.join(s.source
                                         for s in streams if s.name in dup) +
                               '); name them NAME=PATH')
    first = streams[0]
    for s in streams[1:]:
        if s.scores.shape[1] != first.scores.shape[1]:
            raise ScoreSourceError(
                f'{s.source} has {s.scores.shape[1]} classes but '
                f'{first.source} has {first.scores.shape[1]}')
    common = set(first.ids).intersection(*(s.ids for s in streams[1:]))
    union = set(first.ids).union(*(s.ids for s in streams[1:]))
    if common != union:
        lines = [
            f'{s.source}: misses {len(union - set(s.ids))} ids '
            f'({some_ids(sorted(union - set(s.ids), key=natural_key))})'
            for s in streams if union - set(s.ids)
        ]
        if require_same_ids:
            raise ScoreSourceError('the streams score different samples:\n  ' +
                                   '\n  '.join(lines))
        logger.warning(
            f'fusing the {len(common)} samples all streams share; dropped '
            f'{len(union - common)}:\n  ' + '\n  '.join(lines))
    if not common:
        raise ScoreSourceError('the streams share no sample id')
    ids = sorted(common, key=natural_key)
    stack = np.empty((len(streams), len(ids), first.scores.shape[1]))
    labels = np.full(len(ids), -1, dtype=np.int64)
    label_source = [''] * len(ids)
    for k, s in enumerate(streams):
        row = {sid: i for i, sid in enumerate(s.ids)}
        index = np.array([row[sid] for sid in ids])
        stack[k] = s.scores[index]
        own = s.labels[index]
        clash = (own >= 0) & (labels >= 0) & (own != labels)
        if clash.any():
            i = np.flatnonzero(clash)
            raise ScoreSourceError(
                f'{s.source} and {label_source[i[0]]} disagree on the labels '
                f'of {len(i)} samples ({some_ids(ids[j] for j in i)})')
        fill = (own >= 0) & (labels < 0)
        labels[fill] = own[fill]
        for j in np.flatnonzero(fill):
            label_source[j] = s.source
    return ids, stack, labels
