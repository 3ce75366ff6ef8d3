"""Command-line helpers shared by tools/train.py and tools/test.py."""
import argparse
import contextlib
import os
import os.path as osp

import torch
from mmengine.config import Config, DictAction


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
    with _tolerant_metafile_lookup():
        return Config.fromfile(path)


def add_common_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('--work-dir', help='directory for logs, checkpoints '
                        'and outputs (default: ./work_dirs/<config name>)')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction, metavar='KEY=VALUE',
        help='override config entries, e.g. train_cfg.max_epochs=3 '
        "'model.cls_head.num_classes=32'")
    parser.add_argument(
        '--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none', help='job launcher (set by dist_*.sh / slurm_*.sh)')
    # torch.distributed.launch (deprecated) passes --local-rank.
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0,
                        help=argparse.SUPPRESS)


def load_config(args: argparse.Namespace) -> Config:
    """Read the config named on the command line and apply common args."""
    if not osp.isfile(args.config):
        raise SystemExit(f'error: config file {args.config!r} not found')
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
    cfg.setdefault('runner_type', 'MGRunner')
    return cfg


def enable_amp(cfg: Config) -> None:
    """Switch the optimizer wrapper to mixed precision (GPU only)."""
    if not torch.cuda.is_available():
        raise SystemExit('error: --amp needs a CUDA device; this machine '
                         'has none')
    wrapper = cfg.optim_wrapper.get('type', 'OptimWrapper')
    if wrapper == 'AmpOptimWrapper':
        return
    if wrapper != 'OptimWrapper':
        raise SystemExit(f'error: --amp cannot replace optim_wrapper type '
                         f'{wrapper!r}')
    cfg.optim_wrapper.type = 'AmpOptimWrapper'
    cfg.optim_wrapper.loss_scale = 'dynamic'


def use_pseudo_labels(cfg: Config, ann_file: str,
                      split: str = 'train_pseudo') -> None:
    """Train on a pseudo-labelled annotation (``tools/pseudo_label.py``).

    Points the training dataset (inside any ``dataset=`` wrappers such as
    ``RepeatDataset``) at ``ann_file``, with ``split`` for a pose pickle and
    none for a video list, and so does a class-weight spec that counts the
    training labels, so the weights follow the new training set.
    """
    if not osp.isfile(ann_file):
        raise FileNotFoundError(f'pseudo-label annotation {ann_file!r} not '
                                'found')
    new_split = split if ann_file.endswith(('.pkl', '.pickle')) else None

    def point(spec):
        spec['ann_file'] = ann_file
        if new_split is None:
            spec.pop('split', None)
        else:
            spec['split'] = new_split

    dataset = cfg.train_dataloader.dataset
    while 'ann_file' not in dataset and 'dataset' in dataset:
        dataset = dataset.dataset
    if 'ann_file' not in dataset:
        raise ValueError('the training dataset has no ann_file to replace')
    point(dataset)
    loss = cfg.get('model', {}).get('cls_head', {}).get('loss_cls', {})
    weight = loss.get('class_weight') if isinstance(loss, dict) else None
    if isinstance(weight, dict) and 'ann_file' in weight:
        point(weight)
