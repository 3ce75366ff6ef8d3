"""Cross-modal pseudo-labels from fused scores on an unlabelled split.

Takes the fused score pickle of the unlabelled split (``fused_test.pkl`` of
``tools/fuse_scores.py``), keeps each predicted class's most confident
share (class-aware thresholds, so tail classes are not swamped) and writes
an annotation to train on: the training samples plus the pseudo-labelled
ones. Any stream retrains on it with ``tools/train.py CONFIG
--pseudo-labels OUT``. Prints and writes (JSON + PNG) the selected count
per class and, where the split's true labels are known, the pseudo-labels'
accuracy.

Examples:
    # pose streams: a pose annotation pickle with a 'train_pseudo' split
    python tools/pseudo_label.py work/fusion/fused_test.pkl \\
        --ann-file data/imigue/annotations/imigue_mg36.pkl \\
        --out data/imigue/annotations/imigue_mg36_pseudo.pkl
    # video streams: a clip / segment list
    python tools/pseudo_label.py work/fusion/fused_test.pkl \\
        --train-list data/imigue/annotations/rgb_train.txt \\
        --unlabelled-list data/imigue/annotations/rgb_test.txt \\
        --out data/imigue/annotations/rgb_train_pseudo.txt
    python tools/train.py CONFIG --pseudo-labels OUT
"""
import argparse
import json
import os
import os.path as osp

import numpy as np

from mmmg.evaluation.score_file import label_vector, load_scores, score_matrix
from mmmg.fusion.pseudo_labels import (class_aware_thresholds,
                                       pseudo_label_summary,
                                       select_pseudo_labels,
                                       write_list_pseudo_annotations,
                                       write_pose_pseudo_annotations)
from mmmg.utils import atomic_open
from mmmg.utils.cli import (DataFileError, add_debug_arg, check_output_file,
                            cli_main)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        'scores', help='fused score pickle of the '
        'unlabelled split')
    parser.add_argument(
        '--out', required=True, help='annotation to write (.pkl or a list)')
    parser.add_argument(
        '--ann-file',
        help='pose annotation pickle holding '
        'the training split and the unlabelled samples')
    parser.add_argument(
        '--train-split', default='train', help='training split of --ann-file')
    parser.add_argument(
        '--split-name',
        default='train_pseudo',
        help='split of the written pickle')
    parser.add_argument('--train-list', help='training video list')
    parser.add_argument(
        '--unlabelled-list', help='video list of the unlabelled split')
    parser.add_argument(
        '--stream', help='stream of the score file '
        '(default: its only one)')
    parser.add_argument(
        '--keep-ratio',
        type=float,
        default=0.5,
        help='share of each predicted class to keep')
    parser.add_argument(
        '--min-confidence',
        type=float,
        default=0.5,
        help='no pseudo-label below this confidence')
    parser.add_argument(
        '--max-per-class', type=int, help='at most this many per class')
    parser.add_argument(
        '--report-dir',
        help='where pseudo_labels.json/.png '
        'go (default: next to --out)')
    add_debug_arg(parser)
    args = parser.parse_args(argv)
    lists = args.train_list, args.unlabelled_list
    if bool(args.ann_file) == any(lists):
        parser.error('give --ann-file (pose pickle) or --train-list and '
                     '--unlabelled-list (video lists)')
    if any(lists) and not all(lists):
        parser.error('--train-list and --unlabelled-list go together')
    return args


def format_table(summary: dict, classes) -> str:
    per_class = summary['per_class']
    has_acc = 'accuracy' in per_class
    width = max(len('class'), *(len(c) for c in classes))
    head = (f'{"id":>3}  {"class":<{width}}  {"predicted":>9}  '
            f'{"selected":>8}  {"threshold":>9}' +
            (f'  {"accuracy":>8}' if has_acc else ''))
    lines = [head, '-' * len(head)]
    for c, name in enumerate(classes):
        t = per_class['threshold'][c]
        line = (f'{c:>3}  {name:<{width}}  {per_class["predicted"][c]:>9}  '
                f'{per_class["selected"][c]:>8}  '
                f'{"-" if t is None else f"{t:.4f}":>9}')
        if has_acc:
            acc = per_class['accuracy'][c]
            line += f'  {"-" if acc is None else f"{acc:.2%}":>8}'
        lines.append(line)
    total = (f'selected {summary["selected"]} of {summary["samples"]} '
             'samples')
    if 'accuracy' in summary:
        total += (f'; pseudo-label accuracy {summary["accuracy"]:.2%} on '
                  f'{summary["labelled"]} with known labels')
    return '\n'.join(lines + [total])


def save_chart(path: str, summary: dict, classes) -> None:
    """Selected and predicted counts per class (and accuracy when known)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    per_class = summary['per_class']
    x = np.arange(len(classes))
    fig = Figure(figsize=(max(6., 0.3 * len(classes) + 2), 4.2), dpi=110)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    ax.bar(x, per_class['predicted'], 0.8, color='#c6d4e8', label='predicted')
    ax.bar(x, per_class['selected'], 0.5, color='#4c72b0', label='selected')
    ax.set_xticks(x)
    ax.set_xticklabels([f'{c} {n}' for c, n in enumerate(classes)],
                       rotation=90,
                       fontsize=7)
    ax.set_ylabel('samples')
    ax.set_title(f'pseudo-labels: {summary["selected"]} of '
                 f'{summary["samples"]}')
    if 'accuracy' in per_class:
        acc_ax = ax.twinx()
        acc = [np.nan if a is None else 100 * a for a in per_class['accuracy']]
        acc_ax.plot(x, acc, 'o', color='#dd8452', label='accuracy')
        acc_ax.set_ylim(0, 105)
        acc_ax.set_ylabel('pseudo-label accuracy (%)')
        acc_ax.legend(loc='upper center', fontsize=8)
    ax.legend(loc='upper left', fontsize=8)
    fig.tight_layout()
    with atomic_open(path, 'wb') as f:
        fig.savefig(f, format='png')


def main(argv=None):
    args = parse_args(argv)
    try:
        return run(args)
    except ValueError as err:
        # The fusion modules report bad input as ValueError.
        raise DataFileError(str(err)) from err


def run(args):
    check_output_file(args.out, '--out')
    score_file = load_scores(args.scores)
    streams = score_file['streams']
    stream = args.stream or (streams[0] if len(streams) == 1 else None)
    if stream not in streams:
        raise ValueError(f'{args.scores}: name the stream with --stream; the '
                         f'file has {streams}')
    ids = [s['id'] for s in score_file['samples']]
    probs = score_matrix(score_file, stream).astype(np.float64)
    labels = label_vector(score_file)
    thresholds = class_aware_thresholds(probs, args.keep_ratio,
                                        args.min_confidence)
    selected = select_pseudo_labels(ids, probs, thresholds, args.max_per_class)
    if not selected:
        raise ValueError(f'{args.scores}: no sample reaches its class '
                         'threshold; lower --min-confidence')
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    if args.ann_file:
        written = write_pose_pseudo_annotations(args.ann_file, selected,
                                                args.out, args.train_split,
                                                args.split_name)
    else:
        written = write_list_pseudo_annotations(args.train_list,
                                                args.unlabelled_list, selected,
                                                args.out)
    summary = pseudo_label_summary(probs, thresholds, selected, ids, labels if
                                   (labels >= 0).any() else None)
    summary.update(
        scores=args.scores,
        stream=stream,
        out=args.out,
        training_samples=written,
        keep_ratio=args.keep_ratio,
        min_confidence=args.min_confidence,
        max_per_class=args.max_per_class,
        pseudo_labels=[vars(p) for p in selected])
    classes = score_file['classes'] or [
        f'class {c}' for c in range(probs.shape[1])
    ]
    print(format_table(summary, classes))
    print(f'{written} training samples written to {args.out}')
    report_dir = args.report_dir or osp.dirname(osp.abspath(args.out))
    os.makedirs(report_dir, exist_ok=True)
    stem = osp.join(report_dir, osp.splitext(osp.basename(args.out))[0])
    with atomic_open(f'{stem}_report.json', 'w') as f:
        json.dump(summary, f, indent=2)
        f.write('\n')
    save_chart(f'{stem}_report.png', summary, classes)
    print(f'report: {stem}_report.json, {stem}_report.png')
    return summary


if __name__ == '__main__':
    cli_main(main)
