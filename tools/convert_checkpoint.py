"""Convert a released checkpoint of another code base into an MMAction2 1.x
checkpoint for one of our configs (see docs/checkpoints.md).

Layouts (``--list-layouts``): PYSKL PoseConv3D / RGBPoseConv3D
(kennymckormick/pyskl, momiji-bit/MM-Gesture), MMAction2 0.x Video Swin
(Video-Swin-Transformer) and 1.x Video Swin (MM-Gesture's mmaction2/
streams: checked and reported, keys unchanged), the original VideoMAE
pre-trained and fine-tuned ViTs (MCG-NJU/VideoMAE), and our own
VideoMAEPretrainer checkpoints (encoder for fine-tuning). The layout is
recognised from the keys unless ``--layout`` names it.

The config's model is built; every key of the checkpoint is renamed into it
or dropped (parts the model has no place for, e.g. a pre-training decoder),
and every model key the checkpoint cannot provide is newly initialised only
where the layout expects it (a fixed position table, the head of a
pre-trained encoder) or ``--reinit`` asks for it. Anything else -- a shape
that differs, a missing or an unknown key -- is refused. The output loads
with ``load_state_dict(strict=True)`` (checked before it is written) and is
meant for the config's ``load_from``.

Examples:
    python tools/convert_checkpoint.py joint.pth \\
        checkpoints/posec3d_mg36_joint_imigue.pth \\
        --config configs/skeleton/posec3d/posec3d_slowonly_mg36_joint_imigue.py
    python tools/convert_checkpoint.py checkpoint.pth \\
        checkpoints/videomae_vit_b_k400_pretrain.pth \\
        --config configs/ssl/videomae/vit_base_p16_16x4_imigue_finetune.py
    python tools/convert_checkpoint.py swin_base_k400.pth out.pth \\
        --config CONFIG --reinit 'cls_head.*'
"""
import argparse
import os
import os.path as osp

import mmmg
from mmmg.utils.cli import (ToolError, add_debug_arg, check_output_file,
                            cli_main)

# Fine-tuned VideoMAE files keep the weights under 'module' (DeepSpeed) or
# 'model', pre-trained ones under 'model'; MMEngine/MMCV use 'state_dict'.
WEIGHT_ENTRIES = ('state_dict', 'model', 'module')


def parse_args(argv=None):
    from mmmg.models.utils.checkpoint_conversion import LAYOUTS
    parser = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('checkpoint', nargs='?', help='released checkpoint')
    parser.add_argument('out', nargs='?', help='output checkpoint')
    parser.add_argument(
        '--config', help='our config whose model the output is for')
    parser.add_argument(
        '--layout',
        choices=sorted(LAYOUTS),
        help='layout of the checkpoint (default: recognised from its keys)')
    parser.add_argument(
        '--reinit',
        nargs='+',
        default=[],
        metavar='PATTERN',
        help="model keys to initialise afresh (fnmatch), e.g. 'cls_head.*' "
        'for a head of another class count')
    parser.add_argument(
        '--list-layouts',
        action='store_true',
        help='list the layouts and where they come from, and exit')
    add_debug_arg(parser)
    args = parser.parse_args(argv)
    if not args.list_layouts and None in (args.checkpoint, args.out,
                                          args.config):
        parser.error('CHECKPOINT, OUT and --config are required')
    return args


def list_layouts() -> str:
    from mmmg.models.utils.checkpoint_conversion import LAYOUTS
    return '\n'.join(f'{layout.name}: {layout.description}\n'
                     f'    keys from: {layout.reference}'
                     for layout in LAYOUTS.values())


def read_weights(path: str) -> dict:
    """The weights of a released checkpoint; argparse namespaces (VideoMAE
    saves its arguments) are allowed as plain data."""
    import torch

    from mmmg.engine.checkpoint import read_checkpoint
    with torch.serialization.safe_globals([argparse.Namespace]):
        ckpt = read_checkpoint(path)
    if isinstance(ckpt, dict):
        for entry in WEIGHT_ENTRIES:
            if isinstance(ckpt.get(entry), dict):
                ckpt = ckpt[entry]
                break
    if not isinstance(ckpt, dict) or not ckpt or not all(
            isinstance(v, torch.Tensor) for v in ckpt.values()):
        raise ToolError(f'{path}: no weights found (neither a dict of '
                        f'tensors nor one under {"/".join(WEIGHT_ENTRIES)})'
                        '; pass a model checkpoint')
    return ckpt


def main(argv=None):
    args = parse_args(argv)
    if args.list_layouts:
        print(list_layouts())
        return 0
    if not osp.isfile(args.config):
        raise ToolError(f'config {args.config!r} not found; check the path')
    check_output_file(args.out, 'output checkpoint')
    import torch
    from mmaction.registry import MODELS
    from mmaction.utils import register_all_modules
    from mmengine.logging import MMLogger

    from mmmg.models.utils.checkpoint_conversion import (LAYOUTS,
                                                         ConversionError,
                                                         convert_state_dict,
                                                         detect_layout)
    from mmmg.utils.config import read_config

    # MMEngine's INFO lines (checkpoint loading, a line per initialised
    # parameter) would bury the report.
    MMLogger.get_instance('convert_checkpoint', log_level='WARNING')
    source = read_weights(args.checkpoint)
    try:
        layout = (
            LAYOUTS[args.layout] if args.layout else detect_layout(
                source, list(LAYOUTS.values())))
    except ConversionError as e:
        raise ToolError(f'{args.checkpoint}: {e}; pass --layout if it is one '
                        'of them') from e
    register_all_modules()
    mmmg.register_all_modules()
    model = MODELS.build(read_config(args.config).model)

    def initialised():
        model.init_weights()
        return model.state_dict()

    try:
        state_dict, report = convert_state_dict(
            source,
            layout,
            model.state_dict(),
            reinit=args.reinit,
            fresh=initialised)
    except ConversionError as e:
        raise ToolError(
            f'{args.checkpoint} does not fit the model of {args.config}: {e};'
            ' check that the config matches the released model (or '
            "--layout); --reinit 'cls_head.*' starts a head afresh") from e
    model.load_state_dict(state_dict, strict=True)
    print(report.summary())
    meta = dict(
        source=osp.abspath(args.checkpoint),
        config=args.config,
        mapping=report.mapping())
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    from mmmg.utils.io import atomic_open
    with atomic_open(args.out) as f:
        torch.save(dict(state_dict=state_dict, meta=meta), f)
    print(f'wrote {args.out}: {len(state_dict)} keys, strict fit to the '
          f'model of {args.config} (use it as load_from)')
    return 0


if __name__ == '__main__':
    cli_main(main)
