"""GPU acceptance run: the checks that need a CUDA device, in one process.

Five steps, each reported (passed / failed / skipped, with its reason and
figures) in one JSON report and a printed summary:

1. ``toy_training``: the toy iMiGUE release is generated and converted, then
   the toy PoseConv3D config trains through ``tools/dist_train.sh CONFIG 1
   --amp``; the loss of the last third of the iterations must be below that
   of the first third.
2. ``heatmaps``: :class:`HeatmapDataPreprocessor` on the GPU against the
   CPU transform ``GeneratePoseHeatmaps`` (+ ``FormatShape``) on the same
   keypoints; the largest difference must stay below ``HEATMAP_ATOL``.
3. ``config_timing``: every full config under ``configs/`` (names without
   ``_toy``): the model is built, one synthetic sample goes through the
   config's own training pipeline (from small files written here in the
   format its dataset reads: a pose pickle, an mp4 with a clip list, clip
   features, or for the online SSL configs a one-interview release whose
   sampling index ``LongVideoDataset`` builds), is repeated to the config's
   batch size, and ``model.train_step`` (data preprocessor, forward,
   backward, the config's optimizer step) runs ``--warmup`` times and then
   ``--iters`` timed times: samples/s and peak GPU memory. Loading is not
   timed. A teacher-target config whose teacher checkpoint is missing gets
   a randomly initialised teacher of its architecture (timing only; its
   row says so). A config that fails is reported with its error; the
   others go on.
4. ``videomae_pretrain``: the toy VideoMAE pre-training config trains a few
   iterations with ``--amp`` and ``model.with_cp=True`` (every block
   checkpointed); its losses must be finite.
5. ``pose_extraction``: ``pip install --target`` of ``onnxruntime-gpu`` into
   the work dir (the venv keeps its CPU onnxruntime); when that works,
   ``tools/extract_pose.py`` runs a tiny ONNX pose model with ONNX
   Runtime's CUDA provider on a synthetic video of a bright blob, whose
   keypoints must land on its centre. When the install fails the step is
   skipped with pip's reason.

``--dry-run`` runs the same steps on the CPU with tiny sizes (tiny toy
release, a few iterations, batch 1, no AMP, no pip install, extraction on
ONNX Runtime's CPU provider) so that CI keeps the code paths alive.

Usage::

    bash benchmarks/gpu_acceptance.sh            # on a machine with a GPU
    bash benchmarks/gpu_acceptance.sh --dry-run  # CPU, about a minute

Exit status: 0 when no step failed (skipped steps allowed), 1 otherwise.
"""
import argparse
import copy
import datetime
import gc
import glob
import json
import os
import os.path as osp
import pickle
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import traceback
from typing import Callable, Dict, List, Optional

import numpy as np

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, REPO)

TOY_POSE_CONFIG = 'configs/skeleton/posec3d/posec3d_slowonly_mg36_joint_toy.py'
TOY_MAE_CONFIG = (
    'configs/ssl/videomae/videomae_vit_base_p16_16x4_interviews_toy.py')
# The test's tolerance in tests/models/data_preprocessors: float32 rounding.
HEATMAP_ATOL = 1e-5
# Frames of the synthetic sources: enough for 32 x 2 sampled frames.
SOURCE_FRAMES = 96
SOURCE_SIZE = (320, 180)  # (W, H), the toy release's frame size
# The long interview of the online SSL configs (LongVideoDataset): its id
# and labelled MGs (class index, first frame, last frame).
LONG_VIDEO_ID = '0001'
LONG_VIDEO_MGS = ((0, 8, 39), (1, 48, 87))
# The pose test video: a Gaussian blob of this sigma on black.
BLOB_SIGMA = 8.
# --dry-run builds and times one config of each model/backbone type whose
# batch has at most this many input values (skeleton sequences, clip
# features); heatmap and video models take minutes per step on 2 CPU cores.
DRY_RUN_MAX_VALUES = 10**6
STEPS = ('toy_training', 'heatmaps', 'config_timing', 'videomae_pretrain',
         'pose_extraction')


class StepSkipped(Exception):
    """A step that cannot run here; its message says why."""


class StepFailed(Exception):
    """A step that ran and did not pass; its message says what failed."""


def error_text(error: BaseException, limit: int = 600) -> str:
    text = f'{type(error).__name__}: {error}'.strip()
    return text if len(text) <= limit else text[:limit] + ' ...'


def run_logged(cmd: List[str],
               log: str,
               env: Optional[Dict[str, str]] = None,
               timeout: float = 600) -> None:
    """Run ``cmd`` in the repo with its output in ``log``; raise
    StepFailed naming the command and the log's last lines on failure."""
    full_env = dict(os.environ, **(env or {}))
    with open(log, 'w') as f:
        try:
            proc = subprocess.run(
                cmd,
                cwd=REPO,
                env=full_env,
                stdout=f,
                stderr=subprocess.STDOUT,
                timeout=timeout)
        except subprocess.TimeoutExpired:
            raise StepFailed(f'{" ".join(cmd[:3])} ... ran over {timeout} s; '
                             f'log: {log}')
    if proc.returncode != 0:
        with open(log) as f:
            tail = ''.join(f.readlines()[-5:]).strip()
        raise StepFailed(f'{" ".join(cmd[:3])} ... exited '
                         f'{proc.returncode}; log {log} ends: {tail}')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def read_losses(work_dir: str) -> List[float]:
    """Per-iteration ``loss`` of a run's ``vis_data/scalars.json``."""
    paths = sorted(
        glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json')))
    if not paths:
        raise StepFailed(f'{work_dir} has no vis_data/scalars.json')
    losses = []
    with open(paths[-1]) as f:
        for line in f:
            row = json.loads(line)
            if 'loss' in row:
                losses.append(float(row['loss']))
    return losses


def loss_summary(losses: List[float]) -> Dict:
    third = max(1, len(losses) // 3)
    first, last = np.mean(losses[:third]), np.mean(losses[-third:])
    return dict(
        iterations=len(losses),
        losses=[round(v, 5) for v in losses],
        first_third_mean=round(float(first), 5),
        last_third_mean=round(float(last), 5),
        decreased=bool(last < first),
        finite=bool(np.isfinite(losses).all()))


class Acceptance:
    """The steps and their shared state (device, toy data, work dir)."""

    def __init__(self, args: argparse.Namespace) -> None:
        import torch
        self.args = args
        self.dry_run = args.dry_run
        self.device = 'cpu' if args.dry_run else 'cuda'
        self.work_dir = args.work_dir
        self.torch = torch
        self._toy = None
        self._synthetic = None
        # Model and backbone types timed so far (--dry-run times each once).
        self._timed_kinds = set()

    # -- shared data ---------------------------------------------------
    def toy_data(self) -> Dict[str, str]:
        """The toy release and its mg36 annotations (made once)."""
        if self._toy is None:
            root = osp.join(self.work_dir, 'toy_imigue')
            release = osp.join(root, 'release')
            ann_dir = osp.join(root, 'annotations')
            make = [
                sys.executable, 'data_prep/make_toy_imigue.py', '--out',
                release, '--overwrite'
            ]
            if self.dry_run:
                make += ['--size', 'tiny', '--workers', '1']
            run_logged(make, osp.join(self.work_dir, 'make_toy.log'))
            run_logged([
                sys.executable, 'data_prep/imigue_to_mmaction.py', release,
                '--out', ann_dir, '--layout', 'mg36', '--no-progress',
                '--workers', '1'
            ], osp.join(self.work_dir, 'convert_toy.log'))
            self._toy = dict(
                release=release,
                ann_dir=ann_dir,
                ann=osp.join(ann_dir, 'imigue_mg36.pkl'))
        return self._toy

    def synthetic(self) -> 'SyntheticSources':
        if self._synthetic is None:
            self._synthetic = SyntheticSources(
                osp.join(self.work_dir, 'synthetic'))
        return self._synthetic

    # -- 1 ---------------------------------------------------------------
    def toy_training(self) -> Dict:
        toy = self.toy_data()
        work = osp.join(self.work_dir, 'toy_training')
        cmd = [
            'bash', 'tools/dist_train.sh', TOY_POSE_CONFIG, '1', '--work-dir',
            work, '--ann-file', toy['ann'], '--no-validate', '--cfg-options',
            'default_hooks.logger.interval=1',
            'default_hooks.checkpoint.interval=1000',
            'train_dataloader.num_workers=0',
            'train_dataloader.persistent_workers=False'
        ]
        if self.dry_run:
            # 5 tiny training clips: batches of 2, 3 iterations an epoch.
            cmd += ['train_dataloader.batch_size=2', 'train_cfg.max_epochs=4']
        else:
            cmd.insert(4, '--amp')
        run_logged(
            cmd,
            osp.join(self.work_dir, 'toy_training.log'),
            env=dict(PYTHON=sys.executable, PORT=str(free_port())))
        result = dict(
            config=TOY_POSE_CONFIG,
            amp=not self.dry_run,
            command=' '.join(cmd),
            **loss_summary(read_losses(work)))
        if not (result['finite'] and result['decreased']):
            raise StepFailed(f'the loss did not go down: {result}')
        return result

    # -- 2 ---------------------------------------------------------------
    def heatmaps(self) -> Dict:
        from mmaction.datasets.transforms import FormatShape, PackActionInputs
        from mmaction.models import ActionDataPreprocessor
        from mmengine.dataset import pseudo_collate

        from mmmg.datasets.transforms import GeneratePoseHeatmaps
        from mmmg.models.data_preprocessors import HeatmapDataPreprocessor

        # The recipe's joint and limb maps (56x56, sigma 0.6, 48 frames),
        # RGBPose scaling and the test-time flip doubling with 2 clips.
        n = 2 if self.dry_run else 16
        frames = 8 if self.dry_run else 48
        cases = {
            'joints_56': (dict(sigma=0.6, layout='mg36'), (56, 56), 1),
            'limbs_56':
            (dict(sigma=0.6, layout='mg36', with_kp=False,
                  with_limb=True), (56, 56), 1),
            'joints_scaling_0.25':
            (dict(sigma=0.7, layout='mg36', scaling=0.25), (224, 224), 1),
            'limbs_double_2clips': (dict(
                sigma=0.6,
                layout='mg36',
                with_kp=False,
                with_limb=True,
                double=True), (64, 64), 2),
        }
        rows = {}
        for name, (kwargs, shape, clips) in cases.items():
            samples = random_keypoints(n, clips, frames // clips, shape,
                                       len(rows))
            pipeline = [
                GeneratePoseHeatmaps(**kwargs),
                FormatShape('NCTHW_Heatmap'),
                PackActionInputs()
            ]
            packed = []
            start = time.perf_counter()
            for sample in samples:
                results = dict(sample)
                for transform in pipeline:
                    results = transform(results)
                packed.append(results)
            cpu = ActionDataPreprocessor(
                format_shape='NCTHW')(pseudo_collate(packed))['inputs']
            cpu_s = time.perf_counter() - start

            pack = PackActionInputs(
                collect_keys=('keypoint', 'keypoint_score'),
                meta_keys=('img_shape', 'num_clips', 'clip_len'))
            batch = pseudo_collate([pack(dict(s)) for s in samples])
            gpu_pre = HeatmapDataPreprocessor(**kwargs).to(self.device)
            gpu_pre(copy.deepcopy(batch))  # warm-up (kernels, allocator)
            self.synchronize()
            start = time.perf_counter()
            out = gpu_pre(batch)['inputs']
            self.synchronize()
            gpu_s = time.perf_counter() - start
            if out.shape != cpu.shape:
                raise StepFailed(f'{name}: device maps {tuple(out.shape)} vs '
                                 f'transform {tuple(cpu.shape)}')
            diff = float((out.cpu() - cpu).abs().max())
            rows[name] = dict(
                shape=list(out.shape),
                max_abs_diff=diff,
                transform_samples_per_s=round(n / cpu_s, 1),
                preprocessor_samples_per_s=round(n / gpu_s, 1))
        worst = max(r['max_abs_diff'] for r in rows.values())
        result = dict(
            device=self.device,
            tolerance=HEATMAP_ATOL,
            max_abs_diff=worst,
            cases=rows)
        if not worst <= HEATMAP_ATOL:
            raise StepFailed(f'maps differ by {worst:.2e} > {HEATMAP_ATOL}: '
                             f'{rows}')
        return result

    # -- 3 ---------------------------------------------------------------
    def config_timing(self) -> Dict:
        configs = full_configs(self.args.configs)
        rows = {}
        for path in configs:
            print(f'  timing {path}', flush=True)
            rows[path] = self.time_config(path)
        failed = sorted(p for p, r in rows.items() if 'error' in r)
        result = dict(
            max_input_values=DRY_RUN_MAX_VALUES if self.dry_run else None,
            device=self.device,
            warmup=self.args.warmup,
            iters=self.args.iters,
            batch='1 (dry run)' if self.dry_run else 'config',
            configs=rows,
            failed=failed)
        return result

    def time_config(self, path: str) -> Dict:
        torch = self.torch
        from mmaction.registry import DATASETS, MODELS
        from mmengine.optim import build_optim_wrapper
        from mmengine.registry import FUNCTIONS

        from mmmg.utils.config import inner_dataset, read_config

        row = dict()
        stage = 'config'
        model = optim_wrapper = batch = None
        try:
            cfg = read_config(path)
            loader = cfg.train_dataloader
            # Two, not one: contrastive pre-training needs pairs.
            size = min(2, int(loader.batch_size)) if self.dry_run else int(
                loader.batch_size)
            row['batch_size'] = size
            stage = 'data'
            dataset_cfg = copy.deepcopy(inner_dataset(loader.dataset))
            self.synthetic().point(dataset_cfg, cfg)
            dataset = DATASETS.build(dataset_cfg)
            sample = dataset[0]
            collate_cfg = dict(
                loader.get('collate_fn') or dict(type='pseudo_collate'))
            collate = FUNCTIONS.get(collate_cfg.pop('type'))
            batch = collate([copy.deepcopy(sample) for _ in range(size)],
                            **collate_cfg)
            row['input_shape'] = describe_inputs(batch)
            pre_cfg = cfg.model.get('data_preprocessor') or {}
            if self.dry_run and 'Heatmap' in pre_cfg.get('type', ''):
                # *_gpu_render.py: the loader ships keypoints and the data
                # preprocessor draws the maps; size the model's input.
                drawn = MODELS.build(pre_cfg)(copy.deepcopy(batch), True)
                row['input_shape'] = describe_inputs(drawn)
            values = count_values(row['input_shape'])
            kind = model_kind(cfg.model)
            if self.dry_run and values > DRY_RUN_MAX_VALUES:
                # Minutes per step on 2 CPU cores: the pipeline ran, the
                # model is left to the GPU run.
                row['skipped'] = (f'dry run: {values} input values > '
                                  f'{DRY_RUN_MAX_VALUES}, not built or timed')
                return row
            if self.dry_run and kind in self._timed_kinds:
                row['skipped'] = f'dry run: another {kind} was timed'
                return row
            self._timed_kinds.add(kind)
            stage = 'build'
            teacher = self.synthetic().teacher_checkpoint(cfg.model)
            if teacher:
                row['teacher'] = teacher
            model = MODELS.build(cfg.model).to(self.device)
            model.train()
            row['params_m'] = round(
                sum(p.numel() for p in model.parameters()) / 1e6, 2)
            optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
            stage = 'step'
            for _ in range(self.args.warmup):
                log_vars = model.train_step(batch, optim_wrapper)
            self.synchronize()
            if self.device == 'cuda':
                torch.cuda.reset_peak_memory_stats()
            start = time.perf_counter()
            for _ in range(self.args.iters):
                log_vars = model.train_step(batch, optim_wrapper)
            self.synchronize()
            seconds = (time.perf_counter() - start) / self.args.iters
            loss = float(log_vars['loss'].detach())
            if not np.isfinite(loss):
                raise StepFailed(f'loss is {loss}')
            row.update(
                step_ms=round(seconds * 1e3, 2),
                samples_per_s=round(size / seconds, 2),
                loss=round(loss, 5))
            if self.device == 'cuda':
                row['peak_memory_gib'] = round(
                    torch.cuda.max_memory_allocated() / 2**30, 3)
        except Exception as e:  # reported, and the next config goes on
            row.pop('skipped', None)
            row.update(stage=stage, error=error_text(e))
            if self.args.debug:
                traceback.print_exc()
        finally:
            del model, optim_wrapper, batch
            gc.collect()
            if self.device == 'cuda':
                torch.cuda.empty_cache()
        return row

    # -- 4 ---------------------------------------------------------------
    def videomae_pretrain(self) -> Dict:
        toy = self.toy_data()
        work = osp.join(self.work_dir, 'videomae_pretrain')
        cmd = [
            sys.executable, 'tools/train.py', TOY_MAE_CONFIG, '--work-dir',
            work, '--cfg-options', 'model.with_cp=True',
            'train_dataloader.dataset.ann_file=' +
            osp.join(toy['ann_dir'], 'rgb_train.txt'),
            'train_dataloader.dataset.data_prefix.video=' + toy['release'],
            'train_cfg.max_epochs=2', 'default_hooks.logger.interval=1',
            'default_hooks.checkpoint.interval=1000'
        ]
        if not self.dry_run:
            cmd.insert(5, '--amp')
        run_logged(cmd, osp.join(self.work_dir, 'videomae_pretrain.log'))
        result = dict(
            config=TOY_MAE_CONFIG,
            amp=not self.dry_run,
            with_cp=True,
            command=' '.join(cmd),
            **loss_summary(read_losses(work)))
        if not result['finite']:
            raise StepFailed(f'non-finite loss: {result["losses"]}')
        return result

    # -- 5 ---------------------------------------------------------------
    def pose_extraction(self) -> Dict:
        root = osp.join(self.work_dir, 'pose_extraction')
        os.makedirs(root, exist_ok=True)
        env = dict()
        result = dict(device=self.device)
        if not self.dry_run:
            env = self.install_onnxruntime_gpu(root, result)
        model = export_blob_pose_model(osp.join(root, 'pose.onnx'))
        centers = write_blob_video(osp.join(root, 'videos', 'blob.mp4'))
        probe = subprocess.run([
            sys.executable, '-c', 'import sys, onnxruntime as ort; '
            's = ort.InferenceSession(sys.argv[1], providers=[sys.argv[2]]); '
            'print(ort.__version__, ",".join(s.get_providers()))', model,
            'CUDAExecutionProvider'
            if self.device == 'cuda' else 'CPUExecutionProvider'
        ],
                               capture_output=True,
                               text=True,
                               env=dict(os.environ, **env))
        if probe.returncode != 0:
            raise StepFailed(f'onnxruntime session: {probe.stderr[-400:]}')
        version, providers = probe.stdout.split()[-2:]
        result.update(onnxruntime=version, session_providers=providers)
        if self.device == 'cuda' and not providers.startswith('CUDA'):
            raise StepFailed('the CUDA provider did not load (the session '
                             f'runs on {providers}); stderr: '
                             f'{probe.stderr[-400:]}')
        out = osp.join(root, 'pose')
        cmd = [
            sys.executable, 'tools/extract_pose.py', 'extract', '--input-dir',
            osp.join(root, 'videos'), '--out', out, '--pose-model', model,
            '--device', self.device, '--workers', '0', '--no-progress',
            '--overwrite', '--strict'
        ]
        start = time.perf_counter()
        run_logged(cmd, osp.join(self.work_dir, 'extract_pose.log'), env=env)
        seconds = time.perf_counter() - start

        from mmmg.pose_extraction.convert import load_pose_file
        record = load_pose_file(osp.join(out, 'blob.npz'))
        keypoint = np.asarray(record['keypoint'])
        error = np.abs(keypoint.mean(1) - centers).max()
        result.update(
            command=' '.join(cmd),
            frames=len(keypoint),
            seconds_with_startup=round(seconds, 2),
            max_center_error_px=round(float(error), 2))
        if len(keypoint) != len(centers) or not error <= 4:
            raise StepFailed(f'keypoints off the blob: {result}')
        return result

    def install_onnxruntime_gpu(self, root: str, result: Dict) -> Dict:
        """``onnxruntime-gpu`` in its own folder, put first on PYTHONPATH
        for the extraction only, with the CUDA libraries of torch's wheels
        on LD_LIBRARY_PATH; StepSkipped when pip cannot install it."""
        target = osp.join(root, 'onnxruntime_gpu')
        pip = subprocess.run([
            sys.executable, '-m', 'pip', 'install', '--quiet',
            '--disable-pip-version-check', '--no-deps', '--upgrade',
            '--target', target, 'onnxruntime-gpu'
        ],
                             capture_output=True,
                             text=True,
                             timeout=self.args.pip_timeout)
        if pip.returncode != 0:
            lines = (pip.stderr or pip.stdout).strip().splitlines() or ['?']
            raise StepSkipped('pip install onnxruntime-gpu failed: ' +
                              lines[-1])
        result['installed'] = target
        libs = sorted(
            glob.glob(
                osp.join(
                    osp.dirname(osp.dirname(self.torch.__file__)), 'nvidia',
                    '*', 'lib')))
        paths = [target, os.environ.get('PYTHONPATH', '')]
        lib_paths = libs + [os.environ.get('LD_LIBRARY_PATH', '')]
        return dict(
            PYTHONPATH=os.pathsep.join(p for p in paths if p),
            LD_LIBRARY_PATH=os.pathsep.join(p for p in lib_paths if p))

    def synchronize(self) -> None:
        if self.device == 'cuda':
            self.torch.cuda.synchronize()


class SyntheticSources:
    """Small files in the formats the training configs read, so that one
    sample goes through a config's own pipeline: a pose pickle in the
    config's keypoint layout, an mp4 with its clip list, clip features
    with a win/lose table, a release of one long interview (mp4, OpenPose
    workbook, label table) for online SSL sampling; and a randomly
    initialised teacher checkpoint where a teacher-target config names a
    missing one."""

    def __init__(self, root: str) -> None:
        self.root = root
        os.makedirs(root, exist_ok=True)
        self._video = None
        self._release = None

    def video(self) -> str:
        if self._video is None:
            import cv2
            path = osp.join(self.root, 'clip.mp4')
            writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'mp4v'), 25,
                                     SOURCE_SIZE)
            rng = np.random.default_rng(0)
            w, h = SOURCE_SIZE
            base = rng.integers(0, 255, (h, w, 3), dtype=np.uint8)
            for i in range(SOURCE_FRAMES):
                writer.write(np.roll(base, 2 * i, axis=1))
            writer.release()
            self._video = path
        return self._video

    def point(self, dataset: Dict, cfg) -> None:
        """Point a dataset config at synthetic sources of its format."""
        ann = str(dataset.get('ann_file', ''))
        prefix = dict(dataset.get('data_prefix') or {})
        if dataset.get('type') == 'LongVideoDataset':
            # The index is built here on first use; one per layout, as its
            # fingerprint holds the settings.
            index_dir = osp.join(self.root, 'ssl_index')
            dataset.update(
                data_root=self.release(),
                index_file=osp.join(index_dir,
                                    dataset.get('pose_layout') or 'rgb'),
                cache_dir=osp.join(index_dir, 'skeleton_cache'))
        elif ann.endswith(('.pkl', '.pickle')):
            with_video = 'video' in prefix
            dataset.ann_file = self.pose_pickle(
                pose_layout(cfg),
                dataset.get('split') or 'train', with_video)
            if with_video:
                dataset.data_prefix.video = self.root
        elif ann.endswith('.txt'):
            path = osp.join(self.root, 'clips.txt')
            with open(path, 'w') as f:
                f.write(f'{osp.basename(self.video())} 0\n')
            dataset.ann_file = path
            dataset.data_prefix = dict(prefix, video=self.root)
        elif 'feature_files' in dataset:
            dataset.ann_file, dataset.feature_files = self.bags(
                cfg.model.in_dims, len(dataset.feature_files),
                dataset.get('max_clips', 64))
        else:
            raise StepSkipped(f'no synthetic source for dataset '
                              f'{dataset.get("type")} (ann_file {ann!r})')

    def release(self) -> str:
        """A MiGA-style release root (made once): one long interview
        ``train/<vid>/`` of :data:`SOURCE_FRAMES` frames with its mp4, its
        ``<vid>_openpose.xlsx`` (137 OpenPose points, every face anchor
        visible at any threshold up to 0.5) and a ``<vid>_label.csv`` of two
        MGs, whose lengths the online samplers draw clip lengths from."""
        if self._release is None:
            from data_prep.toy.imigue_release import write_skeleton_files
            vid = LONG_VIDEO_ID
            root = osp.join(self.root, 'release')
            folder = osp.join(root, 'train', vid)
            os.makedirs(folder, exist_ok=True)
            shutil.copy(self.video(), osp.join(folder, f'{vid}.mp4'))
            keypoint, score = still_body(np.random.default_rng(3), 137)
            write_skeleton_files(
                folder, vid, LONG_VIDEO_MGS,
                np.concatenate([keypoint, score[..., None]], -1).round(2))
            self._release = root
        return self._release

    def teacher_checkpoint(self, model: Dict) -> Optional[str]:
        """Point a teacher-target model config whose teacher checkpoint is
        missing at a randomly initialised one of the same architecture
        (timing only); returns a note saying so, or None."""
        target = model.get('target') or {}
        path = target.get('checkpoint')
        if target.get('type') != 'teacher' or not path or osp.isfile(path):
            return None
        import torch
        from mmaction.registry import MODELS
        teacher = MODELS.build(copy.deepcopy(target['teacher']))
        teacher.init_weights()
        prefix = target.get('prefix', 'backbone.')
        state = {prefix + k: v for k, v in teacher.state_dict().items()}
        out = osp.join(self.root, 'random_teacher.pth')
        torch.save(dict(state_dict=state), out)
        target['checkpoint'] = out
        return (
            f'random teacher (timing only): {path} not found, a randomly '
            f'initialised {target["teacher"]["type"]} was written to {out}')

    def pose_pickle(self, layout: str, split: str, with_video: bool) -> str:
        from mmmg.keypoints import get_layout
        path = osp.join(self.root, f'pose_{layout}_{split}.pkl')
        num_kp = get_layout(layout).num_keypoints
        rng = np.random.default_rng(1)
        w, h = SOURCE_SIZE
        anns = []
        for i in range(2):
            keypoint, score = still_body(rng, num_kp)
            ann = dict(
                frame_dir=f'syn_{i}',
                label=0,
                total_frames=SOURCE_FRAMES,
                img_shape=(h, w),
                original_shape=(h, w),
                keypoint=keypoint[None],
                keypoint_score=score[None])
            if with_video:
                ann.update(video_path=osp.basename(self.video()), start=0)
            anns.append(ann)
        with open(path, 'wb') as f:
            pickle.dump(
                dict(
                    split={split: [a['frame_dir'] for a in anns]},
                    annotations=anns), f)
        return path

    def bags(self, in_dims: int, streams: int, clips: int):
        from mmmg.evaluation.features import save_features
        rng = np.random.default_rng(2)
        files = []
        ids = np.asarray([f'v0_{k}' for k in range(clips)])
        for s in range(streams):
            path = osp.join(self.root, f'features_{s}.npz')
            save_features(
                path,
                dict(
                    features=rng.normal(0, 1, (clips, in_dims // streams)),
                    labels=np.zeros(clips, np.int64),
                    sample_ids=ids,
                    videos=np.asarray(['v0'] * clips)))
            files.append(path)
        table = osp.join(self.root, 'outcomes.csv')
        with open(table, 'w') as f:
            f.write('video,outcome\nv0,win\n')
        return table, files


def still_body(rng: np.random.Generator, num_kp: int):
    """A still body in the middle of a :data:`SOURCE_SIZE` frame, every
    point moving a little from frame to frame: float32 keypoints ``[T, V,
    2]`` in pixels and scores ``[T, V]`` in [0.5, 1)."""
    w, h = SOURCE_SIZE
    base = rng.uniform([w * .3, h * .1], [w * .7, h * .9], (1, num_kp, 2))
    jitter = rng.normal(0, 1.5, (SOURCE_FRAMES, num_kp, 2))
    score = rng.uniform(.5, 1, (SOURCE_FRAMES, num_kp))
    return (base + jitter).astype(np.float32), score.astype(np.float32)


def pose_layout(cfg) -> str:
    """The keypoint layout a config's data is in."""
    if cfg.get('layout'):
        return cfg.layout
    pipeline = cfg.train_dataloader.dataset.get('pipeline', [])
    for transform in pipeline:
        if transform.get('layout'):
            return transform['layout']
    return 'mg36'


def full_configs(patterns: Optional[List[str]] = None) -> List[str]:
    """Every config under configs/ that is not a toy variant or a base,
    relative to the repo; ``patterns`` keeps those containing one."""
    paths = sorted(
        osp.relpath(p, REPO) for p in glob.glob(
            osp.join(REPO, 'configs', '**', '*.py'), recursive=True))
    paths = [
        p for p in paths
        if '_toy' not in osp.basename(p) and '_base_' not in p.split(os.sep)
    ]
    if patterns:
        paths = [p for p in paths if any(s in p for s in patterns)]
    return paths


def describe_inputs(batch: Dict):
    """Shapes of a collated batch's inputs, for the report."""
    inputs = batch['inputs'] if 'inputs' in batch else {
        k: v
        for k, v in batch.items() if k != 'data_samples'
    }

    def shape(value):
        if isinstance(value, dict):
            return {k: shape(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [len(value)] + list(shape(value[0])) if value else [0]
        return list(getattr(value, 'shape', []))

    return shape(inputs)


def model_kind(model: Dict) -> str:
    backbone = model.get('backbone') or {}
    return '/'.join(t for t in (model['type'], backbone.get('type')) if t)


def count_values(shape) -> int:
    """Numbers in a batch described by :func:`describe_inputs`."""
    if isinstance(shape, dict):
        return sum(count_values(v) for v in shape.values())
    return int(np.prod(shape)) if shape else 0


def random_keypoints(num, num_clips, clip_len, img_shape, seed):
    """Keypoint samples with 1-3 persons, points off the frame, unsure
    points and a missing point, as a pose pipeline hands them over."""
    rng = np.random.default_rng(seed)
    h, w = img_shape
    samples = []
    for i in range(num):
        shape = (i % 3 + 1, num_clips * clip_len, 36)
        kp = np.stack(
            [rng.uniform(-4, w + 4, shape),
             rng.uniform(-4, h + 4, shape)], -1).astype(np.float32)
        kp[0, 0, 7] = np.nan
        score = rng.uniform(0, 1, shape).astype(np.float32)
        score[rng.random(shape) < .2] = 0
        samples.append(
            dict(
                keypoint=kp,
                keypoint_score=score,
                img_shape=img_shape,
                num_clips=num_clips,
                clip_len=clip_len,
                label=i % 32))
    return samples


def blob_centers(num_frames: int) -> np.ndarray:
    _, h = SOURCE_SIZE
    t = np.arange(num_frames)
    return np.stack([60 + 11.3 * t, h / 2 + 20 * np.sin(t / 3)], 1)


def write_blob_video(path: str, num_frames: int = 16) -> np.ndarray:
    """An mp4 of a bright Gaussian blob moving on black; returns its
    centres."""
    import cv2
    os.makedirs(osp.dirname(path), exist_ok=True)
    w, h = SOURCE_SIZE
    centers = blob_centers(num_frames)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'mp4v'), 25,
                             SOURCE_SIZE)
    for x, y in centers:
        blob = np.exp(-((xx - x)**2 + (yy - y)**2) / (2 * BLOB_SIGMA**2))
        writer.write(np.repeat((255 * blob).astype(np.uint8)[..., None], 3, 2))
    writer.release()
    return centers


def export_blob_pose_model(path: str,
                           num_keypoints: int = 133,
                           input_size=(192, 256),
                           split_ratio: int = 2) -> str:
    """An ONNX model with RTMPose's signature (``input [N, 3, H, W]`` ->
    ``simcc_x [N, K, W * r]``, ``simcc_y [N, K, H * r]``) whose every
    keypoint's SimCC bins follow the mean brightness of the columns and
    rows: on a frame with one bright blob the keypoints land on its
    centre."""
    import torch

    class BlobPose(torch.nn.Module):

        def bins(self, profile):
            bins = profile.repeat_interleave(split_ratio, dim=1)
            return (bins[:, None] * 10).expand(-1, num_keypoints, -1)

        def forward(self, x):
            bright = x.mean(1)
            bright = bright - bright.amin((1, 2), keepdim=True)
            return self.bins(bright.mean(1)), self.bins(bright.mean(2))

    w, h = input_size
    names = ('input', 'simcc_x', 'simcc_y')
    torch.onnx.export(
        BlobPose().eval(),
        torch.zeros(1, 3, h, w),
        path,
        input_names=['input'],
        output_names=list(names[1:]),
        dynamic_axes={n: {
            0: 'batch'
        }
                      for n in names},
        dynamo=False)
    return path


def environment(device: str) -> Dict:
    import mmaction
    import mmengine
    import torch

    import mmmg
    env = dict(
        python=platform.python_version(),
        torch=torch.__version__,
        cuda=torch.version.cuda,
        mmaction2=mmaction.__version__,
        mmengine=mmengine.__version__,
        mmmg=mmmg.__version__,
        host_cpus=os.cpu_count(),
        device=device)
    if device == 'cuda':
        props = torch.cuda.get_device_properties(0)
        env.update(
            gpu=props.name,
            gpu_memory_gib=round(props.total_memory / 2**30, 1),
            cudnn=torch.backends.cudnn.version())
    return env


def print_summary(report: Dict) -> None:
    print(f'\nGPU acceptance ({report["environment"]["device"]}'
          f'{", dry run" if report["dry_run"] else ""}), '
          f'{report["seconds"]:.0f} s')
    for name, step in report['steps'].items():
        detail = step.get('reason', '')
        print(f'  {name:<18} {step["status"]:<8} {step["seconds"]:>7.1f} s'
              f'  {detail}'.rstrip())
    timing = report['steps'].get('config_timing', {})
    if 'configs' in timing:
        print(f'\n{"config":<72}{"batch":>6}{"samples/s":>11}'
              f'{"step ms":>10}{"peak GiB":>10}')
        for path, row in timing['configs'].items():
            name = path[len('configs/'):]
            if 'error' in row:
                print(f'{name:<72}  {row["stage"]} failed: '
                      f'{row["error"][:120]}')
                continue
            if 'skipped' in row:
                print(f'{name:<72}  {row["skipped"]}')
                continue
            peak = row.get('peak_memory_gib')
            print(f'{name:<72}{row["batch_size"]:>6}'
                  f'{row["samples_per_s"]:>11.2f}{row["step_ms"]:>10.1f}'
                  f'{"-" if peak is None else f"{peak:.2f}":>10}')
            if 'teacher' in row:
                print(f'    {row["teacher"]}')
    print(f'\nreport: {report["report"]}')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__[__doc__.index('Five steps'):])
    parser.add_argument(
        '--dry-run',
        action='store_true',
        help='every step on the CPU at tiny sizes (for CI)')
    parser.add_argument(
        '--out',
        help='JSON report (default: benchmarks/results/'
        'gpu_acceptance_<date>.json, _dryrun.json for --dry-run)')
    parser.add_argument(
        '--work-dir',
        help='toy data, logs and checkpoints (default: a temporary folder, '
        'removed at the end)')
    parser.add_argument(
        '--steps',
        nargs='+',
        choices=STEPS,
        default=list(STEPS),
        help='run only these steps')
    parser.add_argument(
        '--configs',
        nargs='+',
        metavar='TEXT',
        help='time only the full configs whose path contains one of these')
    parser.add_argument(
        '--warmup',
        type=int,
        help='untimed iterations per config (default 1; 0 with --dry-run)')
    parser.add_argument(
        '--iters',
        type=int,
        help='timed iterations per config (default 3; 1 with --dry-run)')
    parser.add_argument(
        '--pip-timeout',
        type=float,
        default=300,
        help='seconds for pip install onnxruntime-gpu (default 300)')
    parser.add_argument(
        '--debug',
        action='store_true',
        help='print the traceback of every failure')
    args = parser.parse_args(argv)
    if args.warmup is None:
        args.warmup = 0 if args.dry_run else 1
    if args.iters is None:
        args.iters = 1 if args.dry_run else 3
    if args.iters < 1 or args.warmup < 0:
        parser.error('--iters must be >= 1 and --warmup >= 0')
    if args.out is None:
        date = datetime.date.today().isoformat()
        suffix = '_dryrun' if args.dry_run else ''
        args.out = osp.join(REPO, 'benchmarks', 'results',
                            f'gpu_acceptance_{date}{suffix}.json')
    return args


def run_step(step: Callable[[], Dict], debug: bool) -> Dict:
    start = time.perf_counter()
    try:
        result = dict(status='passed', **step())
    except StepSkipped as e:
        result = dict(status='skipped', reason=str(e))
    except Exception as e:  # a failed step is reported; the others go on
        if debug:
            traceback.print_exc()
        result = dict(status='failed', reason=error_text(e, 2000))
    result['seconds'] = round(time.perf_counter() - start, 2)
    return result


def main(argv=None) -> None:
    args = parse_args(argv)
    import torch
    from mmaction.utils import register_all_modules

    import mmmg
    from mmmg.utils.cli import ToolError, check_output_file
    from mmmg.utils.io import atomic_open

    check_output_file(args.out, '--out')
    if not args.dry_run and not torch.cuda.is_available():
        raise ToolError('no CUDA device here: run it on a GPU machine, or '
                        'pass --dry-run for the CPU check')
    register_all_modules(init_default_scope=True)
    mmmg.register_all_modules()

    temp = None
    if args.work_dir is None:
        temp = tempfile.TemporaryDirectory(prefix='gpu_acceptance_')
        args.work_dir = temp.name
    os.makedirs(args.work_dir, exist_ok=True)
    acceptance = Acceptance(args)
    report = dict(
        dry_run=args.dry_run,
        started=datetime.datetime.now(datetime.timezone.utc).isoformat(
            timespec='seconds'),
        environment=environment(acceptance.device),
        report=osp.relpath(args.out, REPO)
        if args.out.startswith(REPO) else args.out,
        steps={})
    start = time.perf_counter()
    try:
        for name in args.steps:
            print(f'== {name}', flush=True)
            report['steps'][name] = run_step(
                getattr(acceptance, name), args.debug)
            print(
                f'   {report["steps"][name]["status"]} in '
                f'{report["steps"][name]["seconds"]:.1f} s',
                flush=True)
    finally:
        if temp is not None:
            temp.cleanup()
    report['seconds'] = round(time.perf_counter() - start, 1)
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    with atomic_open(args.out, 'w') as f:
        json.dump(report, f, indent=1)
        f.write('\n')
    print_summary(report)
    if any(s['status'] == 'failed' for s in report['steps'].values()):
        sys.exit(1)


if __name__ == '__main__':
    from mmmg.utils.cli import cli_main
    cli_main(main)
