"""Merge an RGB-only and a pose-only checkpoint into an RGBPoseConv3D
initialisation, reporting exactly which keys are newly initialised.

Example:
    python tools/merge_rgbpose_checkpoint.py \\
        configs/multimodal/rgbposec3d/rgbposec3d_mg36_joint_imigue.py \\
        work_dirs/slowonly_rgb/best.pth work_dirs/posec3d_joint/best.pth \\
        --out checkpoints/rgbpose_joint_init.pth

The config's ``load_from`` then points at the output. The report (also
written as JSON next to it) lists copied keys, lateral-input weights padded
with zero channels, newly initialised keys and unused source keys.
"""
import argparse
import json
import os
import os.path as osp

import torch
from mmaction.registry import MODELS
from mmaction.utils import register_all_modules

import mmmg  # noqa: F401
from mmmg.models.utils import load_state_dict, merge_rgbpose_state_dicts
from mmmg.utils.cli import (ToolError, add_debug_arg, check_output_file,
                            cli_main)
from mmmg.utils.config import read_config
from mmmg.utils.io import atomic_open


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        'config', help='the RGBPoseConv3D config to '
        'initialise')
    parser.add_argument(
        'rgb', help='checkpoint of an RGB-only '
        'ResNet3dSlowOnly recognizer')
    parser.add_argument(
        'pose',
        help='checkpoint of a pose-only '
        'ResNet3dSlowOnly recognizer (PoseConv3D)')
    parser.add_argument('--out', required=True, help='output checkpoint')
    parser.add_argument(
        '--report', help='JSON report (default: OUT with '
        '.json)')
    add_debug_arg(parser)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    report_path = args.report or osp.splitext(args.out)[0] + '.json'
    if not osp.isfile(args.config):
        raise ToolError(f'config {args.config!r} not found; check the path')
    check_output_file(args.out, '--out')
    check_output_file(report_path, '--report')
    register_all_modules()
    cfg = read_config(args.config)
    if cfg.model.backbone.type != 'RGBPoseConv3D':
        raise ToolError(f'{args.config} builds a {cfg.model.backbone.type}, '
                        'not an RGBPoseConv3D; pass an RGBPoseConv3D config')
    try:
        rgb, pose = load_state_dict(args.rgb), load_state_dict(args.pose)
    except ValueError as e:
        raise ToolError(f'{e}; pass a recognizer checkpoint written by '
                        'tools/train.py') from e
    target = MODELS.build(cfg.model).state_dict()
    merged, report = merge_rgbpose_state_dicts(rgb, pose, target)
    if not report.copied:
        raise ToolError(f'no key of {args.rgb} or {args.pose} fits the '
                        'RGBPose model; pass ResNet3dSlowOnly recognizer '
                        'checkpoints')
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    meta = dict(
        mmmg_merge=dict(config=args.config, rgb=args.rgb, pose=args.pose))
    with atomic_open(args.out) as f:
        torch.save(dict(state_dict=merged, meta=meta), f)
    with atomic_open(report_path, 'w') as f:
        json.dump(dict(meta['mmmg_merge'], **report.to_dict()), f, indent=1)
    print(report.summary())
    print(f'wrote {args.out} and {report_path}')
    return 0


if __name__ == '__main__':
    cli_main(main)
