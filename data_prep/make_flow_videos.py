"""Write an optical-flow video for every input video.

Flow frame t is the motion from frame t to t + 1 (N - 1 flow frames, or N
with --pad-last), encoded R = x, G = y (128 = no motion, +-127 = +-bound
pixels) and B = magnitude (255 = bound); see mmmg/data_prep/optical_flow.py.
Outputs keep the inputs' sub-folders under --out; existing outputs are
skipped, so an interrupted run resumes; failures go to a JSON lines log.

Examples:
    python data_prep/make_flow_videos.py --input-dir data/imigue/videos \\
        --out data/imigue/flow --scale 0.5 --workers 8
    python data_prep/make_flow_videos.py --list videos.txt --root data \\
        --out data/flow --method farneback --bound 15 --pad-last
    python data_prep/make_flow_videos.py --input-dir videos --out flow \\
        --method raft_small --raft-weights checkpoints/raft_small.pth \\
        --device cuda --workers 1
"""
import argparse
import os
import time

from mmmg.data_prep.optical_flow import (DEFAULT_BOUND, DIS_PRESETS,
                                         FLOW_METHODS, FlowVideoConverter)
from mmmg.data_prep.video_jobs import (add_job_arguments, check_job_arguments,
                                       check_video_job_paths,
                                       run_jobs_from_args)
from mmmg.utils.cli import ToolError, add_debug_arg, cli_main


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    add_job_arguments(parser, default_workers=os.cpu_count() or 1)
    flow = parser.add_argument_group('optical flow')
    flow.add_argument(
        '--method',
        choices=FLOW_METHODS,
        default='dis',
        help='flow method (default dis; RAFT needs '
        '--raft-weights)')
    flow.add_argument(
        '--preset',
        choices=sorted(DIS_PRESETS),
        default='medium',
        help='DIS preset (default medium)')
    flow.add_argument(
        '--bound',
        type=float,
        default=DEFAULT_BOUND,
        help='flow in pixels mapped to the ends of the 8-bit '
        f'range (default {DEFAULT_BOUND:g})')
    flow.add_argument(
        '--scale',
        type=float,
        default=1.0,
        help='downscale frames by this factor in (0, 1] '
        'before the flow; the output has the smaller size '
        '(default 1)')
    flow.add_argument(
        '--pad-last',
        action='store_true',
        help='repeat the last flow frame so the flow video has '
        'as many frames as its input')
    raft = parser.add_argument_group('RAFT')
    raft.add_argument(
        '--raft-weights',
        metavar='PATH',
        help='local torchvision RAFT state_dict (required by '
        'raft_small / raft_large; nothing is downloaded)')
    raft.add_argument(
        '--device', default='cpu', help='torch device of RAFT (default cpu)')
    raft.add_argument(
        '--flow-updates',
        type=int,
        default=12,
        help='RAFT refinement iterations (default 12)')
    raft.add_argument(
        '--batch-size',
        type=int,
        default=8,
        help='RAFT frame pairs per forward pass (default 8)')
    add_debug_arg(parser)
    return parser, parser.parse_args(argv)


def main(argv=None):
    parser, args = parse_args(argv)
    check_job_arguments(parser, args)
    check_video_job_paths(args)
    try:
        converter = FlowVideoConverter(
            method=args.method,
            preset=args.preset,
            bound=args.bound,
            scale=args.scale,
            pad_last=args.pad_last,
            chunk_size=args.chunk_size,
            raft_weights=args.raft_weights,
            device=args.device,
            num_flow_updates=args.flow_updates,
            batch_size=args.batch_size)
        if args.method.startswith('raft'):
            converter.load()  # bad weights fail before the run
            if args.workers > 0:
                converter.release()  # spawned workers load their own
    except ValueError as e:  # option values that do not fit together
        parser.error(str(e))
    # RAFT workers are spawned (converter.start_method), DIS ones forked.
    start = time.perf_counter()
    try:
        report = run_jobs_from_args(args, converter, desc='flow videos')
    except (ValueError, NotADirectoryError) as e:  # bad --list/--input-dir
        raise ToolError(e) from e
    print(f'done in {time.perf_counter() - start:.1f} s')
    return report


if __name__ == '__main__':
    cli_main(main)
