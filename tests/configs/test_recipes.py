"""The recipe cards of docs/recipes.md agree with the configs they describe.

Each card (see the top of docs/recipes.md for the format) states, per item,
the anchor's value and ours as it appears in the built config. One
extractor per item reads that value from the config; the test builds every
carded config and compares. Every full config must have a card, and every
row where ours differs from the anchor must say why.
"""
import functools
import glob
import inspect
import math
import os.path as osp
import re
from typing import Dict, List, NamedTuple, Optional

import pytest

from mmmg.utils.config import read_config
from ..conftest import REPO

RECIPES = osp.join(REPO, 'docs', 'recipes.md')
ITEMS = ('frames', 'resolution', 'sigma', 'augmentation', 'normalisation',
         'batch_per_gpu', 'gpus', 'dataset_repeat', 'epochs',
         'total_sgd_steps', 'optimizer', 'lr', 'weight_decay', 'schedule',
         'warmup', 'grad_clip', 'test_clips', 'test_crops', 'test_flip',
         'init')
# Rows only some cards add after `init`, in this order: the skeleton SSL
# cards set the encoder and the loss beside USDRL's.
OPTIONAL_ITEMS = ('encoder', 'loss')
# Full configs are all but the toy variants and these folders.
NO_CARD_DIRS = ('_base_', 'long_tail', 'emotion')


class Card(NamedTuple):
    config: str  # relative to the repository root
    train_set: Optional[int]  # training clips; None when unknown
    rows: Dict[str, Dict[str, str]]  # item -> column -> cell


def _cells(line: str) -> List[str]:
    return [c.strip() for c in line.strip().strip('|').split('|')]


def parse_cards(text: str) -> List[Card]:
    """The cards of a recipes page: a ``### configs/....py`` heading, a
    ``Train set: N clips`` (or ``unknown``) line, and the item table."""
    cards = []
    # Code blocks (the format's own example) hold no cards.
    text = re.sub(r'^```.*?^```', '', text, flags=re.M | re.S)
    for block in re.split(r'^### ', text, flags=re.M)[1:]:
        heading, _, body = block.partition('\n')
        config = heading.strip().strip('`')
        if not config.startswith('configs/'):
            continue
        size = re.search(r'^Train set: ([\d,]+|unknown)\b', body, re.M)
        assert size, f'card {config}: no "Train set: N clips" line'
        train_set = (None if size.group(1) == 'unknown' else int(
            size.group(1).replace(',', '')))
        lines = [ln for ln in body.splitlines() if ln.startswith('|')]
        assert lines, f'card {config}: no table'
        header = _cells(lines[0])
        assert header == ['item', 'anchor', 'ours', 'source',
                          'note'], (f'card {config}: table header {header}')
        rows = {}
        for line in lines[2:]:
            cells = _cells(line)
            assert len(cells) == 5, f'card {config}: row {line!r}'
            row = dict(zip(header, cells))
            row['ours'] = row['ours'].strip('`')
            item = row.pop('item')
            assert item not in rows, f'card {config}: {item} twice'
            rows[item] = row
        cards.append(Card(config, train_set, rows))
    return cards


def full_configs() -> List[str]:
    paths = glob.glob(osp.join(REPO, 'configs', '**', '*.py'), recursive=True)
    rel = (osp.relpath(p, REPO) for p in paths)
    return sorted(
        p for p in rel
        if not p.endswith('_toy.py') and not set(p.split(osp.sep)[1:-1])
        & set(NO_CARD_DIRS))


# ---------------------------------------------------------------- helpers


def num(x) -> str:
    """A number as the cards write it: shortest form, no exponent."""
    if isinstance(x, float) and x.is_integer() and abs(x) >= 1:
        return str(int(x))
    text = f'{x:.10f}'.rstrip('0').rstrip('.') if isinstance(x,
                                                             float) else str(x)
    return text


def inner_dataset(dataset: dict) -> dict:
    while 'dataset' in dataset and 'pipeline' not in dataset:
        dataset = dataset['dataset']
    return dataset


def pipeline(cfg, loader: str) -> Optional[List[dict]]:
    """The loader's pipeline; None without that loader (pre-training)."""
    if not cfg.get(loader):
        return None
    return inner_dataset(cfg[loader]['dataset'])['pipeline']


def sampler(transforms: List[dict]) -> Optional[dict]:
    return next((t for t in transforms if t['type'].endswith('SampleFrames')),
                None)


HEATMAPS = ('GeneratePoseHeatmaps', 'GeneratePoseTarget')


def heatmap_transform(transforms: List[dict]) -> Optional[dict]:
    return next((t for t in transforms if t['type'] in HEATMAPS), None)


def device_heatmaps(cfg) -> Optional[dict]:
    """The heatmap options of a data preprocessor that draws the maps on
    the device (``*_gpu_render.py``); None for others."""
    pre = cfg.model.get('data_preprocessor') or {}
    pre = (pre.get('preprocessors') or {}).get('heatmap_imgs', pre)
    return pre if pre.get('type') == 'HeatmapDataPreprocessor' else None


def _size(w: int, h: int) -> str:
    return str(w) if w == h else f'{w}x{h}'


def final_size(transforms: List[dict]) -> str:
    """The spatial size of the frames (or heatmaps before scaling) a
    pipeline hands to the model."""
    size = 'original'
    for t in transforms:
        kind = t['type']
        if kind == 'Resize':
            w, h = t['scale']
            if t.get('keep_ratio', True) and -1 in (w, h):
                size = f'short {max(w, h)}'
            elif t.get('keep_ratio', True):
                size = f'short {min(w, h)}, long <= {max(w, h)}'
            else:
                size = _size(w, h)
        elif kind in ('CenterCrop', 'ThreeCrop', 'TenCrop', 'RandomCrop'):
            crop = t.get('crop_size', t.get('size'))
            size = _size(*crop) if isinstance(crop,
                                              (list, tuple)) else str(crop)
    return size


def _not_augmentation(kind: str) -> bool:
    return (kind.endswith(
        ('SampleFrames', 'Decode', 'DecodeSegment', 'Init', 'InitSegment'))
            or kind.startswith(('Pack', 'Format')) or kind in HEATMAPS)


def _augmentation_step(t: dict) -> str:
    kind = t['type']
    if kind.endswith('Compact'):
        return 'Compact'
    if kind == 'Resize':
        return 'Resize({},{})'.format(*t['scale'])
    if kind == 'RandomResizedCrop':
        lo, hi = t.get('area_range', (0.08, 1.0))
        return f'RandomResizedCrop({num(lo)}-{num(hi)})'
    if kind == 'Flip':
        return f"Flip({num(t.get('flip_ratio', 0.5))})"
    return kind


def _data_preprocessor(cfg) -> dict:
    pre = cfg.model.get('data_preprocessor') or {}
    if pre.get('type') in ('MultiModalDataPreprocessor',
                           'MultiModalHeatmapDataPreprocessor'):
        pre = pre['preprocessors']['imgs']
    return pre


def _schedulers(cfg):
    scheds = cfg.get('param_scheduler') or []
    if isinstance(scheds, dict):
        scheds = [scheds]
    warm = [s for s in scheds if s['type'] == 'LinearLR']
    main = [s for s in scheds if s['type'] != 'LinearLR']
    return warm, main


def _by_iter(s: dict) -> bool:
    return s.get('convert_to_iter_based', False) or not s.get('by_epoch', True)


def _repeat(cfg) -> int:
    times, dataset = 1, cfg.train_dataloader.dataset
    while 'pipeline' not in dataset and 'dataset' in dataset:
        times *= dataset.get('times', 1)
        dataset = dataset['dataset']
    return times


@functools.lru_cache(maxsize=None)
def _defaults(registry: str, kind: str) -> dict:
    """Keyword defaults of a registered module's constructor (what a
    config that leaves an argument out gets)."""
    import mmaction.registry

    import mmmg
    mmmg.register_all_modules()
    cls = getattr(mmaction.registry, registry).get(kind)
    return {
        k: p.default
        for k, p in inspect.signature(cls).parameters.items()
        if p.default is not inspect.Parameter.empty
    }


def _gpus(cfg) -> int:
    total = cfg.auto_scale_lr.base_batch_size
    batch = cfg.train_dataloader.batch_size
    assert total % batch == 0, (
        f'auto_scale_lr.base_batch_size {total} is not a whole number of '
        f'GPUs x batch_size {batch}')
    return total // batch


# ------------------------------------------------------------- extractors
# One per item, named extract_<item>.


def extract_frames(cfg, card) -> str:
    transforms = pipeline(cfg, 'train_dataloader')
    s = sampler(transforms)
    if s is None:  # skeleton sequences of a fixed length
        views = [t for t in transforms if t['type'] == 'SkeletonViews']
        if views:  # self-supervised views, each resampled to a length
            view = dict(_defaults('TRANSFORMS', 'SkeletonViews'), **views[0])
            return str(view['length'])
        fixed = [t for t in transforms if t['type'] == 'FixSkeletonLength']
        return str(fixed[0]['length']) if fixed else 'all'
    clip_len = s['clip_len']
    if isinstance(clip_len, dict):
        return ', '.join(f'{k} {v}' for k, v in clip_len.items())
    if s['type'] == 'UniformSampleFrames':
        return str(clip_len)
    return f"{clip_len}x{s.get('frame_interval', 1)}"


def extract_resolution(cfg, card) -> str:
    text = f"train {final_size(pipeline(cfg, 'train_dataloader'))}"
    test = pipeline(cfg, 'test_dataloader')
    return text + (f', test {final_size(test)}' if test is not None else '')


def extract_sigma(cfg, card) -> str:
    values = set()
    drawn = [
        heatmap_transform(pipeline(cfg, loader) or [])
        for loader in ('train_dataloader', 'test_dataloader')
    ]
    for t in drawn + [device_heatmaps(cfg)]:
        if t is not None:
            text = num(t.get('sigma', 0.6))
            if t.get('scaling', 1) != 1:
                text += f", scaling {num(t['scaling'])}"
            values.add(text)
    assert len(values) <= 1, f'train and test heatmaps differ: {values}'
    return values.pop() if values else '-'


def extract_augmentation(cfg, card) -> str:
    steps = [
        _augmentation_step(t) for t in pipeline(cfg, 'train_dataloader')
        if not _not_augmentation(t['type'])
    ]
    return ' > '.join(steps) or 'none'


def extract_normalisation(cfg, card) -> str:
    pre = _data_preprocessor(cfg)
    if 'mean' not in pre:
        return 'none'
    text = 'mean [{}], std [{}]'.format(
        ', '.join(num(round(float(m), 2)) for m in pre['mean']),
        ', '.join(num(round(float(s), 2)) for s in pre['std']))
    return text + (', to_rgb' if pre.get('to_rgb') else '')


def extract_batch_per_gpu(cfg, card) -> str:
    return str(cfg.train_dataloader.batch_size)


def extract_gpus(cfg, card) -> str:
    return str(_gpus(cfg))


def extract_dataset_repeat(cfg, card) -> str:
    return str(_repeat(cfg))


def extract_epochs(cfg, card) -> str:
    return str(cfg.train_cfg.max_epochs)


def extract_total_sgd_steps(cfg, card) -> str:
    per_step = cfg.train_dataloader.batch_size * _gpus(cfg)
    repeat, num_epochs = _repeat(cfg), cfg.train_cfg.max_epochs
    if card.train_set is None:
        return f'ceil(N x {repeat} / {per_step}) x {num_epochs}'
    return str(math.ceil(card.train_set * repeat / per_step) * num_epochs)


def extract_optimizer(cfg, card) -> str:
    opt = dict(cfg.optim_wrapper.optimizer)
    kind = opt.pop('type')
    args = ', '.join(f'{k}={v}' for k, v in sorted(opt.items())
                     if k not in ('lr', 'weight_decay'))
    text = f'{kind}({args})'
    if cfg.optim_wrapper.get('type', 'OptimWrapper') == 'AmpOptimWrapper':
        text += ' amp'
    return text


def extract_lr(cfg, card) -> str:
    text = num(cfg.optim_wrapper.optimizer.lr)
    # Multipliers as MMEngine's custom_keys or Swin's constructor take them.
    paramwise = dict(cfg.optim_wrapper.get('paramwise_cfg') or {})
    keys = dict(paramwise.pop('custom_keys', {}), **paramwise)
    mults = [
        f"{k} x{num(v['lr_mult'])}" for k, v in sorted(keys.items())
        if isinstance(v, dict) and 'lr_mult' in v
    ]
    return '; '.join([text] + mults)


def extract_weight_decay(cfg, card) -> str:
    return num(cfg.optim_wrapper.optimizer.get('weight_decay', 0))


def extract_schedule(cfg, card) -> str:
    parts = []
    for s in _schedulers(cfg)[1]:
        unit = 'by iter' if _by_iter(s) else 'by epoch'
        if s['type'] == 'CosineAnnealingLR':
            parts.append(f"cosine {unit}, T_max {num(s['T_max'])} epochs, "
                         f"eta_min {num(s.get('eta_min', 0))}")
        elif s['type'] == 'MultiStepLR':
            parts.append(f"step {list(s['milestones'])} "
                         f"x{num(s.get('gamma', 0.1))} {unit}")
        else:
            parts.append(f"{s['type']} {unit}")
    return ' + '.join(parts) or 'constant'


def extract_warmup(cfg, card) -> str:
    parts = []
    for s in _schedulers(cfg)[0]:
        unit = 'epochs' if s.get('by_epoch', True) else 'iters'
        length = s.get('end', 0) - s.get('begin', 0)
        parts.append(f'linear {num(length)} {unit} from '
                     f"{num(s.get('start_factor', 1 / 3))}")
    return ' + '.join(parts) or 'none'


def extract_grad_clip(cfg, card) -> str:
    clip = cfg.optim_wrapper.get('clip_grad')
    return num(clip['max_norm']) if clip else 'none'


def extract_test_clips(cfg, card) -> str:
    transforms = pipeline(cfg, 'test_dataloader')
    if transforms is None:
        return '-'
    s = sampler(transforms)
    return str(s.get('num_clips', 1) if s else 1)


def extract_test_crops(cfg, card) -> str:
    transforms = pipeline(cfg, 'test_dataloader')
    if transforms is None:
        return '-'
    kinds = [t['type'] for t in transforms]
    return '3' if 'ThreeCrop' in kinds else '10' if 'TenCrop' in kinds else '1'


def extract_test_flip(cfg, card) -> str:
    transforms = pipeline(cfg, 'test_dataloader')
    if transforms is None:
        return '-'
    heatmaps = heatmap_transform(transforms)
    if heatmaps is not None and heatmaps.get('double'):
        return 'double'
    # Maps drawn on the device: the loader asks for the flipped copies.
    if any(t['type'] == 'PackPoseKeypoints' and t.get('double')
           for t in transforms):
        return 'double'
    if any(t['type'] == 'Flip' and t.get('flip_ratio', 0.5) == 1
           for t in transforms):
        return 'mirror'
    return 'none'


def extract_init(cfg, card) -> str:
    if cfg.get('load_from'):
        return f'load_from {cfg.load_from}'
    backbone = cfg.model.get('backbone') or {}
    if isinstance(backbone.get('pretrained'), str):
        return f"pretrained {backbone['pretrained']}"
    init_cfg = backbone.get('init_cfg') or {}
    if isinstance(init_cfg, dict) and init_cfg.get('checkpoint'):
        return f"init_cfg {init_cfg['checkpoint']}"
    return 'scratch'


def extract_encoder(cfg, card) -> str:
    backbone = cfg.model.backbone
    b = dict(_defaults('MODELS', backbone.type), **backbone)
    return (f"{b['type']} {b['stream']}, depth {b['depth']}, "
            f"width {b['embed_dims']}, "
            f"heads {b['num_heads']}, mlp x{num(float(b['mlp_ratio']))}, "
            f"dropout {num(float(b['dropout']))}")


def extract_loss(cfg, card) -> str:
    if 'loss' not in cfg.model:  # a recognizer: its head's loss
        head = dict(
            _defaults('MODELS', cfg.model.cls_head.type), **cfg.model.cls_head)
        return head['loss_cls']['type']
    loss = dict(_defaults('MODELS', cfg.model.loss.type), **cfg.model.loss)
    if loss['type'] != 'MultiGrainedDecorrelationLoss':
        return loss['type']
    domains = ', '.join(f'{k} {num(float(v))}'
                        for k, v in loss['domain_weights'].items())
    return (f"invariance {num(float(loss['invariance_weight']))}, "
            f"var/cov {num(float(loss['varcov_weight']))} "
            f"(std x{num(float(loss['std_weight']))}), "
            f"xcorr {num(float(loss['xcorr_weight']))} "
            f"(off-diagonal x{num(float(loss['off_diag_weight']))}); "
            f'{domains}')


EXTRACTORS = {
    item: globals()[f'extract_{item}']
    for item in ITEMS + OPTIONAL_ITEMS
}

# ------------------------------------------------------------------ tests

with open(RECIPES) as _f:
    CARDS = parse_cards(_f.read())


def test_cards_have_every_item_once():
    assert CARDS, f'no card in {RECIPES}'
    configs = [card.config for card in CARDS]
    assert len(configs) == len(set(configs)), 'a config has two cards'
    for card in CARDS:
        optional = tuple(i for i in OPTIONAL_ITEMS if i in card.rows)
        assert tuple(card.rows) == ITEMS + optional, (
            f'{card.config}: items {list(card.rows)}, expected {ITEMS} '
            f'and optionally {OPTIONAL_ITEMS} in that order')
        assert osp.isfile(osp.join(
            REPO, card.config)), (f'card for a missing config: {card.config}')


def test_every_full_config_has_a_card():
    carded = {card.config for card in CARDS}
    assert [p for p in full_configs() if p not in carded] == []


@pytest.mark.parametrize(
    'card', CARDS, ids=[osp.basename(c.config) for c in CARDS])
def test_card_matches_config(card):
    cfg = read_config(osp.join(REPO, card.config))
    wrong = {}
    for item, row in card.rows.items():
        value = EXTRACTORS[item](cfg, card)
        if value != row['ours']:
            wrong[item] = f'card {row["ours"]!r}, config {value!r}'
    assert not wrong, f'{card.config}: {wrong}'


@pytest.mark.parametrize(
    'card', CARDS, ids=[osp.basename(c.config) for c in CARDS])
def test_deviations_are_explained(card):
    unexplained = [
        item for item, row in card.rows.items()
        if row['anchor'].strip('`') != row['ours'] and not row['note']
        and row['anchor'] != 'n/a'
    ]
    assert not unexplained, (
        f'{card.config}: ours differs from the anchor without a note: '
        f'{unexplained}')


def test_parse_cards_reads_the_format():
    text = '\n'.join([
        '# t', '### configs/a.py', 'Anchor: x', 'Train set: 1,000 clips (y)',
        '', '| item | anchor | ours | source | note |',
        '| --- | --- | --- | --- | --- |', '| epochs | 24 | `24` | f | |',
        '| lr | 0.1 | 0.2 | f | halved batch |', '## Other',
        '### configs/b.py', 'Train set: unknown', '',
        '| item | anchor | ours | source | note |', '| - | - | - | - | - |',
        '```text', '### configs/example.py', '```'
    ])
    a, b = parse_cards(text)
    assert a.config == 'configs/a.py' and a.train_set == 1000
    assert a.rows['epochs'] == dict(
        anchor='24', ours='24', source='f', note='')
    assert a.rows['lr']['note'] == 'halved batch'
    assert b.train_set is None and b.rows == {}


def test_total_sgd_steps_formula():
    """ceil(train set x repeat / (batch x GPUs)) x epochs, as PYSKL and
    MMEngine count them (every rank gets ceil(N / GPUs) samples, the last
    batch is kept)."""
    from mmengine.config import ConfigDict
    cfg = ConfigDict(
        train_dataloader=dict(
            batch_size=32,
            dataset=dict(
                type='RepeatDataset', times=10, dataset=dict(pipeline=[]))),
        auto_scale_lr=dict(base_batch_size=256),
        train_cfg=dict(max_epochs=24))
    card = Card('configs/x.py', 12893, {})
    # 128,930 samples per epoch / 256 = 503.6 -> 504 steps.
    assert extract_total_sgd_steps(cfg, card) == str(504 * 24)
    assert extract_total_sgd_steps(cfg, card._replace(
        train_set=None)) == ('ceil(N x 10 / 256) x 24')


def test_encoder_and_loss_rows_read_defaults_and_overrides():
    """The optional rows fill what a config leaves out from the registered
    module's defaults and show what it sets."""
    from mmengine.config import ConfigDict
    cfg = ConfigDict(
        model=dict(
            backbone=dict(
                type='DualStreamSkeletonTransformer',
                num_joints=59,
                seq_len=64,
                embed_dims=128),
            loss=dict(
                type='MultiGrainedDecorrelationLoss',
                xcorr_weight=0.01,
                domain_weights=dict(instance=1.0, temporal=0.25))))
    card = Card('configs/x.py', None, {})
    assert extract_encoder(cfg, card) == (
        'DualStreamSkeletonTransformer joint, depth 2, width 128, heads 8, '
        'mlp x2, dropout 0.1')
    assert extract_loss(cfg, card) == (
        'invariance 5, var/cov 1 (std x5), xcorr 0.01 (off-diagonal x0.005); '
        'instance 1, temporal 0.25')
    head = ConfigDict(
        model=dict(
            cls_head=dict(type='I3DHead', num_classes=2, in_channels=8)))
    assert extract_loss(head, card) == 'CrossEntropyLoss'


def test_public_init_urls_have_a_loadable_form():
    """A URL init is an https address of a .pth file (fetched by MMEngine
    on the user's machine; nothing is downloaded here)."""
    for card in CARDS:
        value = card.rows['init']['ours']
        url = value.split(' ', 1)[-1]
        if '://' in url:
            assert re.fullmatch(
                r'https://[\w.-]+/\S+\.pth',
                url), (f'{card.config}: init {url!r} is not an https .pth URL')


@functools.lru_cache(maxsize=None)
def model_state(config: str) -> dict:
    """State dict of a freshly built model of a config (the keys and
    shapes of its checkpoints)."""
    from mmaction.registry import MODELS
    from mmaction.utils import register_all_modules
    register_all_modules()
    cfg = read_config(osp.join(REPO, config))
    return MODELS.build(cfg.model).state_dict()


# RGBPoseConv3D config -> the RGB-only and pose-only configs whose
# checkpoints tools/merge_rgbpose_checkpoint.py merges into its load_from.
RGBPOSE_SOURCES = {
    'configs/multimodal/rgbposec3d/rgbposec3d_mg36_joint_imigue.py':
    ('configs/multimodal/rgbposec3d/slowonly_r50_rgb_only_imigue.py',
     'configs/skeleton/posec3d/posec3d_slowonly_mg36_joint_imigue.py'),
    'configs/multimodal/rgbposec3d/rgbposec3d_mg36_limb_imigue.py':
    ('configs/multimodal/rgbposec3d/slowonly_r50_rgb_only_imigue.py',
     'configs/skeleton/posec3d/posec3d_slowonly_mg36_limb_imigue.py'),
}


@pytest.mark.parametrize(
    'config',
    sorted(RGBPOSE_SOURCES),
    ids=[osp.basename(c) for c in sorted(RGBPOSE_SOURCES)])
def test_rgbpose_init_merges_our_stream_checkpoints(config):
    """The RGBPose initialisation the cards name is the merge of our own
    full RGB-only and PoseConv3D models: stand-in state dicts of those
    models (the keys and shapes their checkpoints have) fill every key of
    the RGBPose model but the lateral connections, which the anchor's
    merge notebook also leaves new; no source key is left over."""
    from mmmg.models.utils import merge_rgbpose_state_dicts
    rgb_config, pose_config = RGBPOSE_SOURCES[config]
    target = model_state(config)
    merged, report = merge_rgbpose_state_dicts(
        model_state(rgb_config), model_state(pose_config), target)
    assert set(merged) | set(report.new) == set(target)
    assert report.new and all('_lateral' in k for k in report.new), sorted(
        k for k in report.new if '_lateral' not in k)
    assert report.unused == dict(rgb=[], pose=[])
    assert all(merged[k].shape == target[k].shape for k in merged)
