"""Convert the SMG release (Kinect v2 skeletons) into MMAction2 pose
annotations and RGB clip lists (format: ``mmmg/data_prep/smg_release.py``).

Examples:
    # Kinect joints in colour-frame pixels, subjects 36-40 as the test set
    python data_prep/smg_to_mmaction.py data/smg --out data/smg_ann
    # the 36-point MG layout (points Kinect lacks are filled with zeros)
    python data_prep/smg_to_mmaction.py data/smg --out data/smg_ann \\
        --layout mg36 --fill-missing
    # 1-based label frames, a validation split, videos elsewhere
    python data_prep/smg_to_mmaction.py data/smg --out data/smg_ann \\
        --frame-base 1 --val-subjects 31-35 --video-root data/smg_rgb
"""
import argparse
import os.path as osp
import sys

from mmmg.data_prep.smg_release import (DEFAULT_SHAPE, DEFAULT_XY_COLUMNS,
                                        FRAME_BASES, SKELETON_FIELDS,
                                        SOURCE_LAYOUT, TEST_SUBJECTS,
                                        SampleFormatError, convert_smg_release)
from mmmg.keypoints.layouts import MissingKeypointsError, conversion_targets
from mmmg.utils.cli import ToolError, add_debug_arg, check_output_dir, cli_main
from mmmg.utils.job_runner import EXIT_INCOMPLETE


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f'{text!r} is not an integer')


def _positive_int(text: str) -> int:
    value = _int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f'{text} is not a positive integer')
    return value


def _non_negative_int(text: str) -> int:
    value = _int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f'{text} is negative')
    return value


def _field(text: str) -> int:
    value = _int(text)
    if not 0 <= value < len(SKELETON_FIELDS):
        raise argparse.ArgumentTypeError(
            f'{text} is not a per-joint field (0-{len(SKELETON_FIELDS) - 1})')
    return value


def _subjects(text: str):
    """``36-40``, ``31,33`` or a mix (``31,36-40``); empty for none."""
    subjects = []
    for part in filter(None, (p.strip() for p in text.split(','))):
        first, sep, last = part.partition('-')
        lo, hi = _positive_int(first), _positive_int(last) if sep else None
        if hi is not None and hi < lo:
            raise argparse.ArgumentTypeError(f'empty subject range {part}')
        subjects += range(lo, (hi if hi is not None else lo) + 1)
    return tuple(sorted(set(subjects)))


def _range_text(subjects) -> str:
    return f'{subjects[0]}-{subjects[-1]}'


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        'root',
        help='release root; SampleNNNN skeletons, '
        'label tables and videos are discovered anywhere '
        'below it')
    parser.add_argument('--out', required=True, help='output folder')
    parser.add_argument(
        '--layout',
        default=SOURCE_LAYOUT,
        choices=conversion_targets(SOURCE_LAYOUT),
        help='keypoint layout of the pickle')
    parser.add_argument(
        '--fill-missing',
        action='store_true',
        help='fill the points of --layout that Kinect lacks '
        '(face, most fingertips) with 0 coordinates and 0 '
        'scores instead of refusing the layout')
    parser.add_argument(
        '--xy-columns',
        nargs=2,
        type=_field,
        default=list(DEFAULT_XY_COLUMNS),
        metavar=('X', 'Y'),
        help='per-joint fields (0-10) holding the 2D '
        'coordinates; fields are ' +
        ', '.join(f'{i} {n}' for i, n in enumerate(SKELETON_FIELDS)) +
        ' (default: %(default)s, colour-space pixels)')
    parser.add_argument(
        '--frame-base',
        type=_int,
        choices=FRAME_BASES,
        default=0,
        help='number of the first frame in the '
        'finelabels tables')
    parser.add_argument(
        '--test-subjects',
        type=_subjects,
        default=TEST_SUBJECTS,
        metavar='LIST',
        help='test subjects (= sample numbers), e.g. 36-40 '
        f'(default: {_range_text(TEST_SUBJECTS)}, the SMG '
        'protocol)')
    parser.add_argument(
        '--val-subjects',
        type=_subjects,
        default=(),
        metavar='LIST',
        help='validation subjects (default: '
        'none); the others train')
    parser.add_argument(
        '--video-root',
        help='folder searched for '
        'SampleNNNN_color.mp4 and base of the RGB list paths '
        '(default: root)')
    parser.add_argument(
        '--default-shape',
        nargs=2,
        type=_positive_int,
        default=list(DEFAULT_SHAPE),
        metavar=('H', 'W'),
        help='frame size of samples without a video')
    parser.add_argument(
        '--require-video',
        action='store_true',
        help='treat a missing video as an error')
    parser.add_argument(
        '--frame-tolerance',
        type=_non_negative_int,
        help='largest accepted difference between skeleton '
        'rows and video frames (default: no check; both '
        'counts go to summary.json)')
    parser.add_argument(
        '--strict',
        action='store_true',
        help='stop at the first bad sample instead of '
        'skipping it')
    parser.add_argument(
        '--no-progress', action='store_true', help='no progress bar')
    add_debug_arg(parser)
    args = parser.parse_args(argv)
    if args.xy_columns[0] == args.xy_columns[1]:
        parser.error('--xy-columns needs two different fields')
    both = set(args.test_subjects) & set(args.val_subjects)
    if both:
        parser.error(f'subjects {sorted(both)} are in both --test-subjects '
                     'and --val-subjects')
    return args


def main(argv=None):
    args = parse_args(argv)
    for name in ('root', 'video_root'):
        path = getattr(args, name)
        if path is not None and not osp.isdir(path):
            raise ToolError(f'{name.replace("_", "-")} {path} is not a '
                            'folder; pass the folder of the release')
    check_output_dir(args.out, '--out')
    try:
        summary = convert_smg_release(
            args.root,
            args.out,
            layout=args.layout,
            missing='zero' if args.fill_missing else 'raise',
            xy_columns=tuple(args.xy_columns),
            frame_base=args.frame_base,
            test_subjects=args.test_subjects,
            val_subjects=args.val_subjects,
            video_root=args.video_root,
            default_shape=tuple(args.default_shape),
            require_video=args.require_video,
            frame_tolerance=args.frame_tolerance,
            strict=args.strict,
            progress=not args.no_progress)
    except MissingKeypointsError as e:
        raise ToolError(f'--layout {e.target}: Kinect cannot provide '
                        f'{len(e.names)} of its points ({", ".join(e.names)})'
                        '; pass --fill-missing to fill them with zeros') from e
    except (SampleFormatError, ValueError) as e:  # --strict, or bad files
        raise ToolError(e) from e
    if summary['empty_splits']:
        sys.exit(EXIT_INCOMPLETE)
    return summary


if __name__ == '__main__':
    cli_main(main)
