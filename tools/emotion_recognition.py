"""MG-based emotion recognition (iMiGUE-3K protocol 5): win/lose per video
from frozen clip features, grouped by video, padded with a mask and pooled by
a gated-attention MIL aggregator; accuracy and F1 on the test videos.

Several feature files per split (e.g. a skeleton and an RGB encoder) are
joined by sample id and concatenated. Video labels: a CSV ``video,outcome``
with outcomes ``win``/``lose``.
Writes to --out-dir: metrics.json, predictions.csv, aggregator.pth and
loss.png.

Examples:
    python tools/emotion_recognition.py \\
        --train feats/skel_train.npz feats/rgb_train.npz \\
        --test feats/skel_test.npz feats/rgb_test.npz \\
        --labels data/imigue3k/outcomes.csv --out-dir work_dirs/emotion
"""
import argparse
import csv
import json
import os
import os.path as osp
import sys

import torch

from mmmg.emotion import (build_bags, evaluate_bags, fit_aggregator,
                          read_video_labels)
from mmmg.evaluation.features import FeatureFileError, load_features
from mmmg.utils.io import atomic_open


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--train', nargs='+', required=True,
                        help='feature files of the training clips')
    parser.add_argument('--test', nargs='+', required=True,
                        help='feature files of the test clips, same streams')
    parser.add_argument('--labels', required=True, help='video,outcome CSV')
    parser.add_argument('--out-dir', required=True)
    parser.add_argument('--max-clips', type=int, default=64)
    parser.add_argument('--epochs', type=int, default=100)
    parser.add_argument('--lr', type=float, default=1e-3)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--strict', action='store_true',
                        help='fail on videos without a label')
    return parser.parse_args(argv)


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
        print('error: give the same streams for --train and --test',
              file=sys.stderr)
        return 2
    try:
        labels = read_video_labels(args.labels)
        train = build_bags([load_features(p) for p in args.train], labels,
                           args.max_clips, args.strict)
        test = build_bags([load_features(p) for p in args.test], labels,
                          args.max_clips, args.strict)
    except (FeatureFileError, ValueError, KeyError, OSError) as e:
        print(f'error: {e}', file=sys.stderr)
        return 2
    model, history = fit_aggregator(train, epochs=args.epochs, lr=args.lr,
                                     seed=args.seed)
    result = evaluate_bags(model, test)
    os.makedirs(args.out_dir, exist_ok=True)
    metrics = {k: result[k] for k in ('accuracy', 'f1_win', 'f1_lose',
                                      'macro_f1')}
    metrics.update(train_videos=len(train.videos),
                   test_videos=len(test.videos),
                   final_train_loss=history[-1])
    with atomic_open(osp.join(args.out_dir, 'metrics.json'), 'w') as f:
        json.dump(metrics, f, indent=1)
    with atomic_open(osp.join(args.out_dir, 'predictions.csv'), 'w') as f:
        w = csv.writer(f)
        w.writerow(['video', 'outcome', 'prob_win'])
        for v, y, p in zip(result['videos'], result['labels'],
                           result['prob_win']):
            w.writerow([v, 'win' if y else 'lose', f'{p:.4f}'])
    with atomic_open(osp.join(args.out_dir, 'aggregator.pth')) as f:
        torch.save(model.state_dict(), f)
    plot_loss(history, osp.join(args.out_dir, 'loss.png'))
    print(f'{len(train.videos)} training / {len(test.videos)} test videos; '
          f'loss {history[0]:.3f} -> {history[-1]:.3f}; test accuracy '
          f'{100 * metrics["accuracy"]:.2f}%, F1 win '
          f'{100 * metrics["f1_win"]:.2f}%, macro-F1 '
          f'{100 * metrics["macro_f1"]:.2f}%')
    return 0


if __name__ == '__main__':
    sys.exit(main())
