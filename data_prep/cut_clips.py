"""Cut clip files out of the long videos of a segment list (format and
outputs: ``mmmg/data_prep/cut_clips.py``). Not needed for training:
``MGVideoClipDataset`` reads the segments straight from the long videos.

Examples:
    # clips of the training list, 4 processes; rerun to resume
    python data_prep/cut_clips.py data/imigue/rgb_train.txt \\
        --video-root data/miga --out data/imigue/clips/train --workers 4
    # stop at the first failure instead of logging it
    python data_prep/cut_clips.py data/imigue/rgb_val.txt \\
        --video-root data/miga --out data/imigue/clips/val --strict
"""
import argparse
import os
import os.path as osp
import sys

from mmmg.data_prep.cut_clips import CutError, cut_clips
from mmmg.utils.cli import (ToolError, add_debug_arg, check_output_dir,
                            check_output_file, cli_main)
from mmmg.utils.job_runner import EXIT_INCOMPLETE
from mmmg.utils.video_list import DEFAULT_END_TOLERANCE


def _count(text: str, minimum: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f'{text!r} is not an integer')
    if value < minimum:
        raise argparse.ArgumentTypeError(f'{text} is below {minimum}')
    return value


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        'list',
        help='segment list, lines "<clip_id> <video> '
        '<start> <end> [<label>]" (rgb_{split}.txt)')
    parser.add_argument(
        '--video-root',
        required=True,
        help='folder the video paths of the list are '
        'relative to')
    parser.add_argument('--out', required=True, help='folder of the clips')
    parser.add_argument(
        '--clip-list',
        help='output list "<clip_id>.mp4 '
        '<label>" (default: OUT/<list stem>_clips.txt)')
    parser.add_argument(
        '--workers',
        type=lambda t: _count(t, 1),
        default=min(4,
                    os.cpu_count() or 1),
        help='parallel processes, one long video each '
        '(default: min(4, cpus))')
    parser.add_argument(
        '--strict',
        action='store_true',
        help='stop at the first failed clip instead of '
        'logging it and going on')
    parser.add_argument(
        '--fourcc', default='mp4v', help='codec of the clips (default: mp4v)')
    parser.add_argument(
        '--end-tolerance',
        type=lambda t: _count(t, 0),
        default=DEFAULT_END_TOLERANCE,
        help='frames a segment may end past the last frame '
        'of its video; such ends are clamped (default: '
        f'{DEFAULT_END_TOLERANCE})')
    parser.add_argument(
        '--no-progress', action='store_true', help='no progress bar')
    add_debug_arg(parser)
    args = parser.parse_args(argv)
    if len(args.fourcc) != 4:
        parser.error(f'--fourcc {args.fourcc!r} is not four characters')
    return args


def main(argv=None):
    args = parse_args(argv)
    if not osp.isfile(args.list):
        raise ToolError(f'segment list {args.list!r} not found; check the '
                        'path')
    if not osp.isdir(args.video_root):
        raise ToolError(f'--video-root {args.video_root!r} is not a folder; '
                        'pass the folder of the long videos')
    check_output_dir(args.out, '--out')
    if args.clip_list:
        check_output_file(args.clip_list, '--clip-list')
    try:
        summary = cut_clips(
            args.list,
            args.video_root,
            args.out,
            clip_list=args.clip_list,
            workers=args.workers,
            strict=args.strict,
            fourcc=args.fourcc,
            end_tolerance=args.end_tolerance,
            progress=not args.no_progress)
    except (CutError, ValueError) as e:  # --strict, or a bad list
        raise ToolError(e) from e
    if summary['failed'] and not summary['listed']:
        sys.exit(EXIT_INCOMPLETE)  # every clip failed
    return summary


if __name__ == '__main__':
    cli_main(main)
