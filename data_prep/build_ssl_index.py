"""Build the shared index of online self-supervised clip sampling
(``LongVideoDataset``) ahead of training.

The dataset builds it on first use too (rank 0, while the other ranks wait
at a barrier); for thousands of interviews build it here first, with
several processes, so no rank waits past the distributed timeout. The
options must match the dataset's (``threshold``, ``duration_splits``,
``splits``, ``pose_layout``), or the dataset builds its own again.

Examples:
    # RGB pre-training index
    python data_prep/build_ssl_index.py data/imigue/release \\
        --index data/ssl_index/imigue_rgb --workers 8
    # skeleton pre-training: also the upper-body keypoints of every video
    python data_prep/build_ssl_index.py data/miga \\
        --index data/ssl_index/miga_upper59 --pose-layout upper_body59
"""
import argparse
import os
import os.path as osp

from mmmg.data_prep.imigue_release import ReleaseFormatError
from mmmg.data_prep.ssl_index import (IndexOptions, ensure_ssl_index,
                                      index_files)
from mmmg.utils.cli import (ToolError, add_debug_arg, check_output_file,
                            cli_main)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        'root', help='release root: label tables, OpenPose workbooks, mp4s')
    parser.add_argument(
        '--index',
        required=True,
        help='index path without extension (the dataset\'s index_file)')
    parser.add_argument(
        '--threshold',
        type=float,
        default=0.3,
        help='face-anchor confidence every frame needs (default: 0.3)')
    parser.add_argument(
        '--duration-splits',
        nargs='+',
        default=['train'],
        help='splits whose labelled MGs give the durations')
    parser.add_argument(
        '--splits', nargs='+', help='index only videos of these splits')
    parser.add_argument(
        '--pose-layout',
        help='also store every video\'s keypoints in this layout')
    parser.add_argument(
        '--cache-dir',
        help='cache of parsed workbooks (default: <index '
        'folder>/skeleton_cache, as the dataset)')
    parser.add_argument(
        '--workers', type=int, default=min(4,
                                           os.cpu_count() or 1))
    parser.add_argument(
        '--strict', action='store_true', help='stop at the first bad video')
    parser.add_argument('--no-progress', action='store_true')
    add_debug_arg(parser)
    args = parser.parse_args(argv)
    if args.workers < 1:
        parser.error('--workers must be >= 1')
    if not 0 <= args.threshold <= 1:
        parser.error('--threshold must be in [0, 1]')
    return args


def main(argv=None):
    args = parse_args(argv)
    if not osp.isdir(args.root):
        raise ToolError(f'release root {args.root!r} is not a folder; pass '
                        'the folder of the label tables and workbooks')
    for path in index_files(args.index)[:2]:
        check_output_file(path, '--index')
    options = IndexOptions(args.threshold, tuple(args.duration_splits),
                           tuple(args.splits) if args.splits else None,
                           args.pose_layout)
    try:
        index, built = ensure_ssl_index(
            args.root,
            args.index,
            options,
            cache_dir=args.cache_dir
            or osp.join(osp.dirname(args.index), 'skeleton_cache'),
            workers=args.workers,
            strict=args.strict,
            progress=not args.no_progress)
    except (ReleaseFormatError, ValueError) as e:
        raise ToolError(e) from e
    meta = index.meta
    print(f'{"built" if built else "up to date:"} {index.npy} '
          f'({meta["npy_bytes"] / 2**20:.1f} MiB, {len(index.videos)} '
          f'videos, {sum(v["num_frames"] for v in index.videos)} frames, '
          f'{sum(v["visible"] for v in index.videos)} with the face '
          f'visible; {len(index.durations)} labelled MG durations)')
    for skipped in meta['skipped']:
        print(f'left out: video {skipped["video"]}: {skipped["reason"]}')
    for video in index.videos:
        if video['note']:
            print(video['note'])
    return meta


if __name__ == '__main__':
    cli_main(main)
