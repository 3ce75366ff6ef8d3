"""Pose extraction speed: the whole tool against bare model inference.

A synthetic 1280x720 video (the iMiGUE frame size) with a swaying "person"
is written with OpenCV (mp4v) to a temporary folder, then, in one process,
for each pose network:

(a) tool: ``PoseExtractor`` on the video, as ``tools/extract_pose.py``
    runs it: decoding in a background thread, detection (or the whole frame
    as the box), tracking, crops, inference in batches, SimCC decoding and
    writing the ``.npz`` pose file; once with full-size decoding
    (``--decode-scale 1``, the default) and once with ``--decode-scale
    auto``;
(b) bare: the same models' ONNX Runtime sessions on input tensors made
    beforehand from the same frames (the crops the tool feeds the pose
    model; the letterboxed frames for the detector), in the same batches.

The runs alternate (tool, tool auto, bare, tool, ...) ``--repeats`` times;
printed are the medians in frames/s and the ratio tool / bare time (1.0:
the tool costs no more than its models). Before that, a stage profile
times each step of the tool alone over the whole video, in ms per frame:
decoding (as before: ``VideoStream.get_batch``; now: in order, full size
and at the ``auto`` scale), detector letterbox and inference, tracking,
crops, pose inference, SimCC decoding and writing.

Pose networks (``--pose-arch``), both exported to ONNX here with RTMPose's
input and output signature (256x192 input, 133 keypoints, SimCC split ratio
2); their multiply-accumulates per crop are printed:

- ``tiny``: five strided convolutions, ~0.08 GMAC, far cheaper than any real
  pose model, so it shows the tool's overhead at its largest;
- ``rtmpose-m``: a plain conv net of RTMPose-m's cost (~1.9 GMAC at
  256x192; its weights are random, so only its speed means anything).

``--pose-onnx`` times a real RTMPose / RTMW / DWPose ONNX instead and
``--det-onnx`` adds a real RTMDet / YOLOX end-to-end export. The MMPose
backend is timed only where mmpose is installed (it needs its own
environment) and a config and checkpoint are given.

Usage::

    python benchmarks/bench_extract_pose.py [--frames 100] [--repeats 3]
        [--threads 2] [--batch-size 16] [--pose-arch tiny rtmpose-m]
        [--pose-onnx PATH] [--det-onnx PATH --det-preset rtmdet]
        [--mmpose-config CFG --mmpose-checkpoint PTH]
"""
import argparse
import importlib.util
import os.path as osp
import tempfile
import time
from contextlib import contextmanager

import cv2
import numpy as np

from mmmg.data_prep.video_jobs import VideoStream
from mmmg.pose_extraction.backends import ONNXDetector, WholeFrameDetector
from mmmg.pose_extraction.decoding import FrameReader
from mmmg.pose_extraction.extractor import (BackendSpec, PoseExtractor,
                                            save_pose_file)
from mmmg.pose_extraction.topdown import crop_batch, decode_to_frame
from mmmg.pose_extraction.tracking import PrimaryPersonTracker

WIDTH, HEIGHT = 1280, 720
POSE_ARCHS = ('tiny', 'rtmpose-m')


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


def build_simcc_net(arch: str, num_keypoints: int = 133):
    """A torch network with RTMPose's SimCC signature (256x192 input).

    ``tiny``: five stride-2 3x3 convolutions (16 to 256 channels).
    ``rtmpose-m``: stages of 3x3 convolutions at strides 2 to 32 (32 to
    512 channels, 1 + 3 + 3 + 4 + 4 convolutions after each downsampling),
    about RTMPose-m's 1.9 GMAC; both end in RTMPose's head shape: a 1x1
    convolution to the keypoints, the 8x6 map flattened, a hidden layer and
    one linear layer per axis (384 and 512 bins).
    """
    from torch import nn

    def conv(cin, cout, stride):
        return [
            nn.Conv2d(cin, cout, 3, stride, 1, bias=False),
            nn.BatchNorm2d(cout),
            nn.SiLU()
        ]

    if arch == 'tiny':
        stages, hidden = [(16, 0), (32, 0), (64, 0), (128, 0), (256, 0)], 128
    elif arch == 'rtmpose-m':
        stages, hidden = [(32, 0), (64, 3), (128, 3), (256, 4), (512, 4)], 256
    else:
        raise ValueError(f'unknown pose arch {arch!r}')
    layers, width = [], 3
    for out, repeats in stages:  # 256x192 -> 8x6
        layers += conv(width, out, 2)
        for _ in range(repeats):
            layers += conv(out, out, 1)
        width = out

    class SimCCNet(nn.Module):

        def __init__(self):
            super().__init__()
            self.backbone = nn.Sequential(*layers)
            self.to_keypoints = nn.Conv2d(width, num_keypoints, 1)
            self.hidden = nn.Linear(8 * 6, hidden)
            self.head_x = nn.Linear(hidden, 192 * 2)
            self.head_y = nn.Linear(hidden, 256 * 2)

        def forward(self, x):
            feats = self.to_keypoints(self.backbone(x)).flatten(2)
            feats = self.hidden(feats)
            return self.head_x(feats), self.head_y(feats)

    return SimCCNet().eval()


def count_macs(model, shape=(1, 3, 256, 192)) -> int:
    """Multiply-accumulates of one forward pass (conv and linear)."""
    import torch
    from torch import nn
    total = []

    def hook(module, inputs, output):
        if isinstance(module, nn.Conv2d):
            per_out = module.in_channels // module.groups * \
                module.kernel_size[0] * module.kernel_size[1]
            total.append(output.numel() * per_out)
        else:
            total.append(output.numel() * module.in_features)

    handles = [
        m.register_forward_hook(hook) for m in model.modules()
        if isinstance(m, (nn.Conv2d, nn.Linear))
    ]
    with torch.no_grad():
        model(torch.zeros(shape))
    for handle in handles:
        handle.remove()
    return int(sum(total))


def export_simcc(path: str, arch: str) -> tuple:
    """Export a :func:`build_simcc_net` to ONNX; returns the path and its
    multiply-accumulates per crop."""
    import torch
    torch.manual_seed(0)
    model = build_simcc_net(arch)
    torch.onnx.export(
        model,
        torch.zeros(1, 3, 256, 192),
        path,
        input_names=['input'],
        output_names=['simcc_x', 'simcc_y'],
        dynamic_axes={
            name: {
                0: 'batch'
            }
            for name in ('input', 'simcc_x', 'simcc_y')
        },
        dynamo=False)
    return path, count_macs(model)


@contextmanager
def timed(times: dict, name: str):
    start = time.perf_counter()
    yield
    times[name] = times.get(name, 0.0) + time.perf_counter() - start


def chosen_boxes(detector, frames: np.ndarray, tracker) -> tuple:
    """Rows of ``frames`` with the subject and their ``xyxy`` boxes."""
    if isinstance(detector, WholeFrameDetector):
        box = detector.detect(frames[:1])[0][:, :4]
        return np.arange(len(frames)), np.repeat(box, len(frames), 0)
    chosen = [tracker.update(d) for d in detector.detect(frames)]
    rows = np.array([i for i, b in enumerate(chosen) if b is not None], int)
    boxes = np.array([chosen[i][:4] for i in rows], np.float32)
    return rows, boxes.reshape(-1, 4)


def stage_profile(extractor: PoseExtractor, video: str, out: str) -> dict:
    """Seconds of each step of the tool, run one step at a time."""
    detector, pose = extractor.load()._model
    size, times = extractor.chunk_size, {}
    with timed(times, 'decode before (VideoStream.get_batch)'):
        with VideoStream(video) as stream:
            for _ in stream.chunks(size):
                pass
    for name, scale in (('full size', 1.0), ('auto scale',
                                             extractor.needed_scale)):
        with timed(times, f'decode {name} (FrameReader)'):
            with FrameReader(video, scale) as reader:
                for _ in reader.chunks(size):
                    pass
    with FrameReader(video) as reader:  # kept for the next steps
        chunks = list(reader.chunks(size))
    tracker = PrimaryPersonTracker((WIDTH, HEIGHT))
    if isinstance(detector, ONNXDetector):
        with timed(times, 'detector letterbox'):
            inputs = [detector.prepare(c)[0] for c in chunks]
        with timed(times, 'detector inference'):
            for images in inputs:
                detector.run(images)
    picked = []
    with timed(times, 'detector boxes + tracking'):
        for chunk in chunks:
            picked.append(chosen_boxes(detector, chunk, tracker))
    with timed(times, 'crops (warp + normalise)'):
        crops = [
            crop_batch(
                chunk if len(rows) == len(chunk) else chunk[rows], boxes,
                pose.input_size)
            for chunk, (rows, boxes) in zip(chunks, picked)
        ]
    with timed(times, 'pose inference'):
        outputs = [pose.run(c[0]) for c in crops]
    with timed(times, 'SimCC decoding'):
        for (_, center, scale), (simcc_x, simcc_y) in zip(crops, outputs):
            decode_to_frame(simcc_x, simcc_y, pose.split_ratio, center, scale,
                            pose.input_size)
    record = extractor.extract(video)
    with timed(times, 'write .npz'):
        save_pose_file(out, record)
    return times


def bare_inputs(video: str, extractor: PoseExtractor):
    """The tensors the tool feeds its models for every frame of ``video``."""
    detector, pose = extractor.load()._model
    det_inputs, crops = [], []
    tracker = PrimaryPersonTracker((WIDTH, HEIGHT))
    with FrameReader(video) as reader:
        for chunk in reader.chunks(extractor.chunk_size):
            if isinstance(detector, ONNXDetector):
                det_inputs.append(detector.prepare(chunk)[0])
            rows, boxes = chosen_boxes(detector, chunk, tracker)
            crops.append(crop_batch(chunk[rows], boxes, pose.input_size)[0])
    return (np.concatenate(det_inputs) if det_inputs else None,
            np.concatenate(crops))


def run_bare(extractor: PoseExtractor, det_inputs, crops) -> None:
    detector, pose = extractor._model
    if det_inputs is not None:
        detector.run(det_inputs)
    pose.run(crops)


def interleaved(repeats: int, runs: dict) -> dict:
    """Seconds of each run per repeat, the runs alternating."""
    times = {name: [] for name in runs}
    for _ in range(repeats):
        for name, fn in runs.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return times


def bench_onnx(args, video: str, folder: str, arch: str) -> None:
    if args.pose_onnx:
        pose_path, macs = args.pose_onnx, None
    else:
        pose_path, macs = export_simcc(
            osp.join(folder, f'{arch}_simcc.onnx'), arch)
    spec = BackendSpec(
        pose_model=pose_path,
        det_model=args.det_onnx,
        det_preset=args.det_preset,
        batch_size=args.batch_size,
        threads=args.threads)
    full = PoseExtractor(spec, chunk_size=args.chunk_size).load()
    auto = PoseExtractor(
        spec, chunk_size=args.chunk_size, decode_scale='auto').load()
    out = osp.join(folder, 'pose.npz')
    n = args.frames
    label = osp.basename(pose_path) + (f' + {osp.basename(args.det_onnx)}'
                                       if args.det_onnx else ' (whole frame)')
    cost = f', {macs / 1e9:.2f} GMAC per crop' if macs else ''
    scale = full.needed_scale(WIDTH, HEIGHT)
    print(f'\nonnxruntime backend, {label}{cost}, {args.threads} threads, '
          f'batch {args.batch_size}, chunk {args.chunk_size}:')
    stages = stage_profile(full, video, out)
    print('  stage profile, ms per frame (each step alone):')
    for name, seconds in stages.items():
        print(f'    {name:40s} {1000 * seconds / n:8.2f}')
    det_inputs, crops = bare_inputs(video, full)
    times = interleaved(
        args.repeats, {
            'tool': lambda: full(video, out),
            'tool_auto': lambda: auto(video, out),
            'bare': lambda: run_bare(full, det_inputs, crops),
        })
    med = {name: float(np.median(t)) for name, t in times.items()}
    print(f'  median of {args.repeats} interleaved runs, frames/s:')
    print(f'    tool, full-size decode                 {n / med["tool"]:8.1f}')
    print(f'    tool, --decode-scale auto ({scale:.3f})    '
          f'{n / med["tool_auto"]:8.1f}')
    print(f'    bare model inference (pre-made inputs) {n / med["bare"]:8.1f}')
    for name, what in (('tool', 'full-size decode'), ('tool_auto',
                                                      'decode-scale auto')):
        per_run = np.array(times[name]) / np.array(times['bare'])
        print(f'  tool/bare ({arch if not args.pose_onnx else "given"}, '
              f'{what}): {med[name] / med["bare"]:.2f} (per run '
              f'{per_run.min():.2f}-{per_run.max():.2f})')


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
    pose = extractor._model[1]
    with FrameReader(video) as reader:
        frames = np.concatenate(list(reader.chunks(args.chunk_size)))
    boxes = np.tile([[0, 0, WIDTH, HEIGHT]], (len(frames), 1))
    times = interleaved(
        args.repeats, {
            'tool': lambda: extractor.extract(video),
            'bare': lambda: pose.estimate(list(frames), boxes)
        })
    tool, bare = (float(np.median(times[k])) for k in ('tool', 'bare'))
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
    parser.add_argument(
        '--pose-arch',
        nargs='+',
        choices=POSE_ARCHS,
        default=list(POSE_ARCHS),
        help='stand-in pose networks to time (default both)')
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
        for arch in ([None] if args.pose_onnx else args.pose_arch):
            bench_onnx(args, video, folder, arch)
        bench_mmpose(args, video)


if __name__ == '__main__':
    main()
