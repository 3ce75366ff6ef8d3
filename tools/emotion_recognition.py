"""MG-based emotion recognition (iMiGUE-3K protocol 5): win/lose per video
from frozen clip features, grouped by video, padded with a mask and pooled by
a gated-attention MIL aggregator; accuracy and F1 on the test videos.

Runs configs/emotion/attention_mil_1xb16-100e_imigue3k_win_lose.py (or
--config) with the mmengine Runner on the files given here: several feature
files per split (e.g. a skeleton and an RGB encoder) are joined by sample id
and concatenated. Video labels: a CSV ``video,outcome`` with outcomes
``win``/``lose``. The same config trains through tools/train.py and tests
through tools/test.py.
Writes to --out-dir: metrics.json, predictions.csv, aggregator.pth and
loss.png (next to the Runner's logs and checkpoint).

Examples:
    python tools/emotion_recognition.py \\
        --train feats/skel_train.npz feats/rgb_train.npz \\
        --test feats/skel_test.npz feats/rgb_test.npz \\
        --labels data/imigue3k/outcomes.csv --out-dir work_dirs/emotion
"""
import argparse
import json
import os
import os.path as osp

import numpy as np
import torch
from mmaction.registry import DATASETS, RUNNERS

import mmmg  # noqa: F401  (registers the aggregator, dataset and metric)
from mmmg.evaluation.features import FeatureFileError
from mmmg.utils.cli import ToolError, add_debug_arg, check_output_dir, cli_main
from mmmg.utils.config import read_config
from mmmg.utils.io import atomic_open

CONFIG = osp.join(
    osp.dirname(osp.dirname(osp.abspath(__file__))), 'configs', 'emotion',
    'attention_mil_1xb16-100e_imigue3k_win_lose.py')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        '--train',
        nargs='+',
        required=True,
        help='feature files of the training clips')
    parser.add_argument(
        '--test',
        nargs='+',
        required=True,
        help='feature files of the test clips, same streams')
    parser.add_argument('--labels', required=True, help='video,outcome CSV')
    parser.add_argument('--out-dir', required=True)
    parser.add_argument(
        '--config',
        default=CONFIG,
        help='the emotion config (default: %(default)s)')
    parser.add_argument('--max-clips', type=int, default=64)
    parser.add_argument('--epochs', type=int, default=100)
    parser.add_argument('--lr', type=float, default=1e-3)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--strict', action='store_true', help='fail on videos without a label')
    add_debug_arg(parser)
    return parser.parse_args(argv)


def build_config(args):
    """The config with the command line's data, schedule and outputs."""
    cfg = read_config(args.config)
    for loader, files in ((cfg.train_dataloader, args.train),
                          (cfg.test_dataloader, args.test)):
        loader.dataset.update(
            ann_file=args.labels,
            feature_files=files,
            max_clips=args.max_clips,
            strict=args.strict)
    cfg.train_cfg.update(max_epochs=args.epochs, val_interval=args.epochs + 1)
    cfg.default_hooks.checkpoint.interval = args.epochs
    cfg.optim_wrapper.optimizer.lr = args.lr
    cfg.randomness = dict(seed=args.seed)
    cfg.test_evaluator.prediction_file = osp.join(args.out_dir,
                                                  'predictions.csv')
    cfg.work_dir = args.out_dir
    cfg.setdefault('runner_type', 'MGRunner')
    return cfg


def epoch_losses(runner) -> list:
    """Mean training loss of every epoch, from the Runner's message hub."""
    losses = runner.message_hub.get_scalar('train/loss').data[0]
    return [
        float(np.mean(e)) for e in np.array_split(losses, runner.max_epochs)
    ]


def plot_loss(history, path):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(5, 3))
    ax.plot(range(1, len(history) + 1), history)
    ax.set_xlabel('epoch')
    ax.set_ylabel('training loss (class-balanced CE)')
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv=None) -> int:
    args = parse_args(argv)
    if len(args.train) != len(args.test):
        raise ToolError(f'{len(args.train)} --train but {len(args.test)} '
                        '--test feature files; give the same streams for '
                        'both')
    check_output_dir(args.out_dir, '--out-dir')
    cfg = build_config(args)
    try:  # bad inputs stop here, before the Runner starts
        train, test = (
            DATASETS.build(cfg[f'{split}_dataloader'].dataset)
            for split in ('train', 'test'))
    except (FeatureFileError, ValueError, KeyError) as e:
        raise ToolError(e.args[0] if isinstance(e, KeyError) else e) from e
    cfg.model.in_dims = train.feature_dims
    os.makedirs(args.out_dir, exist_ok=True)
    runner = RUNNERS.build(cfg)
    runner.train()
    history = epoch_losses(runner)
    metrics = {k.split('/')[-1]: v for k, v in runner.test().items()}
    metrics.update(
        train_videos=len(train),
        test_videos=len(test),
        train_loss=history,
        final_train_loss=history[-1])
    with atomic_open(osp.join(args.out_dir, 'metrics.json'), 'w') as f:
        json.dump(metrics, f, indent=1)
    with atomic_open(osp.join(args.out_dir, 'aggregator.pth')) as f:
        torch.save(runner.model.state_dict(), f)
    plot_loss(history, osp.join(args.out_dir, 'loss.png'))
    print(f'{len(train)} training / {len(test)} test videos; loss '
          f'{history[0]:.3f} -> {history[-1]:.3f}; test accuracy '
          f'{100 * metrics["accuracy"]:.2f}%, F1 win '
          f'{100 * metrics["f1_win"]:.2f}%, macro-F1 '
          f'{100 * metrics["macro_f1"]:.2f}%')
    return 0


if __name__ == '__main__':
    cli_main(main)
