"""Print top-1 / top-5 / mean class accuracy of score pickles.

Example:
    python tools/summarize_scores.py work_dirs/quickstart/scores/*.pkl
"""
import argparse
import os.path as osp

import numpy as np

from mmmg.evaluation import (ScoreFileError, label_vector, load_scores,
                             mean_class_accuracy, score_matrix, top_k_accuracy)
from mmmg.utils.cli import ToolError, add_debug_arg, cli_main


def accuracies(scores: np.ndarray, labels: np.ndarray) -> dict:
    """Top-1, top-5 and mean class accuracy over labelled samples."""
    known = labels >= 0
    scores, labels = scores[known], labels[known]
    top = top_k_accuracy(scores, labels, (1, 5))
    mean_class = mean_class_accuracy(labels, scores.argmax(1), scores.shape[1])
    return dict(
        n=int(known.sum()), top1=top[1], top5=top[5], mean_class=mean_class)


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('scores', nargs='+', help='mmmg score pickles')
    add_debug_arg(parser)
    args = parser.parse_args(argv)
    rows = []
    for path in args.scores:
        if not osp.isfile(path):
            raise ToolError(f'score file {path!r} not found; check the path')
        try:
            sf = load_scores(path)
        except ScoreFileError as e:
            raise ToolError(f'{e}; pass a score pickle written by '
                            'tools/test.py --dump') from e
        labels = label_vector(sf)
        if not (labels >= 0).any():
            print(f'{path}: no ground-truth labels, nothing to score')
            continue
        for stream in sf['streams']:
            rows.append((osp.basename(path), stream,
                         accuracies(score_matrix(sf, stream), labels)))
    if rows:
        print(f'{"file":<28} {"stream":<34} {"n":>5} {"top1":>7} '
              f'{"top5":>7} {"mean_cls":>8}')
        for name, stream, acc in rows:
            print(f'{name:<28} {stream:<34} {acc["n"]:>5} '
                  f'{acc["top1"]:>7.2%} {acc["top5"]:>7.2%} '
                  f'{acc["mean_class"]:>8.2%}')


if __name__ == '__main__':
    cli_main(main)
