"""Micro-gesture spotting on the toy test videos: our spotter against a
naive baseline, and the real-time factor on CPU.

In one process, on the test split of a toy MiGA release (the default preset
of ``data_prep/make_toy_imigue.py``, generated unless ``--data`` holds
one) and the toy joint PoseConv3D (``posec3d_slowonly_mg36_joint_toy.py``,
trained here with ``tools/train.py`` unless ``--checkpoint`` is given):

(a) ours: ``mmmg.apis.spot_video``: overlapping windows (the training clip
    length, half of it as stride), per-frame posteriors, smoothing,
    hysteresis, the non-MG class, temporal NMS (``SPOTTING_DEFAULTS``);
(b) naive: the same model on fixed, non-overlapping windows of the same
    length, argmax per window, no smoothing
    (``mmmg.spotting.naive_segments``).

Both use the ground-truth keypoints of the release (so the comparison is
about spotting, not pose) and are scored against the label tables with
``mmmg.spotting.evaluate_spotting`` (P/R/F1 at tIoU 0.3/0.5/0.7, the
non-MG class left out). The real-time factor (video seconds per wall
second) is split into pose (a small SimCC ONNX network with RTMPose's
signature, ``bench_extract_pose.export_simcc(path, 'tiny')``, or
``--pose-onnx``),
scoring and spotting, with ``--threads`` torch and ONNX Runtime threads.

Usage::

    python benchmarks/bench_spotting.py [--work DIR] [--threads 2]
        [--data DIR --checkpoint CKPT] [--videos N]
"""
import argparse
import importlib.util
import os
import os.path as osp
import subprocess
import sys
import time

import numpy as np

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIG = osp.join(REPO, 'configs', 'skeleton', 'posec3d',
                  'posec3d_slowonly_mg36_joint_toy.py')


def run(cmd):
    print('$', ' '.join(cmd), flush=True)
    subprocess.run([sys.executable] + cmd, cwd=REPO, check=True)


def prepare(args):
    """``(release, checkpoint)``: made here unless given."""
    data = args.data or osp.join(args.work, 'toy_imigue')
    release = osp.join(data, 'release')
    ann = osp.join(data, 'annotations', 'imigue_mg36.pkl')
    if not osp.isfile(osp.join(release, 'toy_meta.json')):
        run([
            'data_prep/make_toy_imigue.py', '--out', release, '--seed',
            str(args.seed)
        ])
    if args.checkpoint:
        return release, args.checkpoint
    if not osp.isfile(ann):
        run([
            'data_prep/imigue_to_mmaction.py', release, '--out',
            osp.dirname(ann), '--layout', 'mg36'
        ])
    work = osp.join(args.work, 'joint')
    last = osp.join(work, 'last_checkpoint')
    if not osp.isfile(last):
        run(['tools/train.py', CONFIG, '--work-dir', work, '--cfg-options'] + [
            f'{loader}.dataset.ann_file={ann}'
            for loader in ('train_dataloader', 'val_dataloader',
                           'test_dataloader')
        ] + [
            'train_dataloader.num_workers=0',
            'train_dataloader.persistent_workers=False',
            'val_dataloader.num_workers=0',
            'val_dataloader.persistent_workers=False'
        ])
    with open(last) as f:
        return release, f.read().strip()


def test_videos(release):
    """``[(vid, video, label csv, openpose sheet)]`` of the test split."""
    from mmmg.data_prep.imigue_release import discover_release
    videos, _ = discover_release(release)
    return [(v.vid, v.video, v.label, v.skeleton) for v in videos
            if v.split == 'test' and v.video and v.label and v.skeleton]


def ground_truth_pose(sheet, video, vid):
    from mmmg.apis import PoseTrack
    from mmmg.data_prep.imigue_release import probe_video, read_openpose_xlsx
    table, _ = read_openpose_xlsx(sheet, vid)
    height, width, _ = probe_video(video, vid)
    return PoseTrack(
        dict(
            keypoint=table[..., :2],
            keypoint_score=table[..., 2],
            person_found=table[..., 2].max(-1) > 0,
            img_shape=np.array([height, width]),
            fps=25.0,
            layout='openpose137'), sheet)


def pose_extractor(args):
    from mmmg.pose_extraction.extractor import BackendSpec, PoseExtractor
    path = args.pose_onnx
    if path is None:
        spec = importlib.util.spec_from_file_location(
            'bench_extract_pose',
            osp.join(REPO, 'benchmarks', 'bench_extract_pose.py'))
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        path, _ = module.export_simcc(
            osp.join(args.work, 'small_simcc.onnx'), 'tiny')
    return PoseExtractor(
        BackendSpec(pose_model=path, threads=args.threads, batch_size=16))


def fmt(report, iou):
    at = report['overall'][iou]
    return (f'P {at["precision"]:.3f}  R {at["recall"]:.3f}  '
            f'F1 {at["f1"]:.3f}  (TP {at["tp"]}, FP {at["fp"]}, '
            f'FN {at["fn"]})')


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        '--work', default=osp.join(REPO, 'work_dirs', 'bench_spotting'))
    parser.add_argument('--data', help='folder with a toy release/')
    parser.add_argument('--checkpoint', help='a trained toy joint model')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--videos', type=int, help='at most N test videos')
    parser.add_argument('--pose-onnx', help='a real RTMPose ONNX to time')
    args = parser.parse_args(argv)
    os.makedirs(args.work, exist_ok=True)
    release, checkpoint = prepare(args)

    import torch

    import mmmg
    from mmmg.apis import load_streams, score_video, spot_video
    from mmmg.spotting import (MIGA_NON_MG_CLASS, evaluate_spotting,
                               naive_segments, read_label_csv)
    mmmg.register_all_modules()
    torch.set_num_threads(args.threads)
    streams = load_streams({'joint': (CONFIG, checkpoint)})
    background = MIGA_NON_MG_CLASS
    videos = test_videos(release)[:args.videos]
    extractor = pose_extractor(args)
    extractor.load()
    ours, naive = {}, {}
    seconds = dict(video=0., pose=0., scoring=0., spotting=0.)
    for vid, video, label, sheet in videos:
        gt = read_label_csv(label)
        tic = time.perf_counter()
        extracted = extractor.extract(video)
        seconds['pose'] += time.perf_counter() - tic
        seconds['video'] += extracted['total_frames'] / extracted['fps']
        pose = ground_truth_pose(sheet, video, vid)
        result = spot_video(streams, video, pose, background_class=background)
        seconds['scoring'] += result.seconds['scoring']
        seconds['spotting'] += result.seconds['spotting']
        ours[vid] = (result.segments, gt)
        window = result.scores.window
        fixed = score_video(streams, video, pose, window=window, stride=window)
        keep = fixed.scored
        naive[vid] = (naive_segments(fixed.fused[keep], fixed.starts[keep],
                                     fixed.ends[keep], streams.classes,
                                     background), gt)
        print(
            f'{vid}: {result.scores.num_frames} frames, {len(gt)} '
            f'ground-truth, {len(result.segments)} spotted, '
            f'{len(naive[vid][0])} naive segments',
            flush=True)
    reports = {
        name: evaluate_spotting(pairs, background_class=background)
        for name, pairs in (('ours', ours), ('naive', naive))
    }
    print(f'\n{len(videos)} toy test videos, {seconds["video"]:.1f} s of '
          f'video; model {osp.basename(checkpoint)}; window '
          f'{window} frames')
    for iou in ('0.3', '0.5', '0.7'):
        for name in ('ours', 'naive'):
            print(f'tIoU {iou} {name:<6} {fmt(reports[name], iou)}')
    f1 = {n: reports[n]['overall']['0.5']['f1'] for n in reports}
    ratio = f1['ours'] / f1['naive'] if f1['naive'] else float('inf')
    print(f'F1@0.5: ours {f1["ours"]:.3f}, naive {f1["naive"]:.3f}, '
          f'ratio {ratio:.2f}')
    wall = seconds['pose'] + seconds['scoring'] + seconds['spotting']
    print(f'real-time factor on {args.threads} threads (video s / wall s): '
          f'total {seconds["video"] / wall:.2f}; pose '
          f'{seconds["video"] / seconds["pose"]:.2f}, scoring '
          f'{seconds["video"] / seconds["scoring"]:.2f}, spotting '
          f'{seconds["video"] / seconds["spotting"]:.0f} '
          f'(wall {seconds["pose"]:.1f} + {seconds["scoring"]:.1f} + '
          f'{seconds["spotting"]:.2f} s)')


if __name__ == '__main__':
    main()
