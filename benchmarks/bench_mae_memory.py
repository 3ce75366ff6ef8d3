"""Tokens per clip and peak memory per clip of the VideoMAE ViT-B/16 recipe.

Tokens: 16 frames at 224 with 2x16x16 tubelets give 8x14x14 = 1568 tokens;
tube masking at 0.9 masks round(0.9 * 196) = 176 patches of every temporal
slice at the same places, so the encoder sees 8 x 20 = 160 tokens (tube
masking keeps a whole number of patches per slice: 10% of 1568, 156.8, is
not reachable).

Memory: one clip (batch 1) of 16x224 through a forward and backward pass on
the CPU, for

(a) pre-training: the model of
    ``configs/ssl/videomae/videomae_vit_base_p16_16x4_interviews.py``
    (encoder on the 160 visible tokens, 4-block 384-wide decoder on all
    1568, MSE on the masked tubelets' normalised pixels);
(b) fine-tuning: the model of
    ``configs/ssl/videomae/vit_base_p16_16x4_imigue_finetune.py`` (encoder
    on all 1568 tokens, mean pooling, 32-class head, cross-entropy),
    its backbone as ``VisionTransformerCP`` (same weights);

each without and with gradient checkpointing (``with_cp``: every block's
activations recomputed in the backward pass).

Method: every case runs in a fresh interpreter with glibc's mmap threshold
fixed at 64 KiB (``MALLOC_MMAP_THRESHOLD_``), so that large freed tensors go
back to the OS at once and the resident set tracks the live tensors. After
the model is built, its gradients are allocated (``zeros_like``) and the
kernel's peak-RSS counter is reset (``/proc/self/clear_refs`` = 5), the
resident set is read as the baseline; after one forward and backward pass
the peak (``VmHWM``) minus the baseline is the memory the clip needs
(activations kept for the backward pass plus temporaries; not the weights,
their gradients or optimizer state, which do not grow with the batch). The
first pass is measured (no warm-up: a warm-up would leave allocator caches
that hide part of the peak). Weights + gradients are reported separately.

Usage::

    python benchmarks/bench_mae_memory.py [--threads 2] [--frames 16]
        [--size 224]
"""
import argparse
import gc
import json
import os
import subprocess
import sys
import time
import warnings

CASES = [('pretrain', False), ('pretrain', True), ('finetune', False),
         ('finetune', True)]
CONFIGS = {
    'pretrain': 'configs/ssl/videomae/videomae_vit_base_p16_16x4_'
    'interviews.py',
    'finetune': 'configs/ssl/videomae/vit_base_p16_16x4_imigue_finetune.py',
}
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _status_kib(field: str) -> int:
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith(field + ':'):
                return int(line.split()[1])
    raise RuntimeError(f'{field} not in /proc/self/status')


def _reset_peak() -> bool:
    try:
        with open('/proc/self/clear_refs', 'w') as f:
            f.write('5')
        return True
    except OSError:
        return False


def build(kind: str, with_cp: bool, frames: int, size: int):
    """The recipe's model, at ``frames`` x ``size``, in training mode."""
    from mmaction.registry import MODELS
    from mmaction.utils import register_all_modules

    import mmmg  # noqa: F401
    from mmmg.utils.config import read_config
    register_all_modules()
    cfg = read_config(os.path.join(REPO, CONFIGS[kind])).model
    cfg.backbone.update(num_frames=frames, img_size=size)
    if kind == 'pretrain':
        cfg.with_cp = with_cp
        cfg.masking.seed = 0
    else:
        cfg.backbone.update(type='VisionTransformerCP', with_cp=with_cp)
    model = MODELS.build(cfg)
    model.init_weights()
    return model.train()


def worker(kind: str, with_cp: bool, frames: int, size: int,
           threads: int) -> dict:
    import torch
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = build(kind, with_cp, frames, size)
    params = [p for p in model.parameters() if p.requires_grad]
    for p in params:
        p.grad = torch.zeros_like(p)
    weights_mib = sum(p.numel() * p.element_size() * 2 for p in params) / 2**20
    clip = torch.randn(1, 3, frames, size, size)
    if kind == 'finetune':
        from mmaction.structures import ActionDataSample
        sample = ActionDataSample().set_gt_labels(torch.tensor([3]))

    def step():
        if kind == 'pretrain':
            losses = model(clip, mode='loss')
        else:
            losses = model(clip.unsqueeze(1), [sample], mode='loss')
        loss = sum(v for k, v in losses.items() if 'loss' in k)
        loss.backward()
        return loss

    step()  # warm-up: lazy imports, kernel selection, graph caches
    for p in params:
        p.grad.zero_()
    gc.collect()
    reset = _reset_peak()
    base_kib = _status_kib('VmRSS')
    start = time.perf_counter()
    loss = step()
    seconds = time.perf_counter() - start
    peak_kib = _status_kib('VmHWM')
    if not reset:  # no reset: the peak since start, build included
        base_kib = 0
    return dict(
        kind=kind,
        with_cp=with_cp,
        loss=float(loss),
        peak_mib=(peak_kib - base_kib) / 1024,
        weights_grads_mib=weights_mib,
        seconds=seconds,
        peak_reset=reset)


def run_case(kind: str, with_cp: bool, args) -> dict:
    env = dict(
        os.environ,
        MALLOC_MMAP_THRESHOLD_='65536',
        OMP_NUM_THREADS=str(args.threads),
        PYTHONWARNINGS='ignore')
    cmd = [
        sys.executable,
        os.path.abspath(__file__), '--worker', kind, '--with-cp',
        str(int(with_cp)), '--threads',
        str(args.threads), '--frames',
        str(args.frames), '--size',
        str(args.size)
    ]
    proc = subprocess.run(
        cmd, env=env, cwd=REPO, capture_output=True, text=True)
    if proc.returncode:
        raise RuntimeError(f'{kind} with_cp={with_cp} failed:\n'
                           f'{proc.stderr[-3000:]}')
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--frames', type=int, default=16)
    parser.add_argument('--size', type=int, default=224)
    parser.add_argument(
        '--worker', choices=sorted(CONFIGS), help=argparse.SUPPRESS)
    parser.add_argument(
        '--with-cp', type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(
            json.dumps(
                worker(args.worker, bool(args.with_cp), args.frames, args.size,
                       args.threads)))
        return 0

    sys.path.insert(0, REPO)
    warnings.filterwarnings('ignore', 'Fail to import')  # mmcv-lite
    from mmmg.models.ssl import count_tokens
    tokens = count_tokens(args.frames, args.size, 16, 2, 0.9)
    t, h, w = tokens['grid']
    print(f'ViT-B/16, {args.frames}x{args.size}, tubelets 2x16x16: '
          f'{t}x{h}x{w} = {tokens["tokens"]} tokens per clip')
    print(f'tube masking 0.9: {tokens["masked_per_slice"]} of {h * w} '
          f'patches masked per slice -> {tokens["visible"]} visible tokens '
          f'per clip ({tokens["tokens"] - tokens["visible"]} masked)')
    print(f'peak memory per clip: batch 1, CPU ({args.threads} threads), '
          'forward + backward, fresh process per case; peak RSS (VmHWM, '
          'reset after the model, its gradients and one warm-up pass) minus '
          'the RSS at that point; glibc mmap threshold 64 KiB')
    print(f'{"case":<34}{"peak MiB/clip":>14}{"weights+grads MiB":>19}'
          f'{"fwd+bwd s":>11}')
    for kind, with_cp in CASES:
        r = run_case(kind, with_cp, args)
        name = (f'pre-training ({tokens["visible"]} visible)' if kind
                == 'pretrain' else f'fine-tuning (all {tokens["tokens"]})')
        name += ', with_cp' if with_cp else ''
        note = '' if r['peak_reset'] else '  (peak not reset: since start)'
        print(f'{name:<34}{r["peak_mib"]:>14.0f}'
              f'{r["weights_grads_mib"]:>19.0f}{r["seconds"]:>11.1f}{note}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
