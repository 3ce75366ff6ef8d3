"""Write the Taylor video (Wang et al., ICML 2024) of every input video.

Taylor frame t sums the motion of source frames t .. t+L-1 (L = K + 3) into
three channels (R, G, B = displacement, velocity, acceleration terms), mapped
to 8 bits as round(128 + scale_c * T_c) with a fixed scale, so 128 means no
change and every video uses the same mapping; see
mmmg/datasets/transforms/taylor.py and mmmg/data_prep/taylor_videos.py.
By default the last source frame is repeated so a Taylor video has as many
frames as its source and the same segment lists apply (--no-keep-length
gives the paper's N - L + 1 frames). Outputs keep the inputs' sub-folders
under --out; existing outputs are skipped, so an interrupted run resumes;
failures go to a JSON lines log. mp4v (OpenCV's MPEG-4 encoder, fixed
quality) is lossy: expect decoded pixels within a few grey levels of the
computed ones (128 decodes as ~124-126); --fourcc FFV1 is exact.

Examples:
    python data_prep/make_taylor_videos.py --input-dir data/imigue/release \\
        --out data/imigue/taylor --workers 8
    python data_prep/make_taylor_videos.py --list data/imigue/rgb_train.txt \\
        --column 1 --root data/imigue/release --out data/imigue/taylor
    python data_prep/make_taylor_videos.py --input-dir videos --out taylor \\
        --num-terms 5 --scale 24 16 10 --strict
"""
import argparse
import os
import time

from mmmg.data_prep.taylor_videos import (TaylorVideoConverter,
                                          write_taylor_meta)
from mmmg.data_prep.video_jobs import (add_job_arguments, check_job_arguments,
                                       check_video_job_paths,
                                       run_jobs_from_args)
from mmmg.datasets.transforms.taylor import (DEFAULT_NUM_TERMS, DEFAULT_OFFSET,
                                             DEFAULT_TAYLOR_SCALE,
                                             SHORT_CLIP_MODES)
from mmmg.utils.cli import ToolError, add_debug_arg, cli_main


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    add_job_arguments(parser, default_workers=os.cpu_count() or 1)
    taylor = parser.add_argument_group('Taylor video')
    taylor.add_argument(
        '--num-terms',
        type=int,
        default=DEFAULT_NUM_TERMS,
        metavar='K',
        help='Taylor terms; windows of K + 3 '
        f'frames (default {DEFAULT_NUM_TERMS})')
    taylor.add_argument(
        '--scale',
        type=float,
        nargs='+',
        default=list(DEFAULT_TAYLOR_SCALE),
        metavar='S',
        help='8-bit scale, one value or one per channel '
        '(default: '
        f'{" ".join(f"{s:g}" for s in DEFAULT_TAYLOR_SCALE)})')
    taylor.add_argument(
        '--offset',
        type=float,
        default=DEFAULT_OFFSET,
        help='grey level of no motion (default '
        f'{DEFAULT_OFFSET:g})')
    taylor.add_argument(
        '--no-keep-length',
        dest='keep_length',
        action='store_false',
        help='write N - L + 1 frames instead of padding to '
        'the source length')
    taylor.add_argument(
        '--short-video',
        choices=SHORT_CLIP_MODES,
        default='repeat',
        help='a video shorter than one window (with '
        '--no-keep-length): pad it by repeating its last '
        'frame, or fail (default repeat)')
    taylor.add_argument(
        '--fourcc',
        default='mp4v',
        help='codec: mp4v (default; lossy, small) or FFV1 '
        '(lossless, 30-50x larger), both in .mp4')
    taylor.add_argument(
        '--threads',
        type=int,
        default=1,
        help='threads of the Taylor computation per worker '
        '(default 1)')
    taylor.add_argument(
        '--no-verify',
        dest='verify',
        action='store_false',
        help='skip reopening each output with decord')
    add_debug_arg(parser)
    return parser, parser.parse_args(argv)


def main(argv=None):
    parser, args = parse_args(argv)
    check_job_arguments(parser, args)
    check_video_job_paths(args)
    if len(args.scale) not in (1, 3):
        parser.error(f'--scale takes 1 or 3 values, got {len(args.scale)}')
    try:
        converter = TaylorVideoConverter(
            num_terms=args.num_terms,
            scale=args.scale * 3 if len(args.scale) == 1 else args.scale,
            offset=args.offset,
            keep_length=args.keep_length,
            short_video=args.short_video,
            chunk_size=args.chunk_size,
            num_threads=args.threads,
            fourcc=args.fourcc,
            verify=args.verify)
        write_taylor_meta(args.out, converter, overwrite=args.overwrite)
    except (TypeError, ValueError) as e:
        parser.error(str(e))
    start = time.perf_counter()
    try:
        report = run_jobs_from_args(args, converter, desc='Taylor videos')
    except (ValueError, NotADirectoryError) as e:  # bad --list/--input-dir
        raise ToolError(e) from e
    print(f'done in {time.perf_counter() - start:.1f} s')
    return report


if __name__ == '__main__':
    cli_main(main)
