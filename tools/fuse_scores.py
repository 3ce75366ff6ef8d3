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
import sys
import time
from typing import List, Optional, Tuple

import numpy as np

from mmmg.evaluation.score_file import build_score_file, save_scores
from mmmg.fusion.ensemble import METHODS, Ensemble, fit_ensemble
from mmmg.fusion.report import (build_report, format_table, save_report,
                                score_rows)
from mmmg.fusion.score_sources import (align_streams, read_id_list,
                                       read_score_streams)
from mmmg.fusion.submission import (TARGETS, submission_rows,
                                    write_submission)
from mmmg.fusion.weight_search import METRICS
from mmmg.utils.cli import DataFileError, add_debug_arg, cli_main


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--val', nargs='+', default=[], metavar='SPEC',
                        help='validation score files [NAME=]PATH[#STREAM]')
    parser.add_argument('--test', nargs='+', default=[], metavar='SPEC',
                        help='test score files, the same streams')
    parser.add_argument('--val-ids', metavar='LIST',
                        help='ids of stock dumps of the validation split, in '
                        'dump order: an id list, a video list, a MiGA CSV or '
                        'a pose annotation ANN.pkl:SPLIT')
    parser.add_argument('--test-ids', metavar='LIST',
                        help='ids of stock test dumps, as --val-ids')
    parser.add_argument('--out-dir', required=True, help='output folder')
    parser.add_argument('--method', choices=METHODS, default='temperature',
                        help='temperature: temperature-scaled soft voting '
                        '(default); mean: weighted mean of probabilities')
    parser.add_argument('--search', choices=METRICS + ('none', ),
                        default='top1',
                        help='validation metric the weights maximise; none '
                        'uses --weights (or equal weights)')
    parser.add_argument('--weights', nargs='+', type=float,
                        help='fixed weights in stream order (--search none)')
    parser.add_argument('--load', metavar='JSON',
                        help='apply this fusion.json instead of fitting')
    parser.add_argument('--test-list', metavar='LIST',
                        help='order of the submission rows (default: videos '
                        'ascending, clip index numeric)')
    parser.add_argument('--target', choices=TARGETS, default='miga',
                        help='submission labels: raw MiGA labels (default) '
                        'or 0-based class indices')
    parser.add_argument('--score-kind', choices=('auto', 'prob', 'logit'),
                        default='auto',
                        help='whether stock dumps hold probabilities or '
                        'logits (auto: detect per file)')
    parser.add_argument('--partial', action='store_true',
                        help='fuse the samples all streams share instead of '
                        'failing on ids missing from some stream')
    parser.add_argument('--seed', type=int, default=0,
                        help='seed of the weight search')
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


def load_split(specs: List[str], ids_file: Optional[str], score_kind: str,
               partial: bool):
    ids = read_id_list(ids_file) if ids_file else None
    streams = []
    for spec in specs:
        name, path, stream = parse_spec(spec)
        if not osp.isfile(path):
            raise FileNotFoundError(f'score file {path!r} ({spec}) not found')
        streams += read_score_streams(
            path, name=name, stream=stream, ids=ids, score_kind=score_kind)
    ids, stack, labels = align_streams(streams, require_same_ids=not partial)
    classes = next((s.classes for s in streams if s.classes), None)
    sources = {s.name: s.source for s in streams}
    return [s.name for s in streams], ids, stack, labels, classes, sources


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


def save_fused(path: str, ids, labels, fused, classes, meta) -> None:
    records = [
        dict(id=i, label=int(y), scores=dict(fused=p))
        for i, y, p in zip(ids, labels, fused)
    ]
    save_scores(path, build_score_file(records, classes, meta, source=path))


def main(argv=None):
    args = parse_args(argv)
    try:
        return run(args)
    except ValueError as err:
        # The fusion modules report bad input as ValueError.
        raise DataFileError(str(err)) from err


def run(args):
    os.makedirs(args.out_dir, exist_ok=True)
    outputs, splits = {}, {}
    if args.load:
        ensemble = Ensemble.load(args.load)
        print(f'loaded {args.load}: {ensemble.method}, streams '
              f'{ensemble.streams}')
    else:
        names, ids, stack, labels, classes, sources = load_split(
            args.val, args.val_ids, args.score_kind, args.partial)
        print(f'validation: {len(ids)} samples, {stack.shape[2]} classes, '
              f'streams {names}')
        start = time.perf_counter()
        ensemble = fit_ensemble(
            stack, labels, names, method=args.method,
            metric=None if args.search == 'none' else args.search,
            weights=args.weights, seed=args.seed,
            progress=sys.stdout.isatty(),
            meta=dict(val_sources=sources, val_samples=len(ids)))
        print(f'fitted in {time.perf_counter() - start:.2f} s')
        fused = ensemble.fuse(stack)
        outputs['fused_val'] = osp.join(args.out_dir, 'fused_val.pkl')
        save_fused(outputs['fused_val'], ids, labels, fused, classes,
                   dict(split='val', ensemble=ensemble.to_dict()))
        splits['val'] = score_rows(stack, labels, fused, ensemble)
        outputs['fusion'] = osp.join(args.out_dir, 'fusion.json')
        ensemble.save(outputs['fusion'])
    if args.test:
        names, ids, stack, labels, classes, _ = load_split(
            args.test, args.test_ids, args.score_kind, args.partial)
        stack = in_order(names, stack, ensemble)
        fused = ensemble.fuse(stack)
        outputs['fused_test'] = osp.join(args.out_dir, 'fused_test.pkl')
        save_fused(outputs['fused_test'], ids, labels, fused, classes,
                   dict(split='test', ensemble=ensemble.to_dict()))
        order = read_id_list(args.test_list) if args.test_list else None
        outputs['submission'] = osp.join(args.out_dir, 'submission.csv')
        write_submission(outputs['submission'],
                         submission_rows(ids, fused, order, args.target))
        splits['test'] = score_rows(stack, labels, fused, ensemble)

    print('\nstream weights and temperatures:')
    for name, w, t in zip(ensemble.streams, ensemble.weights,
                          ensemble.temperatures):
        print(f'  {name:<24} w={w:.4f}  T={t:.3f}')
    for split, rows in splits.items():
        if rows:
            print(f'\n{split} ({rows[0]["samples"]} labelled samples)')
            print(format_table(rows))
    report = build_report(ensemble, splits, outputs)
    for ext, path in save_report(args.out_dir, report).items():
        outputs[f'report_{ext}'] = path
    print('\nwritten: ' + ', '.join(outputs.values()))
    return report


if __name__ == '__main__':
    cli_main(main)
