"""Extract whole-body keypoints (COCO-WholeBody-133) of the primary
interviewee from videos, and pack them into MMAction2 pose annotations.

Two commands:

``extract``: one pose file per video (format: mmmg/pose_extraction/
extractor.py), ``<out>/<video path below the input root>.npz``. Reruns skip
finished videos; failures go to <out>/failures.jsonl (one log per shard)
and are skipped unless --strict. ``--shard i/n``, torchrun (RANK,
WORLD_SIZE, LOCAL_RANK) and SLURM arrays (SLURM_ARRAY_TASK_ID,
SLURM_ARRAY_TASK_COUNT) spread the videos over processes, GPUs and nodes.

``pack``: pose files to an annotation pickle in any keypoint layout, per
clip of segment lists (rgb_{split}.txt) or one sample per video.

Examples:
    # ONNX Runtime: an RTMPose/RTMW/DWPose ONNX model and an RTMDet detector
    python tools/extract_pose.py extract --input-dir data/miga/videos \\
        --out data/imigue/pose --pose-model rtmw-x_384x288.onnx \\
        --det-model rtmdet_m_640.onnx
    # the whole frame as the box; frames with mean score < 0.3 unmarked
    python tools/extract_pose.py extract --list videos.txt --out pose \\
        --pose-model rtmpose-m_256x192.onnx --min-pose-score 0.3
    # four GPUs of one node
    torchrun --nproc-per-node 4 tools/extract_pose.py extract \\
        --input-dir videos --out pose --pose-model m.onnx --device cuda
    # MMPose (in an environment with the mmpose extra)
    python tools/extract_pose.py extract --input-dir videos --out pose \\
        --backend mmpose --pose-config rtmw.py --pose-checkpoint rtmw.pth \\
        --det-config rtmdet.py --det-checkpoint rtmdet.pth
    # clips of the iMiGUE segment lists in the 36-point MG layout
    python tools/extract_pose.py pack --pose-dir data/imigue/pose \\
        --layout mg36 --lists train=rgb_train.txt val=rgb_val.txt \\
        --out data/imigue/imigue_rtmw_mg36.pkl
"""
import argparse
import sys
import time

from mmmg.data_prep.video_jobs import (add_job_arguments, check_job_arguments,
                                       check_video_job_paths, jobs_from_args)
from mmmg.keypoints.layouts import LAYOUTS
from mmmg.pose_extraction.backends import DETECTOR_PRESETS
from mmmg.pose_extraction.convert import (build_annotations, split_lists,
                                          write_annotations)
from mmmg.pose_extraction.extractor import (BackendSpec, PoseExtractor,
                                            default_threads, extract_poses,
                                            shard_failure_log)
from mmmg.pose_extraction.sharding import (local_device, parse_shard,
                                           resolve_shard, select_shard)
from mmmg.utils.cli import (ToolError, add_debug_arg, check_output_file,
                            cli_main)
from mmmg.utils.job_runner import JobError


def _size(values):
    return None if values is None else tuple(values)


def _decode_scale(text):
    if text == 'auto':
        return text
    try:
        scale = float(text)
    except ValueError:
        scale = 0
    if not 0 < scale <= 1:
        raise argparse.ArgumentTypeError(
            f"expected a number in (0, 1] or 'auto', got {text!r}")
    return scale


def add_extract_parser(sub) -> argparse.ArgumentParser:
    parser = sub.add_parser(
        'extract',
        help='videos to per-video pose files',
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    add_job_arguments(
        parser,
        default_workers=1,
        outputs='pose files end in .npz or .pkl (--format)')
    models = parser.add_argument_group('models')
    models.add_argument(
        '--backend',
        choices=('onnxruntime', 'mmpose'),
        default='onnxruntime',
        help='pose backend (default onnxruntime)')
    models.add_argument(
        '--pose-model',
        metavar='ONNX',
        help='onnxruntime: RTMPose/RTMW/DWPose ONNX file')
    models.add_argument('--pose-config', help='mmpose: model config')
    models.add_argument('--pose-checkpoint', help='mmpose: checkpoint')
    models.add_argument(
        '--pose-input-size',
        type=int,
        nargs=2,
        metavar=('W', 'H'),
        help='input size of an ONNX pose '
        'model whose input shape is symbolic')
    models.add_argument(
        '--det-model',
        metavar='ONNX',
        help='end-to-end RTMDet/YOLOX person detector ONNX '
        '(without a detector the whole frame is the box)')
    models.add_argument('--det-config', help='MMDetection detector config')
    models.add_argument('--det-checkpoint', help='MMDetection checkpoint')
    models.add_argument(
        '--det-preset',
        choices=sorted(DETECTOR_PRESETS),
        default='rtmdet',
        help='ONNX detector input '
        'normalisation (default rtmdet)')
    models.add_argument(
        '--det-input-size',
        type=int,
        nargs=2,
        metavar=('W', 'H'),
        help='input size of an ONNX '
        'detector whose input shape is symbolic')
    models.add_argument(
        '--det-score-thr',
        type=float,
        default=0.3,
        help='least person box score (default 0.3)')
    models.add_argument(
        '--device',
        default='cpu',
        help="cpu, cuda or cuda:N; 'cuda' under torchrun "
        'takes GPU LOCAL_RANK (default cpu)')
    models.add_argument(
        '--batch-size',
        type=int,
        default=16,
        help='person crops per inference call (default 16)')
    models.add_argument(
        '--threads',
        type=int,
        default=0,
        help='ONNX Runtime threads per process (default: '
        'the cores shared among the workers)')
    models.add_argument(
        '--decode-scale',
        type=_decode_scale,
        default=1.0,
        metavar='S|auto',
        help='decode frames at this share of their size, in (0, 1], or '
        "'auto': the size the detector (or the whole-frame crop) needs; "
        'outputs stay in full-frame pixels (default 1: full size)')
    track = parser.add_argument_group('subject')
    track.add_argument(
        '--iou-thr',
        type=float,
        default=0.3,
        help='least IoU that continues the track (default '
        '0.3)')
    track.add_argument(
        '--max-lost',
        type=int,
        default=25,
        help='frames without the subject before a new one '
        'is selected (default 25)')
    track.add_argument(
        '--min-pose-score',
        type=float,
        default=0.0,
        help='frames whose mean keypoint score is lower count '
        'as without the subject (default 0: off)')
    out = parser.add_argument_group('output and sharding')
    out.add_argument(
        '--format',
        choices=('npz', 'pkl'),
        default='npz',
        help='pose file format (default npz)')
    out.add_argument(
        '--shard',
        metavar='I/N',
        help='process shard I (0-based) of N; default from '
        'RANK/WORLD_SIZE or SLURM_ARRAY_TASK_ID/'
        'SLURM_ARRAY_TASK_COUNT, else all videos')
    return parser


def add_pack_parser(sub) -> argparse.ArgumentParser:
    parser = sub.add_parser(
        'pack',
        help='pose files to an MMAction2 annotation pickle',
        description='Pack pose files into an annotation pickle (format: '
        'mmmg/pose_extraction/convert.py).')
    parser.add_argument(
        '--pose-dir', required=True, help='output folder of extract')
    parser.add_argument('--out', required=True, help='annotation pickle')
    parser.add_argument(
        '--layout',
        default='coco_wholebody133',
        choices=sorted(LAYOUTS),
        help='keypoint layout (default coco_wholebody133)')
    parser.add_argument(
        '--lists',
        nargs='+',
        metavar='SPLIT=LIST',
        help='segment lists "<clip_id> <video> <start> <end> '
        '[<label>]" or clip lists, video paths as below the '
        'extraction root; default: one sample per pose file')
    parser.add_argument(
        '--split',
        default='all',
        help='split name without --lists (default all)')
    parser.add_argument(
        '--missing',
        choices=('zero', 'raise'),
        default='zero',
        help='points the source lacks: '
        'zero coordinates and score (default) or an error')
    parser.add_argument(
        '--strict',
        action='store_true',
        help='fail on a sample without a pose file instead '
        'of leaving it out')
    return parser


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest='command', required=True)
    extract = add_extract_parser(sub)
    pack = add_pack_parser(sub)
    for command in (extract, pack):
        add_debug_arg(command)
    args = parser.parse_args(argv)
    if args.command == 'extract':
        check_job_arguments(extract, args)
        if args.batch_size < 1:
            extract.error(f'--batch-size must be >= 1, got {args.batch_size}')
        try:  # an option error, not one of the inputs
            parse_shard(args.shard or '0/1')
        except ValueError as e:
            extract.error(f'--shard: {e}')
    return args


def plan_jobs(args):
    """All jobs of the inputs, then this process's shard of them."""
    jobs = jobs_from_args(args, suffix='.' + args.format)
    index, count, source = resolve_shard(args.shard)
    return jobs, select_shard(jobs, index, count), (index, count, source)


def run_extract(args):
    check_video_job_paths(args)
    try:
        all_jobs, jobs, (index, count, source) = plan_jobs(args)
    except (ValueError, NotADirectoryError) as e:
        raise ToolError(e) from e
    spec = BackendSpec(
        backend=args.backend,
        pose_model=args.pose_model,
        pose_config=args.pose_config,
        pose_checkpoint=args.pose_checkpoint,
        det_model=args.det_model,
        det_config=args.det_config,
        det_checkpoint=args.det_checkpoint,
        det_preset=args.det_preset,
        det_score_thr=args.det_score_thr,
        device=local_device(args.device),
        batch_size=args.batch_size,
        threads=args.threads or default_threads(args.workers),
        pose_input_size=_size(args.pose_input_size),
        det_input_size=_size(args.det_input_size))
    extractor = PoseExtractor(
        spec,
        chunk_size=args.chunk_size,
        iou_thr=args.iou_thr,
        max_lost=args.max_lost,
        min_pose_score=args.min_pose_score,
        decode_scale=args.decode_scale)
    failure_log = args.failure_log or shard_failure_log(args.out, index, count)
    print(f'shard {index}/{count} ({source}): {len(jobs)} of '
          f'{len(all_jobs)} videos')
    start = time.perf_counter()
    try:
        report = extract_poses(
            jobs,
            extractor,
            workers=args.workers,
            overwrite=args.overwrite,
            strict=args.strict,
            failure_log=failure_log,
            progress=not args.no_progress,
            quiet=not args.decoder_log)
    except (JobError, ValueError, ImportError, RuntimeError) as e:
        raise ToolError(e) from e  # --strict, or a model that cannot load
    seconds = time.perf_counter() - start
    print(
        report.summary(
            'videos', args.out, f'{report.frames} frames, '
            f'{report.frames / max(seconds, 1e-9):.1f} frames/s'))
    if report.exit_status:
        sys.exit(report.exit_status)
    return report


def run_pack(args):
    check_output_file(args.out, '--out')
    try:
        lists = split_lists(args.lists) if args.lists else None
        data, report = build_annotations(
            args.pose_dir,
            args.layout,
            lists,
            args.split,
            args.missing,
            strict=args.strict)
    except (ValueError, KeyError, NotADirectoryError) as e:
        raise ToolError(str(e).strip('"\'')) from e
    if not data['annotations']:
        raise ToolError(f'no sample could be packed from {args.pose_dir}; '
                        'check --pose-dir and --lists')
    write_annotations(args.out, data)
    for line in report.skipped:
        print(f'left out {line}', file=sys.stderr)
    counts = ', '.join(f'{k} {len(v)}' for k, v in data['split'].items())
    print(f'{len(data["annotations"])} samples ({counts}) in {args.layout} '
          f'written to {args.out}; {len(report.skipped)} left out')
    return data, report


def main(argv=None):
    args = parse_args(argv)
    if args.command == 'extract':
        return run_extract(args)
    return run_pack(args)


if __name__ == '__main__':
    cli_main(main)
