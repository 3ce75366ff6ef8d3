"""Spot micro-gestures in long videos: when which micro-gesture happens.

For each VIDEO (files, or folders searched for videos): its pose (from
--pose-dir, or extracted with --pose-model into <out-dir>/pose/, skipped
where that file is complete), sliding-window scores of every --streams
model fused (--fusion fusion.json, else their mean), per-frame posteriors,
segments (smoothing, hysteresis, background class, temporal NMS; see
docs/spotting.md), then in --out-dir:

    <video>_pred.csv       official _label.csv layout: raw MiGA class,
                           start, end (end inclusive), no header
    <video>_timeline.png   classes over time (--gt-dir: ground truth beside)
    <video>_overlay.mp4    with --overlay: skeleton, current label, score bar
    <video>_scores.json    windows, per-stream and fused scores, segments,
                           parameters, timings (written last)

A rerun skips finished videos; a bad video is logged to
<out-dir>/failures.jsonl and the others are done (--strict stops).
``--shard i/n``, torchrun or SLURM arrays spread the videos over processes.

Examples:
    python tools/spot_gestures.py interviews/ --out-dir work/spot \\
        --streams joint=configs/skeleton/posec3d/JOINT.py:joint.pth \\
        --pose-model rtmw-x_384x288.onnx --det-model rtmdet_m_640.onnx \\
        --overlay
    python tools/spot_gestures.py data/imigue/videos --out-dir work/spot \\
        --streams joint=J.py:j.pth limb=L.py:l.pth \\
        --fusion work/fusion/fusion.json --pose-dir data/imigue/pose \\
        --gt-dir data/imigue --window 2s --stride 0.5s
"""
import argparse
import json
import os
import os.path as osp
import re
import sys
import time

from mmmg.data_prep.video_jobs import VIDEO_EXTENSIONS, discover_videos
from mmmg.pose_extraction.sharding import (local_device, parse_shard,
                                           resolve_shard, select_shard)
from mmmg.utils.cli import (ToolError, add_debug_arg, check_output_dir,
                            check_output_file, cli_main)
from mmmg.utils.job_runner import JobError, run_jobs

GT_FILE = re.compile(r'^(.+)_label\.csv$')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        'videos',
        nargs='+',
        metavar='VIDEO',
        help='video files, or folders searched for videos')
    parser.add_argument(
        '--streams',
        nargs='+',
        required=True,
        metavar='NAME=CONFIG:CKPT',
        help='trained streams; NAME is the stream name of the fusion')
    parser.add_argument(
        '--fusion', metavar='JSON', help='fusion.json of tools/fuse_scores.py')
    pose = parser.add_argument_group('pose (needed by skeleton and RGBPose '
                                     'streams)')
    source = pose.add_mutually_exclusive_group()
    source.add_argument(
        '--pose-dir',
        metavar='DIR',
        help='pose files of tools/extract_pose.py: <DIR>/<video stem>.npz '
        '(or .pkl)')
    source.add_argument(
        '--pose-model',
        metavar='ONNX',
        help='extract the pose with this RTMPose/RTMW ONNX model')
    pose.add_argument(
        '--det-model',
        metavar='ONNX',
        help='person detector ONNX for --pose-model (default: the whole '
        'frame is the box)')
    pose.add_argument(
        '--det-preset',
        default='rtmdet',
        help='detector input normalisation (default rtmdet)')
    parser.add_argument(
        '--out-dir', required=True, metavar='DIR', help='output folder')
    parser.add_argument(
        '--overlay', action='store_true', help='also write the overlay MP4')
    parser.add_argument(
        '--gt-dir',
        metavar='DIR',
        help='folder searched for <video stem>_label.csv ground truth, drawn '
        'beside the predictions')
    win = parser.add_argument_group('windows and spotting')
    win.add_argument(
        '--window',
        help='window length in frames (48) or seconds (2s); default: the '
        'longest training clip of the streams')
    win.add_argument(
        '--stride', help='window stride, likewise (default: half the window)')
    win.add_argument(
        '--batch-size', type=int, default=8, help='windows per model call')
    win.add_argument(
        '--min-person',
        type=float,
        default=0.5,
        help='least fraction of a window\'s frames with the subject for it '
        'to be scored (default 0.5)')
    win.add_argument(
        '--background-class',
        default='auto',
        help="the non-MG class, never emitted ('auto': 'illustrative' "
        "where the streams have it; 'none': no such class)")
    win.add_argument(
        '--param',
        nargs='+',
        default=[],
        metavar='KEY=VALUE',
        help='spotting parameters (docs/spotting.md), VALUE as JSON, e.g. '
        'high=0.6 smoothing_s=0.8')
    run = parser.add_argument_group('run')
    run.add_argument(
        '--device',
        default='cpu',
        help="cpu, cuda or cuda:N ('cuda' under torchrun takes GPU "
        'LOCAL_RANK)')
    run.add_argument(
        '--all-clips',
        action='store_true',
        help='score every test clip of the config per window (default: '
        'one clip a window)')
    run.add_argument(
        '--shard',
        metavar='I/N',
        help='process shard I (0-based) of N; default from RANK/WORLD_SIZE '
        'or SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT, else all videos')
    run.add_argument(
        '--overwrite', action='store_true', help='redo finished videos')
    run.add_argument(
        '--strict',
        action='store_true',
        help='stop at the first bad video instead of logging it')
    run.add_argument(
        '--failure-log',
        metavar='FILE',
        help='JSON lines log of failed videos (default: '
        '<out-dir>/failures.jsonl)')
    run.add_argument(
        '--no-progress', action='store_true', help='hide the progress bars')
    add_debug_arg(parser)
    args = parser.parse_args(argv)
    if args.batch_size < 1:
        parser.error(f'--batch-size must be >= 1, got {args.batch_size}')
    if not 0 <= args.min_person <= 1:
        parser.error(f'--min-person must be in [0, 1], got {args.min_person}')
    if args.det_model and not args.pose_model:
        parser.error('--det-model goes with --pose-model')
    try:
        parse_shard(args.shard or '0/1')
    except ValueError as e:
        parser.error(f'--shard: {e}')
    return args


def parse_streams(specs):
    """``['joint=J.py:j.pth', ...]`` as ``{'joint': ('J.py', 'j.pth')}``."""
    streams = {}
    for spec in specs:
        name, sep, rest = spec.partition('=')
        config, colon, ckpt = rest.partition(':')
        if not (sep and name and colon and config and ckpt):
            raise ToolError(f'--streams {spec!r} is not NAME=CONFIG:CKPT')
        if name in streams:
            raise ToolError(f'--streams: the name {name!r} is given twice')
        for path, what in ((config, 'config'), (ckpt, 'checkpoint')):
            if '://' not in path and not osp.isfile(path):
                raise ToolError(f'--streams {name}: {what} {path!r} not found')
        streams[name] = (config, ckpt)
    return streams


def parse_params(items):
    from mmmg.spotting import SPOTTING_DEFAULTS
    params = {}
    for item in items:
        key, sep, value = item.partition('=')
        if not sep or key not in SPOTTING_DEFAULTS:
            raise ToolError(f'--param {item!r}: expected KEY=VALUE with KEY '
                            f'one of {sorted(SPOTTING_DEFAULTS)}')
        try:
            params[key] = json.loads(value)
        except ValueError:
            params[key] = value
    return params


def find_videos(paths):
    """``(video, stem)`` per input video, sorted; stems must be unique."""
    videos = []
    for path in paths:
        if osp.isdir(path):
            videos += discover_videos(path, VIDEO_EXTENSIONS)
        elif osp.isfile(path):
            videos.append(path)
        else:
            raise ToolError(f'video {path!r} not found; pass video files '
                            'or folders')
    seen = {}
    for video in videos:
        stem = osp.splitext(osp.basename(video))[0]
        if stem in seen and seen[stem] != video:
            raise ToolError(f'{seen[stem]} and {video} would write the same '
                            f'outputs ({stem}_*); spot them into separate '
                            '--out-dir')
        seen[stem] = video
    return sorted((v, s) for s, v in seen.items())


def find_ground_truth(gt_dir):
    """``{video stem: label csv}`` below ``gt_dir``."""
    if not osp.isdir(gt_dir):
        raise ToolError(f'--gt-dir {gt_dir!r} is not a folder')
    found = {}
    for folder, dirs, files in os.walk(gt_dir):
        dirs.sort()
        for name in sorted(files):
            match = GT_FILE.match(name)
            if match:
                found.setdefault(match.group(1), osp.join(folder, name))
    return found


class VideoSpotter:
    """The per-video function of the job runner: pose, scores, segments,
    outputs (see :mod:`mmmg.apis.spotting`)."""

    def __init__(self, args, streams, ground_truth) -> None:
        self.args = args
        self.streams = streams
        self.ground_truth = ground_truth
        self.needs_pose = any(s.needs_pose for s in streams.streams)
        self.extractor = None
        if args.pose_model:
            from mmmg.pose_extraction.extractor import (BackendSpec,
                                                        PoseExtractor)
            self.extractor = PoseExtractor(
                BackendSpec(
                    pose_model=args.pose_model,
                    det_model=args.det_model,
                    det_preset=args.det_preset,
                    device=local_device(args.device)))
            try:  # a bad model fails now, not once per video
                self.extractor.load()
            except (ValueError, ImportError, RuntimeError) as e:
                raise ToolError(e) from e
        background = args.background_class
        if background == 'auto':
            from mmmg.apis.spotting import default_background
            background = default_background(streams.classes)
        elif background == 'none':
            background = None
        elif background not in streams.classes:
            raise ToolError(f'--background-class {background!r} is not a '
                            'class of the streams')
        self.background = background
        self.params = parse_params(args.param)

    def paths(self, item):
        from mmmg.apis.spotting import output_paths
        return output_paths(self.args.out_dir, item[1], self.args.overlay)

    def done(self, item) -> bool:
        from mmmg.apis.spotting import outputs_complete
        return outputs_complete(self.paths(item))

    def pose_of(self, video, stem):
        """``(PoseTrack or None, seconds)``."""
        from mmmg.apis import PoseTrack, load_pose
        from mmmg.pose_extraction.convert import pose_file_of
        from mmmg.pose_extraction.extractor import (pose_file_complete,
                                                    save_pose_file)
        from mmmg.utils.io import atomic_path
        args = self.args
        if args.pose_dir:
            path = pose_file_of(args.pose_dir, stem)
            if path is None:
                raise FileNotFoundError(f'{video}: no pose file {stem}.npz '
                                        f'(or .pkl) in {args.pose_dir}')
            return load_pose(path), 0.0
        if self.extractor is None:
            return None, 0.0
        path = osp.join(args.out_dir, 'pose', stem + '.npz')
        tic = time.perf_counter()
        if not pose_file_complete(path):
            record = self.extractor.extract(video)
            os.makedirs(osp.dirname(path), exist_ok=True)
            with atomic_path(path) as tmp:
                save_pose_file(tmp, record)
            return PoseTrack(record, path), time.perf_counter() - tic
        return load_pose(path), 0.0

    def __call__(self, item, on_frames):
        from mmmg.apis.spotting import spot_video, write_outputs
        from mmmg.spotting import read_label_csv
        video, stem = item
        args = self.args
        pose, pose_seconds = self.pose_of(video, stem)
        if self.needs_pose and pose is None:
            raise ToolError('skeleton streams need --pose-dir or --pose-model')
        result = spot_video(
            self.streams,
            video,
            pose,
            window=args.window,
            stride=args.stride,
            batch_size=args.batch_size,
            min_person=args.min_person,
            background_class=self.background,
            params=self.params,
            on_frames=on_frames,
            pose_seconds=pose_seconds)
        gt = None
        if stem in self.ground_truth:
            gt = read_label_csv(self.ground_truth[stem])
        write_outputs(self.paths(item), result, video, pose, gt, title=stem)
        scores = result.scores
        note = ''
        if scores.padded:
            note = (f' (shorter than the {scores.window}-frame window: one '
                    'padded window)')
        if not scores.scored.any():
            note += ' (no person found: nothing scored)'
        return dict(
            video=video,
            frames=scores.num_frames,
            seconds_of_video=scores.num_frames / scores.fps,
            segments=len(result.segments),
            seconds=result.seconds,
            note=note)


def main(argv=None):
    args = parse_args(argv)
    check_output_dir(args.out_dir, '--out-dir')
    if args.failure_log:
        check_output_file(args.failure_log, '--failure-log')
    if args.pose_dir and not osp.isdir(args.pose_dir):
        raise ToolError(f'--pose-dir {args.pose_dir!r} is not a folder')
    if args.fusion and not osp.isfile(args.fusion):
        raise ToolError(f'--fusion {args.fusion!r} not found')
    specs = parse_streams(args.streams)
    videos = find_videos(args.videos)
    ground_truth = find_ground_truth(args.gt_dir) if args.gt_dir else {}
    index, count, source = resolve_shard(args.shard)
    jobs = select_shard(videos, index, count)

    from mmmg.apis import load_streams
    streams = load_streams(
        specs,
        args.fusion,
        device=local_device(args.device),
        num_clips=None if args.all_clips else 1)
    if not args.pose_dir and not args.pose_model and any(
            s.needs_pose for s in streams.streams):
        raise ToolError('the streams ' +
                        ', '.join(s.name
                                  for s in streams.streams if s.needs_pose) +
                        ' need poses: pass --pose-dir or --pose-model')
    spotter = VideoSpotter(args, streams, ground_truth)
    print(f'shard {index}/{count} ({source}): {len(jobs)} of {len(videos)} '
          f'videos; streams {streams.outputs}, '
          f'{"fusion " + args.fusion if args.fusion else "mean fusion"}')
    os.makedirs(args.out_dir, exist_ok=True)
    failure_log = args.failure_log or osp.join(
        args.out_dir, 'failures.jsonl'
        if count == 1 else f'failures.shard{index}of{count}.jsonl')
    try:
        report = run_jobs(
            jobs,
            spotter,
            verify=spotter.done,
            overwrite=args.overwrite,
            strict=args.strict,
            failure_log=failure_log,
            name=lambda item: item[0],
            fields=lambda item: dict(video=item[0]),
            progress=not args.no_progress,
            desc='videos',
            unit='video',
            units='frame')
    except JobError as e:
        raise ToolError(str(e)) from e
    for done in report.results:
        sec = done['seconds']
        wall = sum(sec[k] for k in ('pose', 'scoring', 'spotting'))
        print(f'{done["video"]}: {done["segments"]} segments in '
              f'{done["frames"]} frames; {done["seconds_of_video"]:.1f} s of '
              f'video in {wall:.1f} s (pose {sec["pose"]:.1f}, scoring '
              f'{sec["scoring"]:.1f}, spotting {sec["spotting"]:.2f})' +
              done['note'])
    print(report.summary('videos', args.out_dir))
    if report.exit_status:
        sys.exit(report.exit_status)
    return report


if __name__ == '__main__':
    cli_main(main)
