"""Write a deterministic toy iMiGUE / MiGA release (skeletons, labels, RGB).

The files land where the MiGA track-1 release puts them, so every reader and
converter of the real data runs on the toy unchanged; see
data_prep/toy/imigue_release.py for what is drawn and how it deviates from
the real data (320x180 frames by default, true classes in the test labels).

Examples:
    python data_prep/make_toy_imigue.py --out data/toy_imigue
    python data_prep/make_toy_imigue.py --out /tmp/toy --size tiny --seed 3
    python data_prep/make_toy_imigue.py --out data/toy_imigue --overwrite \\
        --subjects 20 --val-subjects 4 --test-subjects 4 --frame-size 640x360
"""
import argparse
import os
import time

from toy.imigue_release import TOY_PRESETS, ToyImigueConfig, make_toy_imigue

from mmmg.classes import IMIGUE_CLASSES
from mmmg.utils.cli import ToolError, add_debug_arg, check_output_dir, cli_main
from mmmg.utils.job_runner import JobError


def _frame_size(text):
    try:
        width, height = (int(v) for v in text.lower().split('x'))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f'expected WIDTHxHEIGHT such as 320x180, got {text!r}')
    return width, height


def _class_list(text):
    try:
        return tuple(int(v) for v in text.split(','))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f'expected comma-separated class indices, got {text!r}')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        '--out', required=True, help='output folder (the release root)')
    parser.add_argument(
        '--seed',
        type=int,
        default=0,
        help='random seed; same seed, same data (default 0)')
    parser.add_argument(
        '--size',
        choices=sorted(TOY_PRESETS),
        default='default',
        help='preset; the options below override it')
    parser.add_argument(
        '--overwrite',
        action='store_true',
        help='replace an earlier toy dataset in --out')
    parser.add_argument(
        '--workers',
        type=int,
        default=os.cpu_count() or 1,
        help='processes writing videos (default: all cores; '
        'the output does not depend on it)')
    size = parser.add_argument_group(
        'size and content (defaults: the --size preset)')
    size.add_argument(
        '--subjects',
        dest='num_subjects',
        type=int,
        metavar='N',
        help='interviewees in all splits')
    size.add_argument(
        '--val-subjects',
        type=int,
        metavar='N',
        help='subjects held out for validation')
    size.add_argument(
        '--test-subjects',
        type=int,
        metavar='N',
        help='subjects held out for test')
    size.add_argument(
        '--clips-per-subject',
        type=int,
        metavar='N',
        help='labelled segments per subject')
    size.add_argument(
        '--videos-per-subject',
        type=int,
        nargs=2,
        metavar=('MIN', 'MAX'),
        help='long videos per subject')
    size.add_argument(
        '--classes',
        type=_class_list,
        metavar='I,J,...',
        help='iMiGUE class indices, most frequent first')
    size.add_argument(
        '--imbalance',
        type=float,
        help='frequency ratio of the first to the last class')
    size.add_argument(
        '--min-clips',
        type=int,
        metavar='N',
        help='clips of every class in every split')
    size.add_argument(
        '--clip-len',
        type=int,
        nargs=2,
        metavar=('MIN', 'MAX'),
        help='segment length range in frames (log-normal inside it)')
    size.add_argument(
        '--gap-len',
        type=int,
        nargs=2,
        metavar=('MIN', 'MAX'),
        help='idle frames between segments')
    size.add_argument('--fps', type=int, help='frame rate')
    size.add_argument(
        '--frame-size',
        type=_frame_size,
        metavar='WxH',
        help='video frame size (the real data is 1280x720)')
    add_debug_arg(parser)
    return parser, parser.parse_args(argv)


def main(argv=None):
    parser, args = parse_args(argv)
    if args.workers < 0:
        parser.error(f'--workers must be >= 0, got {args.workers}')
    check_output_dir(args.out, '--out')
    options = dict(TOY_PRESETS[args.size])
    for name in ToyImigueConfig.__dataclass_fields__:
        value = getattr(args, name, None)
        if value is not None:
            options[name] = value
    start = time.perf_counter()
    try:
        summary = make_toy_imigue(
            args.out,
            seed=args.seed,
            num_workers=args.workers,
            overwrite=args.overwrite,
            progress=True,
            **options)
    except ValueError as e:  # option values that do not fit together
        parser.error(str(e))
    except (FileExistsError, JobError) as e:  # not empty, or a failed video
        raise ToolError(e) from e
    elapsed = time.perf_counter() - start

    counts = summary['class_counts']
    print(f'wrote {summary["num_videos"]} videos, {summary["num_frames"]} '
          f'frames to {args.out} in {elapsed:.1f} s')
    print(f'{"class":>26} ' + ' '.join(f'{s:>5}' for s in counts))
    for c in counts['train']:
        name = f'{c:2d} {IMIGUE_CLASSES[c]}'
        print(f'{name:>26} ' + ' '.join(f'{counts[s][c]:5d}' for s in counts))
    print(f'{"clips":>26} ' + ' '.join(f'{summary["clips"][s]:5d}'
                                       for s in counts))


if __name__ == '__main__':
    cli_main(main)
