"""Evaluate spotted micro-gestures against ground-truth label tables.

PRED_DIR holds ``<vid>_pred.csv`` files (``tools/spot_gestures.py``), GT_DIR
the ``<vid>_label.csv`` files; both are searched at any depth, so GT_DIR may
be the MiGA release tree. Both are in the official layout: no header, rows
``raw_class,start,end`` with end inclusive. Prints precision, recall and F1
at each temporal IoU threshold (overall, with macro-F1, and per class at
--per-class-iou) and frame-level accuracy; ``--out`` saves the full report
(per class, per video) as JSON. See docs/spotting.md, "Evaluation".

Where the spotting tool's ``<vid>_scores.json`` lies beside a prediction,
its segment scores order the matching and its frame count extends frame
accuracy to the whole video (a label table has neither).

A ground-truth video without a prediction counts as all missed unless
``--only-predicted``; predictions without ground truth are listed and left
out. Segments of the non-MG class (``--background``) are left out of both
sides, as the spotter never emits it.

Example:
    python tools/eval_spotting.py work/spot data/imigue --out report.json
"""
import argparse
import json
import os
import os.path as osp
import re
import sys
from typing import Dict, List, Optional, Tuple

from mmmg.apis.spotting import OUTPUT_SUFFIXES
from mmmg.spotting import (MIGA_CLASS_TO_RAW, MIGA_NON_MG_CLASS, Segment,
                           evaluate_spotting, format_report, read_label_csv)
from mmmg.spotting.metrics import IOU_THRESHOLDS
from mmmg.utils.cli import (DataFileError, ToolError, add_debug_arg,
                            check_output_file, cli_main)
from mmmg.utils.io import atomic_open

# The spotting tool's output names.
PRED_SUFFIX = OUTPUT_SUFFIXES['csv']
SCORES_SUFFIX = OUTPUT_SUFFIXES['json']
PRED_FILE = re.compile(r'^(.+)' + re.escape(PRED_SUFFIX) + '$')
GT_FILE = re.compile(r'^(.+)_label\.csv$')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('pred_dir', help='folder of <vid>_pred.csv files')
    parser.add_argument('gt_dir', help='folder of <vid>_label.csv files')
    parser.add_argument(
        '--iou',
        type=float,
        nargs='+',
        default=list(IOU_THRESHOLDS),
        help='temporal IoU thresholds (default: %(default)s)')
    parser.add_argument(
        '--per-class-iou',
        type=float,
        default=0.5,
        help='threshold of the per-class rows of the printed table')
    parser.add_argument(
        '--background',
        default=MIGA_NON_MG_CLASS,
        help='class left out of the evaluation; "none" scores every class '
        '(default: %(default)s)')
    parser.add_argument(
        '--only-predicted',
        action='store_true',
        help='evaluate only the videos that have a prediction file')
    parser.add_argument('--out', help='write the report as JSON here')
    add_debug_arg(parser)
    return parser.parse_args(argv)


def find_files(folder: str, pattern: re.Pattern, option: str) -> Dict:
    """``{vid: path}`` of the files named by ``pattern`` below ``folder``."""
    if not osp.isdir(folder):
        raise ToolError(f'{option} {folder!r} is not a folder')
    found = {}
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=True):
        dirnames.sort()
        for name in sorted(filenames):
            match = pattern.match(name)
            if not match:
                continue
            vid, path = match.group(1), osp.join(dirpath, name)
            if vid in found:
                raise ToolError(f'{option}: two files for video {vid}: '
                                f'{found[vid]} and {path}; keep one')
            found[vid] = path
    return found


def read_prediction(path: str) -> Tuple[List[Segment], Optional[int]]:
    """Segments of ``<vid>_pred.csv`` and the video's frame count; with
    the spotting tool's ``<vid>_scores.json`` beside it, the segments carry
    its scores and the count is its ``num_frames``, else None."""
    segments = read_label_csv(path)
    json_path = path[:-len(PRED_SUFFIX)] + SCORES_SUFFIX
    if not osp.isfile(json_path):
        return segments, None
    try:
        with open(json_path) as f:
            saved = json.load(f)
        num_frames = int(saved['num_frames'])
        scores = {
            (s['label'], int(s['start']), int(s['end'])): s['score']
            for s in saved['segments']
        }
    except (ValueError, KeyError, TypeError) as error:
        raise DataFileError(
            f'{json_path}: not a scores file of tools/spot_gestures.py '
            f'({type(error).__name__}: {error}); remove or rewrite it')
    return [
        Segment(s.label, s.start, s.end,
                float(scores.get((s.label, s.start, s.end), s.score)))
        for s in segments
    ], num_frames


def main(argv=None):
    args = parse_args(argv)
    for option, values in (('--iou', args.iou), ('--per-class-iou',
                                                 [args.per_class_iou])):
        for iou in values:
            if not 0 < iou <= 1:
                raise ToolError(f'{option} {iou}: a temporal IoU threshold '
                                'must be in (0, 1]')
    if args.out:
        check_output_file(args.out, '--out')
    background = None if args.background.lower() == 'none' \
        else args.background
    if background is not None and background not in MIGA_CLASS_TO_RAW:
        raise ToolError(f'--background {background!r} is not a class name; '
                        f'the non-MG class is {MIGA_NON_MG_CLASS!r}')
    preds = find_files(args.pred_dir, PRED_FILE, 'PRED_DIR')
    gts = find_files(args.gt_dir, GT_FILE, 'GT_DIR')
    if not preds:
        raise ToolError(f'PRED_DIR {args.pred_dir!r} has no <vid>_pred.csv '
                        'file')
    if not gts:
        raise ToolError(f'GT_DIR {args.gt_dir!r} has no <vid>_label.csv '
                        'file')
    common = sorted(set(preds) & set(gts))
    if not common:
        raise ToolError(
            f'no video has both a prediction in {args.pred_dir!r} and a '
            f'ground truth in {args.gt_dir!r} (e.g. {sorted(preds)[0]}_pred'
            f'.csv vs {sorted(gts)[0]}_label.csv)')
    unpredicted = sorted(set(gts) - set(preds))
    ungraded = sorted(set(preds) - set(gts))
    evaluated = common if args.only_predicted else sorted(gts)
    videos, num_frames = {}, {}
    for vid in evaluated:
        pred, num_frames[vid] = (
            read_prediction(preds[vid]) if vid in preds else ([], None))
        videos[vid] = (pred, read_label_csv(gts[vid]))
    report = evaluate_spotting(videos, args.iou, background, num_frames)
    report['missing_predictions'] = unpredicted
    report['predictions_without_ground_truth'] = ungraded

    print(format_report(report, args.per_class_iou))
    if unpredicted:
        how = 'left out' if args.only_predicted else 'counted as missed'
        print(f'{len(unpredicted)} ground-truth video(s) without a '
              f'prediction ({how}): {", ".join(unpredicted)}')
    if ungraded:
        print(f'{len(ungraded)} prediction(s) without ground truth (left '
              f'out): {", ".join(ungraded)}')
    if args.out:
        os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
        with atomic_open(args.out, 'w') as f:
            json.dump(report, f, indent=2)
        print(f'report: {args.out}', file=sys.stderr)


if __name__ == '__main__':
    cli_main(main)
