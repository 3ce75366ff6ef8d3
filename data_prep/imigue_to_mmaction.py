"""Convert the MiGA / iMiGUE release into MMAction2 pose annotations and RGB
clip lists (format: ``mmmg/data_prep/imigue_release.py``).

Examples:
    # every release folder under data/miga, 137 OpenPose points
    python data_prep/imigue_to_mmaction.py data/miga --out data/imigue
    # the 36-point layout, hidden test labels, RGB release elsewhere
    python data_prep/imigue_to_mmaction.py data/miga --out data/imigue \\
        --layout mg36 --hidden-test-labels --video-root data/miga_rgb
    # splits from the challenge lists instead of folder names
    python data_prep/imigue_to_mmaction.py data/miga --out data/imigue \\
        --split-file train=lists/train.txt --split-file val=lists/val.txt
"""
import argparse
import os
import os.path as osp
import sys

from mmmg.data_prep.imigue_release import (SPLITS, ReleaseFormatError,
                                           convert_release)
from mmmg.keypoints import conversion_targets
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


def _split_file(text: str):
    split, sep, path = text.partition('=')
    if not sep or split not in SPLITS or not path:
        raise argparse.ArgumentTypeError(
            f'{text!r} is not SPLIT=PATH with SPLIT in {", ".join(SPLITS)}')
    if not osp.isfile(path):
        raise argparse.ArgumentTypeError(f'split list {path} does not exist')
    return split, path


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        'root',
        help='release root; label tables, skeletons '
        'and videos are discovered anywhere below it')
    parser.add_argument('--out', required=True, help='output folder')
    parser.add_argument(
        '--layout',
        default='openpose137',
        choices=sorted(conversion_targets('openpose137')),
        help='keypoint layout of the pickle')
    parser.add_argument(
        '--split-file',
        action='append',
        type=_split_file,
        default=[],
        metavar='SPLIT=PATH',
        help='split list (lines "0187_0.mp4 8" or "0187") '
        'whose videos go to SPLIT whatever their folder; '
        'repeat per split')
    parser.add_argument(
        '--video-root',
        help='folder searched for <vid>.mp4 '
        'and base of the RGB list paths (default: root)')
    parser.add_argument(
        '--default-shape',
        nargs=2,
        type=_positive_int,
        default=[720, 1280],
        metavar=('H', 'W'),
        help='frame size of videos without an mp4')
    parser.add_argument(
        '--hidden-test-labels',
        action='store_true',
        help='label every test clip -1 instead of mapping '
        'the classes of the test label tables')
    parser.add_argument(
        '--require-video',
        action='store_true',
        help='treat a missing mp4 as an error')
    parser.add_argument(
        '--frame-tolerance',
        type=_non_negative_int,
        default=5,
        help='largest accepted difference between '
        'skeleton rows and mp4 frames')
    parser.add_argument(
        '--fill-gaps',
        type=_non_negative_int,
        default=0,
        metavar='N',
        help='interpolate keypoints missing for at most N frames '
        '(filled points get half the smaller bounding confidence; '
        'default 0: none)')
    parser.add_argument(
        '--ignore-light-hand',
        action='store_true',
        help='do not read <vid>_light_hand.csv files (by default their '
        'points fill those the workbook misses, or replace a missing '
        'workbook)')
    parser.add_argument(
        '--strict',
        action='store_true',
        help='stop at the first bad video instead of '
        'skipping it')
    parser.add_argument(
        '--workers',
        type=_positive_int,
        default=min(4,
                    os.cpu_count() or 1),
        help='parallel processes (default: min(4, cpus))')
    parser.add_argument(
        '--cache-dir', help='parsed skeleton cache '
        '(default: OUT/cache)')
    parser.add_argument(
        '--no-progress', action='store_true', help='no progress bar')
    add_debug_arg(parser)
    args = parser.parse_args(argv)
    splits = [split for split, _ in args.split_file]
    if len(set(splits)) != len(splits):
        parser.error('--split-file given twice for one split')
    return args


def main(argv=None):
    args = parse_args(argv)
    for name in ('root', 'video_root'):
        path = getattr(args, name)
        if path is not None and not osp.isdir(path):
            raise ToolError(f'{name.replace("_", "-")} {path} is not a '
                            'folder; pass the folder of the release')
    check_output_dir(args.out, '--out')
    if args.cache_dir:
        check_output_dir(args.cache_dir, '--cache-dir')
    try:
        summary = convert_release(
            args.root,
            args.out,
            layout=args.layout,
            split_files=dict(args.split_file),
            video_root=args.video_root,
            default_shape=tuple(args.default_shape),
            hidden_test_labels=args.hidden_test_labels,
            require_video=args.require_video,
            frame_tolerance=args.frame_tolerance,
            strict=args.strict,
            workers=args.workers,
            cache_dir=args.cache_dir,
            fill_gaps=args.fill_gaps,
            light_hand=not args.ignore_light_hand,
            progress=not args.no_progress)
    except (ReleaseFormatError, ValueError) as e:  # --strict, or bad files
        raise ToolError(e) from e
    if summary['empty_splits']:
        sys.exit(EXIT_INCOMPLETE)
    return summary


if __name__ == '__main__':
    cli_main(main)
