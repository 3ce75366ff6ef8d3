"""Test a checkpoint: accuracy, macro-F1, per-class precision / recall / F1 and
a confusion matrix (CSV + PNG next to the log); optionally dump an mmmg
score pickle.

Examples:
    python tools/test.py CONFIG CHECKPOINT
    python tools/test.py CONFIG CHECKPOINT --dump scores/joint.pkl
    bash tools/dist_test.sh CONFIG CHECKPOINT 8 --dump scores/joint.pkl

The score pickle holds one record per test sample (clip id, label when known,
clip-averaged class probabilities per stream); see README "Score pickles".
"""
import argparse
import os.path as osp

from mmaction.registry import RUNNERS

import mmmg  # noqa: F401 (imported after MMEngine: registers its modules)
from mmmg.engine import read_checkpoint, shutdown_dist
from mmmg.utils.cli import ToolError, check_output_file, cli_main
from mmmg.utils.config import (add_checkpoint_args, add_common_args,
                               inner_dataset, load_config)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='test config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--dump', metavar='PKL', help='write the score pickle here')
    parser.add_argument(
        '--stream',
        help='stream name of a single-stream '
        'model in the score pickle (default: config name)')
    add_common_args(parser)
    add_checkpoint_args(parser)
    return parser.parse_args(argv)


def _evaluators(cfg) -> list:
    evaluator = cfg.test_evaluator
    if isinstance(evaluator, dict) and 'metrics' in evaluator:
        return list(evaluator.metrics)
    return [evaluator] if isinstance(evaluator, dict) else list(evaluator)


def _set_evaluators(cfg, metrics) -> None:
    if isinstance(cfg.test_evaluator,
                  dict) and 'metrics' in cfg.test_evaluator:
        cfg.test_evaluator.metrics = metrics
    else:
        cfg.test_evaluator = metrics


def add_classification_metric(cfg) -> None:
    """Every test run reports macro-F1 and per-class precision / recall / F1
    and writes the confusion matrix (CSV + PNG) next to its log."""
    metrics = _evaluators(cfg)
    if not any(m.get('type') == 'MGClassificationMetric' for m in metrics):
        _set_evaluators(cfg, metrics + [dict(type='MGClassificationMetric')])


def add_score_dump(cfg, args) -> None:
    """Append the score-pickle metric and make the head average
    probabilities, which is what the pickle promises."""
    head = cfg.model.get('cls_head')
    if head is not None and head.get('average_clips') != 'prob':
        head.average_clips = 'prob'
    stream = args.stream or osp.splitext(osp.basename(args.config))[0]
    # What was tested, so fusion can tell val from test scores.
    data = inner_dataset(cfg.test_dataloader.dataset)
    meta = dict(
        config=args.config,
        checkpoint=args.checkpoint,
        ann_file=data.get('ann_file'),
        split=data.get('split'))
    if args.allow_partial:
        # Some layers were not loaded: keep that with the scores.
        meta['allow_partial'] = True
    dump = dict(
        type='DumpMGScores', out_file=args.dump, stream=stream, meta=meta)
    _set_evaluators(cfg, _evaluators(cfg) + [dump])


def main(argv=None):
    args = parse_args(argv)
    if args.dump:
        if not args.dump.endswith(('.pkl', '.pickle')):
            raise ToolError(f'--dump must name a .pkl file, got '
                            f'{args.dump!r}')
        check_output_file(args.dump, '--dump')
    # Read it now, so a bad file fails before the model and data are built.
    read_checkpoint(args.checkpoint)
    cfg = load_config(args)
    cfg.load_from = args.checkpoint
    add_classification_metric(cfg)
    if args.dump:
        add_score_dump(cfg, args)
    runner = RUNNERS.build(cfg)
    runner.test()
    shutdown_dist()


if __name__ == '__main__':
    cli_main(main)
