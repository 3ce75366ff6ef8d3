"""Sample unlabelled pre-training clips from a MiGA / iMiGUE release with the
facial-visibility rejection sampler of iMiGUE-3K (details:
``mmmg/data_prep/ssl_clip_sampler.py`` and ``mmmg/data_prep/ssl_clips.py``).

Examples:
    # up to 50 clips per video, all five face anchors >= 0.3 in every frame
    python data_prep/sample_ssl_clips.py data/miga \
        --out data/ssl_clips/ssl_clips.txt
    # also the skeleton clips (MG-36 layout) and the cut RGB clips
    python data_prep/sample_ssl_clips.py data/miga \\
        --out data/ssl_clips/ssl_clips.txt \\
        --cut-skeleton data/ssl_clips/ssl_mg36.pkl --layout mg36 \\
        --cut-rgb data/ssl_clips/rgb --workers 4
"""
import argparse
import os
import os.path as osp

from mmmg.data_prep.cut_clips import CutError, cut_clips
from mmmg.data_prep.imigue_release import ReleaseFormatError
from mmmg.data_prep.ssl_clips import (SamplerOptions, format_summary,
                                      sample_release_clips)
from mmmg.utils.cli import (ToolError, add_debug_arg, check_output_dir,
                            check_output_file, cli_main)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        'root',
        help='release root: label tables, OpenPose '
        'workbooks and mp4s')
    parser.add_argument('--out', required=True, help='segment list to write')
    parser.add_argument(
        '--quota',
        type=int,
        default=50,
        help='clips per video at most (default: 50)')
    parser.add_argument(
        '--threshold',
        type=float,
        default=0.3,
        help='face-anchor confidence every frame needs '
        '(default: 0.3)')
    parser.add_argument(
        '--max-tries',
        type=int,
        help='candidates per video at most (default: 20 x '
        'quota)')
    parser.add_argument(
        '--min-gap',
        type=int,
        default=0,
        help='frames between two clips of a video')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--splits', nargs='+', help='sample only videos of these splits')
    parser.add_argument(
        '--duration-splits',
        nargs='+',
        default=['train'],
        help='splits whose labelled MGs give the durations')
    parser.add_argument(
        '--cut-skeleton',
        metavar='PKL',
        help='also write the skeleton clips as a pose '
        'annotation pickle')
    parser.add_argument(
        '--layout',
        default='openpose137',
        help='keypoint layout of --cut-skeleton')
    parser.add_argument(
        '--cut-rgb',
        metavar='DIR',
        help='also cut the RGB clips into DIR (resumable)')
    parser.add_argument(
        '--cache-dir',
        help='cache of parsed workbooks '
        '(default: <out dir>/.skeleton_cache)')
    parser.add_argument(
        '--workers', type=int, default=min(4,
                                           os.cpu_count() or 1))
    parser.add_argument(
        '--strict', action='store_true', help='stop at the first bad video')
    parser.add_argument('--no-progress', action='store_true')
    add_debug_arg(parser)
    args = parser.parse_args(argv)
    if args.quota < 1 or args.workers < 1:
        parser.error('--quota and --workers must be >= 1')
    if not 0 <= args.threshold <= 1:
        parser.error('--threshold must be in [0, 1]')
    return args


def check_inputs_and_outputs(args) -> None:
    """Refuse a missing release or an unwritable output before sampling."""
    if not osp.isdir(args.root):
        raise ToolError(f'release root {args.root!r} is not a folder; pass '
                        'the folder of the label tables and workbooks')
    check_output_file(args.out, '--out')
    if args.cut_skeleton:
        check_output_file(args.cut_skeleton, '--cut-skeleton')
    if args.cut_rgb:
        check_output_dir(args.cut_rgb, '--cut-rgb')


def main(argv=None):
    args = parse_args(argv)
    check_inputs_and_outputs(args)
    try:
        return sample_and_cut(args)
    except (ReleaseFormatError, CutError, ValueError) as e:  # or --strict
        raise ToolError(e) from e


def sample_and_cut(args) -> dict:
    """Sample the clip list, then cut the RGB clips where asked."""
    cache_dir = args.cache_dir or osp.join(
        osp.dirname(osp.abspath(args.out)), '.skeleton_cache')
    options = SamplerOptions(
        seed=args.seed,
        quota=args.quota,
        threshold=args.threshold,
        max_tries=args.max_tries,
        min_gap=args.min_gap,
        layout=args.layout if args.cut_skeleton else None,
        cache_dir=cache_dir)
    summary = sample_release_clips(
        args.root,
        args.out,
        options,
        out_pickle=args.cut_skeleton,
        splits=args.splits,
        duration_splits=args.duration_splits,
        workers=args.workers,
        strict=args.strict,
        progress=not args.no_progress)
    print(format_summary(summary))
    if args.cut_rgb and summary['clips']:
        cut = cut_clips(
            args.out,
            args.root,
            args.cut_rgb,
            workers=args.workers,
            strict=args.strict,
            progress=not args.no_progress)
        print(f"RGB clips in {args.cut_rgb}: {cut['written']} written, "
              f"{cut['already_cut']} already there, {cut['failed']} failed")
    return summary


if __name__ == '__main__':
    cli_main(main)
