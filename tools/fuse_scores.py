"""Fuse the score pickles of several streams into one ensemble.

Temperatures (one per stream) and fusion weights are fitted on validation
scores, saved to ``fusion.json`` and applied to the test scores; samples are
joined by id, never by position. Writes to ``--out-dir``: ``fusion.json``,
``fused_val.pkl`` / ``fused_test.pkl`` (mmmg score pickles),
``submission.csv`` (``Id,Target``) and ``report.{md,json,png}``.

A score file is given as ``[NAME=]PATH[#STREAM]``: an mmmg score pickle
(``tools/test.py --dump``) or a stock MMAction2 1.1.0 / 1.2.0 ``--dump``
(then pass ``--val-ids`` / ``--test-ids``, the list the dump was tested on,
unless the records carry ``sample_id``). A file with several streams (an
RGBPoseConv3D's ``rgb`` and ``pose``) gives one stream each, named
``NAME.rgb``, ``NAME.pose``; ``#STREAM`` takes only one of them.

Examples:
    # fit on validation, apply to test, write the submission
    python tools/fuse_scores.py \\
        --val joint=work/joint/val.pkl limb=work/limb/val.pkl \\
              rgbpose=work/rgbpose/val.pkl \\
        --test joint=work/joint/test.pkl limb=work/limb/test.pkl \\
               rgbpose=work/rgbpose/test.pkl \\
        --search macro_f1 --out-dir work/fusion

    # apply saved weights and temperatures to new test scores
    python tools/fuse_scores.py --load work/fusion/fusion.json \\
        --test joint=... limb=... rgbpose=... --out-dir work/fusion_b
"""
import argparse
import os
import os.path as osp
import shutil
import sys
import tempfile
import time
from functools import partial
from typing import Callable, List, NamedTuple, Optional, Tuple

import numpy as np

from mmmg.evaluation.score_file import build_score_file, save_scores
from mmmg.fusion.ensemble import METHODS, Ensemble, fit_ensemble
from mmmg.fusion.ma52_submission import (ma52_submission_rows,
                                         write_ma52_submission)
from mmmg.fusion.provenance import check_provenance, stream_provenance
from mmmg.fusion.report import (build_report, format_table, save_report,
                                score_rows)
from mmmg.fusion.score_sources import (StreamScores, align_streams,
                                       read_id_list, read_score_streams)
from mmmg.fusion.submission import TARGETS, submission_rows, write_submission
from mmmg.fusion.weight_search import METRICS
from mmmg.utils.cli import (DataFileError, add_debug_arg, check_output_dir,
                            cli_main)

# Every file a run may write; a run replaces the whole set.
OUTPUTS = ('fusion.json', 'fused_val.pkl', 'fused_test.pkl', 'submission.csv',
           'submission.zip', 'report.md', 'report.json', 'report.png')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        '--val',
        nargs='+',
        default=[],
        metavar='SPEC',
        help='validation score files [NAME=]PATH[#STREAM]')
    parser.add_argument(
        '--test',
        nargs='+',
        default=[],
        metavar='SPEC',
        help='test score files, the same streams')
    parser.add_argument(
        '--val-ids',
        metavar='LIST',
        help='ids of stock dumps of the validation split, in '
        'dump order: an id list, a video list, a MiGA CSV or '
        'a pose annotation ANN.pkl:SPLIT')
    parser.add_argument(
        '--test-ids',
        metavar='LIST',
        help='ids of stock test dumps, as --val-ids')
    parser.add_argument('--out-dir', required=True, help='output folder')
    parser.add_argument(
        '--method',
        choices=METHODS,
        default='temperature',
        help='temperature: temperature-scaled soft voting '
        '(default); mean: weighted mean of probabilities')
    parser.add_argument(
        '--search',
        choices=METRICS + ('none', ),
        default='top1',
        help='validation metric the weights maximise; none '
        'uses --weights (or equal weights)')
    parser.add_argument(
        '--weights',
        nargs='+',
        type=float,
        help='fixed weights in stream order (--search none)')
    parser.add_argument(
        '--load',
        metavar='JSON',
        help='apply this fusion.json instead of fitting')
    parser.add_argument(
        '--test-list',
        metavar='LIST',
        help='order of the submission rows (default: videos '
        'ascending, clip index numeric)')
    parser.add_argument(
        '--target',
        choices=TARGETS + ('ma52', ),
        default='miga',
        help='submission: submission.csv with raw MiGA labels (default) '
        'or 0-based class indices; ma52: MAC 2024\'s submission.zip '
        '(prediction.csv with body and action classes)')
    parser.add_argument(
        '--score-kind',
        choices=('auto', 'prob', 'logit'),
        default='auto',
        help='whether stock dumps hold probabilities or '
        'logits (auto: detect per file)')
    parser.add_argument(
        '--partial',
        action='store_true',
        help='fuse the samples all streams share instead of '
        'failing on ids missing from some stream')
    parser.add_argument(
        '--seed', type=int, default=0, help='seed of the weight search')
    add_debug_arg(parser)
    args = parser.parse_args(argv)
    if not args.val and not args.load:
        parser.error('give --val score files to fit on, or --load a '
                     'fusion.json')
    if args.load and args.val:
        parser.error('--load applies a saved ensemble; it takes no --val')
    if args.load and not args.test:
        parser.error('--load needs --test score files')
    if args.weights and args.search != 'none':
        parser.error('--weights are fixed weights: add --search none')
    return args


def parse_spec(spec: str) -> Tuple[Optional[str], str, Optional[str]]:
    """``[NAME=]PATH[#STREAM]`` -> ``(name, path, stream)``."""
    name, sep, rest = spec.partition('=')
    if not sep or os.sep in name:
        name, rest = None, spec
    path, _, stream = rest.partition('#')
    return name or None, path, stream or None


class Split(NamedTuple):
    """The streams of one split, joined by sample id."""
    streams: List[StreamScores]
    ids: List[str]
    stack: np.ndarray
    labels: np.ndarray
    classes: Optional[List[str]]

    @property
    def names(self) -> List[str]:
        return [s.name for s in self.streams]


def load_split(split: str, specs: List[str], ids_file: Optional[str],
               score_kind: str, partial: bool) -> Split:
    ids = read_id_list(ids_file) if ids_file else None
    streams = []
    for spec in specs:
        name, path, stream = parse_spec(spec)
        if not osp.isfile(path):
            raise FileNotFoundError(f'score file {path!r} ({spec}) not found')
        streams += read_score_streams(
            path, name=name, stream=stream, ids=ids, score_kind=score_kind)
    ids, stack, labels = align_streams(streams, require_same_ids=not partial)
    named = [s for s in streams if s.classes]
    for s in named[1:]:
        if s.classes != named[0].classes:
            raise ValueError(f'{s.source} and {named[0].source} name the '
                             'classes differently')
    print(f'{split}: {len(ids)} samples, {stack.shape[2]} classes')
    for s in streams:
        kind = 'probabilities' if s.kind == 'prob' else 'logits (softmaxed)'
        print(f'  {s.name:<24} {kind:<19} {s.source}')
    return Split(streams, ids, stack, labels,
                 named[0].classes if named else None)


def in_order(names: List[str], stack: np.ndarray,
             ensemble: Ensemble) -> np.ndarray:
    """The test stack in the ensemble's stream order."""
    missing = sorted(set(ensemble.streams) - set(names))
    extra = sorted(set(names) - set(ensemble.streams))
    if missing or extra:
        raise ValueError(f'the test streams {names} differ from the fitted '
                         f'ones {ensemble.streams}: missing {missing}, '
                         f'unexpected {extra}')
    return stack[[names.index(n) for n in ensemble.streams]]


def fused_writer(split: Split, fused: np.ndarray,
                 meta: dict) -> Callable[[str], None]:
    """Validate the fused score file now; write it when called."""
    records = [
        dict(id=i, label=int(y), scores=dict(fused=p))
        for i, y, p in zip(split.ids, split.labels, fused)
    ]
    score_file = build_score_file(records, split.classes, meta)
    return partial(save_scores, score_file=score_file)


def fit(args, val: Split, provenance: dict) -> Ensemble:
    if not (val.labels >= 0).any():
        raise ValueError('the validation files have no labels (' +
                         ', '.join(s.source
                                   for s in val.streams) + '); fitting needs '
                         'validation scores with labels')
    start = time.perf_counter()
    ensemble = fit_ensemble(
        val.stack,
        val.labels,
        val.names,
        method=args.method,
        metric=None if args.search == 'none' else args.search,
        weights=args.weights,
        seed=args.seed,
        progress=sys.stdout.isatty(),
        meta=dict(
            val_sources={s.name: s.source
                         for s in val.streams},
            val_samples=len(val.ids),
            provenance=provenance))
    print(f'fitted in {time.perf_counter() - start:.2f} s')
    return ensemble


def replace_outputs(out_dir: str, write: Callable[[str], None]) -> None:
    """Write the outputs into a folder beside ``out_dir``, then move them
    in and remove an earlier run's outputs that this run does not write,
    so the folder never mixes two runs and a failure leaves it as it
    was."""
    out_dir = osp.abspath(out_dir)
    parent = osp.dirname(out_dir)
    os.makedirs(parent, exist_ok=True)
    stage = tempfile.mkdtemp(prefix=f'.{osp.basename(out_dir)}.', dir=parent)
    try:
        write(stage)
        written = sorted(os.listdir(stage))
        os.makedirs(out_dir, exist_ok=True)
        for name in set(OUTPUTS) - set(written):
            if osp.isfile(osp.join(out_dir, name)):
                os.remove(osp.join(out_dir, name))
        for name in written:
            os.replace(osp.join(stage, name), osp.join(out_dir, name))
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def main(argv=None):
    args = parse_args(argv)
    try:
        return run(args)
    except ValueError as err:
        # The fusion modules report bad input as ValueError.
        raise DataFileError(str(err)) from err


def run(args) -> dict:
    """Read and check every input, compute everything, then write the
    output set as a whole."""
    check_output_dir(args.out_dir, '--out-dir')
    writers, splits = {}, {}
    test = None if not args.test else load_split(
        'test', args.test, args.test_ids, args.score_kind, args.partial)
    if args.load:
        ensemble = Ensemble.load(args.load)
        print(f'loaded {args.load}: {ensemble.method}, streams '
              f'{ensemble.streams}')
        reference, against = ensemble.meta.get('provenance', {}), args.load
    else:
        val = load_split('validation', args.val, args.val_ids, args.score_kind,
                         args.partial)
        reference = {s.name: stream_provenance(s) for s in val.streams}
        against = 'the validation files'
    if test:
        # Before the fit: a mismatch should not wait for the search.
        check_provenance(reference, test.streams, against)
    if not args.load:
        ensemble = fit(args, val, reference)
        fused = ensemble.fuse(val.stack)
        writers['fused_val.pkl'] = fused_writer(
            val, fused, dict(split='val', ensemble=ensemble.to_dict()))
        splits['val'] = score_rows(val.stack, val.labels, fused, ensemble)
    writers['fusion.json'] = ensemble.save
    if test:
        stack = in_order(test.names, test.stack, ensemble)
        fused = ensemble.fuse(stack)
        writers['fused_test.pkl'] = fused_writer(
            test, fused, dict(split='test', ensemble=ensemble.to_dict()))
        if args.target == 'ma52':
            rows = ma52_submission_rows(test.ids, fused)
            writers['submission.zip'] = partial(
                write_ma52_submission, rows=rows)
        else:
            order = read_id_list(args.test_list) if args.test_list else None
            rows = submission_rows(test.ids, fused, order, args.target)
            writers['submission.csv'] = partial(write_submission, rows=rows)
        splits['test'] = score_rows(stack, test.labels, fused, ensemble)
    print_summary(ensemble, splits)
    outputs = {
        osp.splitext(name)[0]: osp.join(args.out_dir, name)
        for name in writers
    }
    report = build_report(ensemble, splits, outputs)

    def write(stage):
        for name, writer in writers.items():
            writer(osp.join(stage, name))
        save_report(stage, report)

    replace_outputs(args.out_dir, write)
    print(f'\nwritten to {args.out_dir}: ' +
          ', '.join(sorted(os.listdir(args.out_dir))))
    return report


def print_summary(ensemble: Ensemble, splits: dict) -> None:
    print('\nstream weights and temperatures:')
    for name, w, t in zip(ensemble.streams, ensemble.weights,
                          ensemble.temperatures):
        print(f'  {name:<24} w={w:.4f}  T={t:.3f}')
    for split, rows in splits.items():
        if rows:
            print(f'\n{split} ({rows[0]["samples"]} labelled samples)')
            print(format_table(rows))


if __name__ == '__main__':
    cli_main(main)
