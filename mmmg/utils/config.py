"""Command-line helpers shared by tools/train.py and tools/test.py."""
import argparse
import contextlib
import os
import os.path as osp
from typing import Optional

import torch
from mmengine.config import Config, DictAction

from .cli import ToolError, add_debug_arg, check_output_dir

LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')
# The arguments of set_data_roots as options: flag, metavar, help.
DATA_ROOT_OPTIONS = (
    ('--ann-file', 'PKL', 'skeleton annotation pickle of every pose loader'),
    ('--list-dir', 'DIR', 'folder of the clip lists of every RGB loader '
     '(the file names of the config are kept)'),
    ('--video-root', 'DIR', 'folder the video paths of every loader are '
     'relative to (data_prefix.video)'),
)


@contextlib.contextmanager
def _tolerant_metafile_lookup():
    """Let ``mmaction::`` bases resolve despite a malformed metafile.

    mmengine 0.10.7 indexes every metafile of a package before it falls back
    to ``.mim/configs/<path>`` for base configs, and crashes with
    AttributeError on MMAction2 1.1.0's BSN entry, whose ``Config`` is a list.
    While a config is read, that crash is turned into the ValueError that
    triggers mmengine's own fallback; nothing stays changed afterwards.
    """
    import mmengine.config.utils as cfg_utils
    lookup = cfg_utils._get_cfg_metainfo

    def tolerant(package_path, cfg_path):
        try:
            return lookup(package_path, cfg_path)
        except AttributeError as e:
            raise ValueError(f'malformed metafile in {package_path}') from e

    cfg_utils._get_cfg_metainfo = tolerant
    try:
        yield
    finally:
        cfg_utils._get_cfg_metainfo = lookup


def read_config(path: str) -> Config:
    """``Config.fromfile`` that also works for ``mmaction::`` bases."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'config file {path!r} not found')
    try:
        with _tolerant_metafile_lookup():
            return Config.fromfile(path)
    except SyntaxError as e:
        where = str(e).replace('<unknown>, ', '')
        raise ToolError(f'config {path} (or a base it inherits) has a '
                        f'syntax error: {where}; fix the file') from e


def add_common_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        '--work-dir',
        help='directory for logs, checkpoints '
        'and outputs (default: ./work_dirs/<config name>)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        metavar='KEY=VALUE',
        help='override config entries, e.g. train_cfg.max_epochs=3 '
        "'model.cls_head.num_classes=32'")
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher (set by dist_*.sh / slurm_*.sh)')
    data = parser.add_argument_group(
        'data roots (train, val and test loaders alike; see '
        'docs/train_on_your_data.md)')
    for flag, metavar, help in DATA_ROOT_OPTIONS:
        data.add_argument(flag, metavar=metavar, help=help)
    # torch.distributed.launch (deprecated) passes --local-rank.
    parser.add_argument(
        '--local_rank',
        '--local-rank',
        type=int,
        default=0,
        help=argparse.SUPPRESS)


def add_checkpoint_args(parser: argparse.ArgumentParser) -> None:
    """Options of the tools that load checkpoints into MGRunner and follow
    the error convention of :mod:`mmmg.utils.cli`."""
    parser.add_argument(
        '--allow-partial',
        action='store_true',
        help='load a checkpoint even when keys are missing, unexpected or '
        'of another shape (those layers stay as initialised); without it '
        "only the config's allow_partial_keys patterns may differ")
    add_debug_arg(parser)


def load_config(args: argparse.Namespace) -> Config:
    """Read the config named on the command line and apply common args."""
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    cfg = read_config(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    cfg.launcher = args.launcher
    if args.work_dir:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    check_output_dir(cfg.work_dir, '--work-dir')
    cfg.setdefault('runner_type', 'MGRunner')
    if getattr(args, 'allow_partial', False):
        cfg.allow_partial_keys = ['*']
    set_data_roots(cfg, args.ann_file, args.list_dir, args.video_root)
    return cfg


def inner_dataset(dataset: dict) -> dict:
    """The dataset inside ``dataset=`` wrappers such as ``RepeatDataset``."""
    while 'ann_file' not in dataset and 'dataset' in dataset:
        dataset = dataset.dataset
    return dataset


def set_data_roots(cfg: Config,
                   ann_file: Optional[str] = None,
                   list_dir: Optional[str] = None,
                   video_root: Optional[str] = None) -> None:
    """Point the train, val and test loaders at the user's data.

    Args:
        cfg: The config, changed in place.
        ann_file: Skeleton annotation pickle, for datasets that read one
            (each loader keeps its ``split``).
        list_dir: Folder of clip lists, for datasets that read a list; each
            keeps its file name (``rgb_train.txt``, ...).
        video_root: ``data_prefix.video`` of every dataset that has one.
    """
    for name in LOADERS:
        loader = cfg.get(name)
        if not loader or 'dataset' not in loader:
            continue
        dataset = inner_dataset(loader.dataset)
        current = str(dataset.get('ann_file', ''))
        if ann_file and current.endswith(('.pkl', '.pickle')):
            dataset.ann_file = ann_file
        elif list_dir and current.endswith('.txt'):
            dataset.ann_file = osp.join(list_dir, osp.basename(current))
        if video_root and 'video' in (dataset.get('data_prefix') or {}):
            dataset.data_prefix.video = video_root


def enable_amp(cfg: Config) -> None:
    """Switch the optimizer wrapper to mixed precision (GPU only)."""
    if not torch.cuda.is_available():
        raise ToolError('--amp needs a CUDA device; this machine has none')
    wrapper = cfg.optim_wrapper.get('type', 'OptimWrapper')
    if wrapper == 'AmpOptimWrapper':
        return
    if wrapper != 'OptimWrapper':
        raise ToolError(f'--amp cannot replace optim_wrapper type '
                        f'{wrapper!r}; set AmpOptimWrapper in the config')
    cfg.optim_wrapper.type = 'AmpOptimWrapper'
    cfg.optim_wrapper.loss_scale = 'dynamic'


def use_pseudo_labels(cfg: Config,
                      ann_file: str,
                      split: str = 'train_pseudo') -> None:
    """Train on a pseudo-labelled annotation (``tools/pseudo_label.py``).

    Points the training dataset (inside any ``dataset=`` wrappers such as
    ``RepeatDataset``) at ``ann_file``, with ``split`` for a pose pickle and
    none for a video list, and so does a class-weight spec that counts the
    training labels, so the weights follow the new training set.
    """
    from mmmg.datasets.pose_dataset import load_pose_annotations
    if not osp.isfile(ann_file):
        raise ToolError(f'--pseudo-labels {ann_file!r} not found')
    new_split = split if ann_file.endswith(('.pkl', '.pickle')) else None
    if new_split:  # a score pickle here is a common slip
        load_pose_annotations(ann_file, new_split)

    def point(spec):
        spec['ann_file'] = ann_file
        if new_split is None:
            spec.pop('split', None)
        else:
            spec['split'] = new_split

    dataset = inner_dataset(cfg.train_dataloader.dataset)
    if 'ann_file' not in dataset:
        raise ToolError('--pseudo-labels: the training dataset of this '
                        'config has no ann_file to replace')
    point(dataset)
    loss = cfg.get('model', {}).get('cls_head', {}).get('loss_cls', {})
    weight = loss.get('class_weight') if isinstance(loss, dict) else None
    if isinstance(weight, dict) and 'ann_file' in weight:
        point(weight)
