"""Keep the encoder of a masked video pre-training checkpoint for
fine-tuning, and report what was kept and dropped.

A VideoMAEPretrainer checkpoint holds the encoder under ``backbone.`` (the
keys of a Recognizer3D's VisionTransformer backbone) plus the pre-training
parts (``decoder.*``, ``encoder_norm.*``). The output holds only the
encoder: with its ``backbone.`` prefix for ``load_from`` in a fine-tuning
config (default), or without it (``--strip-prefix``) for
``model.backbone.pretrained``.

Examples:
    python tools/convert_mae_checkpoint.py \\
        work_dirs/videomae_vit_base_p16_16x4_interviews/epoch_800.pth \\
        checkpoints/videomae_vit_base_interviews_encoder.pth \\
        --config configs/ssl/videomae/vit_base_p16_16x4_imigue_finetune.py

With ``--config`` the fine-tuning model is built and the output's keys are
checked against its backbone: missing backbone keys (or shape mismatches)
fail the conversion.
"""
import argparse
import os
import os.path as osp

import torch

import mmmg  # noqa: F401
from mmmg.models.ssl import extract_encoder, match_keys
from mmmg.models.ssl.mae_checkpoint import ENCODER_PREFIX
from mmmg.models.utils import load_state_dict
from mmmg.utils.cli import (ToolError, add_debug_arg, check_output_file,
                            cli_main)
from mmmg.utils.config import read_config
from mmmg.utils.io import atomic_open


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('checkpoint', help='pre-training checkpoint')
    parser.add_argument('out', help='output checkpoint')
    parser.add_argument(
        '--prefix',
        default=ENCODER_PREFIX,
        help='prefix of the encoder keys (default: '
        '%(default)s)')
    parser.add_argument(
        '--strip-prefix',
        action='store_true',
        help='write the keys without the prefix (for '
        'model.backbone.pretrained)')
    parser.add_argument(
        '--config',
        help='fine-tuning config whose backbone '
        'must find all its keys in the output')
    add_debug_arg(parser)
    return parser.parse_args(argv)


def check_against_config(config: str, state_dict: dict, prefix: str,
                         stripped: bool) -> list:
    """Problems of ``state_dict`` as the backbone of ``config``'s model."""
    from mmaction.registry import MODELS
    from mmaction.utils import register_all_modules
    register_all_modules()
    model = MODELS.build(read_config(config).model)
    target = model.backbone.state_dict()
    keys = {
        (k if stripped else k[len(prefix):]): v
        for k, v in state_dict.items()
    }
    missing, unexpected = match_keys(target, keys)
    problems = [f'missing backbone key {k}' for k in missing]
    problems += [f'unexpected key {k}' for k in unexpected]
    problems += [
        f'shape of {k}: {tuple(keys[k].shape)} here, {tuple(v.shape)} in '
        'the model' for k, v in target.items()
        if k in keys and keys[k].shape != v.shape
    ]
    return problems


def main(argv=None):
    args = parse_args(argv)
    if args.config is not None and not osp.isfile(args.config):
        raise ToolError(f'config {args.config!r} not found; check the path')
    check_output_file(args.out, 'output checkpoint')
    try:
        state_dict = load_state_dict(args.checkpoint)
        encoder, dropped = extract_encoder(state_dict, args.prefix,
                                           args.strip_prefix)
    except ValueError as e:
        raise ToolError(f'{e}; pass a masked video pre-training checkpoint '
                        '(VideoMAEPretrainer)') from e
    print(f'kept {len(encoder)} encoder keys'
          f'{" (prefix stripped)" if args.strip_prefix else ""}')
    print(f'dropped {sum(dropped.values())} keys: ' +
          (', '.join(f'{group}.* {n}'
                     for group, n in sorted(dropped.items())) or '-'))
    if args.config:
        problems = check_against_config(args.config, encoder, args.prefix,
                                        args.strip_prefix)
        if problems:
            raise ToolError(
                f'the encoder of {args.checkpoint} does not fit the backbone '
                f'of {args.config}: {len(problems)} problems: ' +
                '; '.join(problems[:3]) +
                ('; ...' if len(problems) > 3 else '') +
                '; pass the checkpoint of '
                'a pre-training with this backbone, or check --prefix')
        print(f'all backbone keys of {args.config} present')
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    meta = dict(
        mmmg_mae_encoder=dict(
            source=args.checkpoint,
            prefix=args.prefix,
            strip_prefix=args.strip_prefix,
            dropped=dict(dropped)))
    with atomic_open(args.out) as f:
        torch.save(dict(state_dict=encoder, meta=meta), f)
    print(f'wrote {args.out}')
    return 0


if __name__ == '__main__':
    cli_main(main)
