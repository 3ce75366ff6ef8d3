"""Write a monocular-depth video for every input video.

The model is a local transformers depth-estimation checkpoint folder (e.g. a
downloaded Depth Anything; nothing is fetched). Depth is normalised to 8 bits
per video (1st-99th percentile of sampled frames, default), per frame, or
over a fixed range, and written as grey in R, G and B or as a colour map; see
mmmg/data_prep/depth_videos.py. Outputs keep the inputs' sub-folders under
--out; existing outputs are skipped, so an interrupted run resumes; failures
go to a JSON lines log.

Examples:
    python data_prep/make_depth_videos.py --input-dir data/imigue/videos \\
        --out data/imigue/depth --model checkpoints/depth-anything-small
    python data_prep/make_depth_videos.py --list videos.txt --out depth \\
        --model checkpoints/depth-anything-small --device cuda \\
        --batch-size 16 --normalize fixed --depth-range 0 10 \\
        --colormap inferno
"""
import argparse
import time

from mmmg.data_prep.depth_videos import NORMALIZATIONS, DepthVideoConverter
from mmmg.data_prep.video_jobs import (add_job_arguments, check_job_arguments,
                                       check_video_job_paths,
                                       run_jobs_from_args)
from mmmg.utils.cli import ToolError, add_debug_arg, cli_main


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    add_job_arguments(parser, default_workers=1)
    depth = parser.add_argument_group('depth')
    depth.add_argument(
        '--model',
        required=True,
        metavar='DIR',
        help='local checkpoint folder (model and image '
        'processor, as written by save_pretrained)')
    depth.add_argument(
        '--device', default='cpu', help='torch device (default cpu)')
    depth.add_argument(
        '--batch-size',
        type=int,
        default=4,
        help='frames per forward pass (default 4)')
    depth.add_argument(
        '--normalize',
        choices=NORMALIZATIONS,
        default='video',
        help='8-bit scale: per video (default), per frame '
        'or --depth-range')
    depth.add_argument(
        '--depth-range',
        type=float,
        nargs=2,
        metavar=('LO', 'HI'),
        help='model outputs mapped to 0 and 255 with '
        '--normalize fixed')
    depth.add_argument(
        '--percentiles',
        type=float,
        nargs=2,
        default=(1.0, 99.0),
        metavar=('LO', 'HI'),
        help='per-video range percentiles (default 1 99)')
    depth.add_argument(
        '--range-samples',
        type=int,
        default=16,
        metavar='N',
        help='frames sampled for the per-video range '
        '(default 16)')
    depth.add_argument(
        '--colormap',
        metavar='NAME',
        help='OpenCV colour map (e.g. inferno) instead of '
        'grey')
    depth.add_argument(
        '--scale',
        type=float,
        default=1.0,
        help='downscale frames by this factor in (0, 1] '
        'first (default 1)')
    add_debug_arg(parser)
    return parser, parser.parse_args(argv)


def main(argv=None):
    parser, args = parse_args(argv)
    check_job_arguments(parser, args)
    check_video_job_paths(args)
    if args.depth_range is not None and args.normalize != 'fixed':
        parser.error('--depth-range needs --normalize fixed')
    try:
        converter = DepthVideoConverter(
            args.model,
            device=args.device,
            batch_size=args.batch_size,
            normalize=args.normalize,
            depth_range=args.depth_range,
            percentiles=tuple(args.percentiles),
            range_samples=args.range_samples,
            colormap=args.colormap,
            scale=args.scale,
            chunk_size=args.chunk_size)
        converter.load()  # a bad model folder fails before the run
    except ValueError as e:  # option values that do not fit together
        parser.error(str(e))
    except ImportError as e:  # transformers is not installed
        raise ToolError(e) from e
    if args.workers > 0:
        # Workers are spawned (converter.start_method) and load their own.
        converter.release()
    start = time.perf_counter()
    try:
        report = run_jobs_from_args(args, converter, desc='depth videos')
    except (ValueError, NotADirectoryError) as e:  # bad --list/--input-dir
        raise ToolError(e) from e
    print(f'done in {time.perf_counter() - start:.1f} s')
    return report


if __name__ == '__main__':
    cli_main(main)
