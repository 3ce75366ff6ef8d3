"""Train a recognizer with the mmengine Runner (mmmg's MGRunner by default).

Examples:
    python tools/train.py \\
        configs/skeleton/posec3d/posec3d_slowonly_mg36_joint_toy.py
    python tools/train.py CONFIG --resume            # latest checkpoint
    python tools/train.py CONFIG --resume PATH.pth   # a given checkpoint
    bash tools/dist_train.sh CONFIG 8                # 8 GPUs (or CPU procs)
"""
import argparse

from mmaction.registry import RUNNERS

import mmmg  # noqa: F401 (imported after MMEngine: registers its modules)
from mmmg.engine import shutdown_dist
from mmmg.utils.cli import cli_main
from mmmg.utils.config import (add_checkpoint_args, add_common_args,
                               enable_amp, load_config, use_pseudo_labels)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='train config file')
    parser.add_argument(
        '--resume',
        nargs='?',
        const='auto',
        metavar='CHECKPOINT',
        help='resume from CHECKPOINT, or from the latest checkpoint in the '
        'work dir when no path is given')
    parser.add_argument(
        '--amp',
        action='store_true',
        help='automatic mixed precision (CUDA only)')
    parser.add_argument(
        '--no-validate',
        action='store_true',
        help='skip validation during training')
    parser.add_argument(
        '--auto-scale-lr',
        action='store_true',
        help='scale the lr by total batch size / '
        'auto_scale_lr.base_batch_size')
    parser.add_argument(
        '--pseudo-labels',
        metavar='ANN',
        help='train on this annotation from '
        'tools/pseudo_label.py (train + pseudo-labelled '
        'samples)')
    parser.add_argument(
        '--pseudo-split',
        default='train_pseudo',
        help='its split, for pose pickles')
    parser.add_argument('--seed', type=int, help='random seed')
    parser.add_argument(
        '--deterministic',
        action='store_true',
        help='deterministic cuDNN/torch algorithms')
    add_common_args(parser)
    add_checkpoint_args(parser)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    cfg = load_config(args)
    if args.amp:
        enable_amp(cfg)
    if args.resume == 'auto':
        cfg.resume, cfg.load_from = True, None
    elif args.resume is not None:
        cfg.resume, cfg.load_from = True, args.resume
    if args.pseudo_labels:
        use_pseudo_labels(cfg, args.pseudo_labels, args.pseudo_split)
    if args.no_validate:
        cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    if args.auto_scale_lr:
        cfg.auto_scale_lr = dict(cfg.get('auto_scale_lr') or {}, enable=True)
    if args.seed is not None or args.deterministic:
        randomness = dict(cfg.get('randomness') or {})
        if args.seed is not None:
            randomness['seed'] = args.seed
        randomness['deterministic'] = args.deterministic
        cfg.randomness = randomness
    runner = RUNNERS.build(cfg)
    runner.train()
    shutdown_dist()


if __name__ == '__main__':
    cli_main(main)
