"""Pose extraction speed: the whole tool against bare model inference.

A synthetic 1280x720 video (the iMiGUE frame size) with a swaying "person"
is written with OpenCV (mp4v) to a temporary folder, then, in one process:

(a) tool: ``PoseExtractor`` on the video, as ``tools/extract_pose.py``
    runs it: decoding in chunks, detection (or the whole frame as the box),
    tracking, crops, inference in batches, SimCC decoding and writing the
    ``.npz`` pose file;
(b) bare: the same models' ONNX Runtime sessions on input tensors made
    beforehand from the same frames (the crops the tool feeds the pose
    model; the letterboxed frames for the detector), in the same batches.

Both print frames/s; their ratio is the share of the tool's time spent
outside the models (decoding, pre- and post-processing, tracking, writing).
Each figure is the best of ``--repeats`` runs.

By default the pose model is a small SimCC network (strided convolutions
and RTMPose's input and output signature, 133 keypoints) exported to ONNX
here, which runs far faster than a real RTMPose, so the overhead share
is larger than with a real model; ``--pose-onnx`` times a real RTMPose /
RTMW / DWPose ONNX and ``--det-onnx`` a real RTMDet/YOLOX end-to-end
export. The MMPose backend is timed only where mmpose is installed (it
needs its own environment) and a config and checkpoint are given.

Usage::

    python benchmarks/bench_extract_pose.py [--frames 100] [--repeats 3]
        [--threads 2] [--batch-size 16] [--pose-onnx PATH]
        [--det-onnx PATH --det-preset rtmdet] [--mmpose-config CFG
        --mmpose-checkpoint PTH]
"""
import argparse
import importlib.util
import os.path as osp
import tempfile
import time

import cv2
import numpy as np

from mmmg.data_prep.video_jobs import VideoStream
from mmmg.pose_extraction.backends import ONNXDetector
from mmmg.pose_extraction.extractor import BackendSpec, PoseExtractor
from mmmg.pose_extraction.topdown import crop_inputs

WIDTH, HEIGHT = 1280, 720


def write_test_video(path: str, num_frames: int, fps: float = 25.0) -> None:
    """A textured backdrop and a seated "person" swaying, with hands."""
    rng = np.random.default_rng(0)
    backdrop = cv2.GaussianBlur(
        rng.integers(40, 220, (HEIGHT, WIDTH, 3), np.uint8), (0, 0), 6)
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'mp4v'), fps,
                             (WIDTH, HEIGHT))
    if not writer.isOpened():
        raise RuntimeError(f'OpenCV cannot write {path}')
    for t in range(num_frames):
        frame = backdrop.copy()
        sway = int(12 * np.sin(t / 15))
        cv2.ellipse(frame, (640 + sway, 260), (90, 115), 0, 0, 360,
                    (90, 110, 160), -1)
        cv2.rectangle(frame, (470 + sway, 380), (810 + sway, 720),
                      (60, 60, 70), -1)
        for side in (-1, 1):
            x = int(640 + side * (200 + 60 * np.sin(t / 8 + side)))
            cv2.circle(frame, (x, 520), 35, (100, 130, 190), -1)
        writer.write(frame)
    writer.release()


def export_small_simcc(path: str, num_keypoints: int = 133) -> str:
    """A small network with RTMPose's SimCC signature, to ONNX."""
    import torch
    from torch import nn

    class SmallSimCC(nn.Module):

        def __init__(self):
            super().__init__()
            layers, width = [], 3
            for out in (16, 32, 64, 128, 256):  # 256x192 -> 8x6
                layers += [
                    nn.Conv2d(width, out, 3, 2, 1),
                    nn.BatchNorm2d(out),
                    nn.SiLU()
                ]
                width = out
            self.backbone = nn.Sequential(*layers)
            self.to_keypoints = nn.Conv2d(width, num_keypoints, 1)
            self.mlp = nn.Linear(8 * 6, 128)
            self.head_x = nn.Linear(128, 192 * 2)
            self.head_y = nn.Linear(128, 256 * 2)

        def forward(self, x):
            feats = self.to_keypoints(self.backbone(x)).flatten(2)
            feats = self.mlp(feats)
            return self.head_x(feats), self.head_y(feats)

    torch.manual_seed(0)
    torch.onnx.export(
        SmallSimCC().eval(),
        torch.zeros(1, 3, 256, 192),
        path,
        input_names=['input'],
        output_names=['simcc_x', 'simcc_y'],
        dynamic_axes={
            'input': {
                0: 'batch'
            },
            'simcc_x': {
                0: 'batch'
            },
            'simcc_y': {
                0: 'batch'
            }
        },
        dynamo=False)
    return path


def best_of(repeats: int, fn) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def bare_inputs(video: str, extractor: PoseExtractor):
    """The tensors the tool feeds its models for every frame of ``video``."""
    detector, pose = extractor.load()._models
    det_inputs, crops = [], []
    with VideoStream(video) as stream:
        for chunk in stream.chunks(extractor.chunk_size):
            boxes = detector.detect(chunk)
            if isinstance(detector, ONNXDetector):
                det_inputs.append(
                    np.stack([detector.prepare(f)[0] for f in chunk]))
            for frame, found in zip(chunk, boxes):
                if len(found):  # the largest box stands in for the track
                    box = found[np.argmax((found[:, 2] - found[:, 0]) *
                                          (found[:, 3] - found[:, 1]))]
                    crops.append(
                        crop_inputs(frame, box[None, :4], pose.input_size)[0])
    return (np.concatenate(det_inputs) if det_inputs else None,
            np.concatenate(crops))


def run_bare(extractor: PoseExtractor, det_inputs, crops) -> None:
    detector, pose = extractor._models
    if det_inputs is not None:
        detector.run(det_inputs)
    pose.run(crops)


def bench_onnx(args, video: str, folder: str) -> None:
    pose_path = args.pose_onnx or export_small_simcc(
        osp.join(folder, 'small_simcc.onnx'))
    spec = BackendSpec(
        pose_model=pose_path,
        det_model=args.det_onnx,
        det_preset=args.det_preset,
        batch_size=args.batch_size,
        threads=args.threads)
    extractor = PoseExtractor(spec, chunk_size=args.chunk_size).load()
    det_inputs, crops = bare_inputs(video, extractor)
    out = osp.join(folder, 'pose.npz')
    tool = best_of(args.repeats, lambda: extractor(video, out))
    bare = best_of(args.repeats,
                   lambda: run_bare(extractor, det_inputs, crops))
    n = args.frames
    label = osp.basename(pose_path) + (f' + {osp.basename(args.det_onnx)}'
                                       if args.det_onnx else ' (whole frame)')
    print(f'onnxruntime backend, {label}, {args.threads} threads, batch '
          f'{args.batch_size}:')
    print(f'  tool (decode+detect+track+crop+infer+decode+write) '
          f'{n / tool:8.1f} frames/s')
    print(f'  bare model inference (pre-made inputs)             '
          f'{n / bare:8.1f} frames/s')
    print(f'  ratio tool/bare time {tool / bare:.2f}: '
          f'{100 * (1 - bare / tool):.0f}% of the tool time is outside the '
          'models')


def bench_mmpose(args, video: str) -> None:
    if importlib.util.find_spec('mmpose') is None:
        print('mmpose backend: skipped: mmpose not installed (it needs its '
              'own environment with the mmpose extra)')
        return
    if not (args.mmpose_config and args.mmpose_checkpoint):
        print('mmpose backend: skipped: no --mmpose-config and '
              '--mmpose-checkpoint given')
        return
    spec = BackendSpec(
        backend='mmpose',
        pose_config=args.mmpose_config,
        pose_checkpoint=args.mmpose_checkpoint)
    extractor = PoseExtractor(spec, chunk_size=args.chunk_size).load()
    pose = extractor._models[1]
    with VideoStream(video) as stream:
        frames = np.concatenate(list(stream.chunks(args.chunk_size)))
    boxes = np.tile([[0, 0, WIDTH, HEIGHT]], (len(frames), 1))
    tool = best_of(args.repeats, lambda: extractor.extract(video))
    bare = best_of(args.repeats, lambda: pose.estimate(list(frames), boxes))
    n = args.frames
    print(f'mmpose backend ({osp.basename(args.mmpose_checkpoint)}, whole '
          f'frame): tool {n / tool:.1f} frames/s, inference_topdown on '
          f'decoded frames {n / bare:.1f} frames/s, ratio {tool / bare:.2f}')


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--frames', type=int, default=100)
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument(
        '--threads', type=int, default=2, help='ONNX Runtime intra-op threads')
    parser.add_argument('--batch-size', type=int, default=16)
    parser.add_argument('--chunk-size', type=int, default=32)
    parser.add_argument('--pose-onnx', help='a real RTMPose/RTMW ONNX file')
    parser.add_argument('--det-onnx', help='an end-to-end detector ONNX')
    parser.add_argument(
        '--det-preset', default='rtmdet', choices=('rtmdet', 'yolox'))
    parser.add_argument('--mmpose-config')
    parser.add_argument('--mmpose-checkpoint')
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        video = osp.join(folder, 'bench.mp4')
        write_test_video(video, args.frames)
        print(f'{args.frames} frames of {WIDTH}x{HEIGHT} (mp4v)')
        bench_onnx(args, video, folder)
        bench_mmpose(args, video)


if __name__ == '__main__':
    main()
