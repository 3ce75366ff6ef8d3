"""Clip features of an encoder for one split, as a feature file (.npz) for
tools/retrieve.py and tools/emotion_recognition.py.

The model and the deterministic test pipeline come from a downstream config
(e.g. a linear-probe config); the weights under ``backbone.`` come from
CHECKPOINT, a pre-training checkpoint or a trained recognizer.

Examples:
    python tools/extract_features.py \\
        configs/ssl/skeleton/linear_probe_upper59_joint_imigue.py \\
        work_dirs/usdrl_upper59_joint_pretrain_interviews/epoch_300.pth \\
        --split train --out work_dirs/features/joint_train.npz
"""
import argparse

from mmengine.registry import init_default_scope

from mmmg.evaluation.features import (extract_features, load_encoder,
                                      save_features)
from mmmg.utils.cli import (ToolError, add_debug_arg, check_output_file,
                            cli_main)
from mmmg.utils.config import add_common_args, load_config


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        'config', help='downstream config (model + test '
        'pipeline)')
    parser.add_argument(
        'checkpoint', help='weights with a `backbone.` '
        'encoder')
    parser.add_argument(
        '--split', help='dataset split (default: the test '
        "dataloader's)")
    parser.add_argument('--out', required=True, help='feature file to write')
    parser.add_argument('--no-progress', action='store_true')
    add_common_args(parser)
    add_debug_arg(parser)
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    check_output_file(args.out, '--out')
    cfg = load_config(args)
    init_default_scope(cfg.get('default_scope', 'mmaction'))
    loader = cfg.test_dataloader.copy()
    loader.dataset = dict(loader.dataset)
    if args.split:
        loader.dataset['split'] = args.split
    loader.update(num_workers=0, persistent_workers=False)
    try:
        model = load_encoder(cfg, args.checkpoint)
    except KeyError as e:  # the weights do not fit the config's encoder
        raise ToolError(f'{e.args[0]}; pass a checkpoint of the encoder '
                        f'of {args.config}') from e
    feats = extract_features(model, loader, progress=not args.no_progress)
    save_features(args.out, feats, args.checkpoint)
    print(f'{len(feats["features"])} clips of '
          f'{len(set(feats["videos"].tolist()))} videos, '
          f'{feats["features"].shape[1]}-d features -> {args.out}')
    return 0


if __name__ == '__main__':
    cli_main(main)
