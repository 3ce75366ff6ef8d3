"""Converting a checkpoint of another code base into the state dict of one
of our models: the generic part.

A :class:`Layout` describes how the keys of a released checkpoint are named
(rename rules, keys it may carry that our models have no place for, keys of
ours it cannot provide). :func:`convert_state_dict` applies it against the
state dict of the model a config builds and refuses anything that does not
fit: a source key with no place in the model, a model key with no source, or
a shape that differs. Every key of the result is accounted for in a
:class:`ConversionReport`: kept under its name, renamed, dropped, or newly
initialised from the freshly built model.
"""
import fnmatch
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Mapping, Optional, Sequence, Tuple

import torch

# DataParallel/DistributedDataParallel wrap the model in ``module``.
WRAPPER_PREFIX = 'module.'


class ConversionError(ValueError):
    """A checkpoint that does not fit the target model (one-line
    message)."""


@dataclass(frozen=True)
class Rule:
    """Rename keys matching ``pattern`` (a regex) to ``replacement``;
    ``label`` says it in words for the report."""
    pattern: str
    replacement: str
    label: str = ''

    def apply(self, key: str) -> str:
        return re.sub(self.pattern, self.replacement, key)

    def __str__(self) -> str:
        return self.label or f'{self.pattern} -> {self.replacement}'


@dataclass(frozen=True)
class Layout:
    """How a family of released checkpoints names its weights.

    Args:
        name: The ``--layout`` name.
        description: Which checkpoints, released where.
        reference: Files the key names and shapes were read from.
        rules: Renames, applied in turn to every key.
        signature: Renamed-free source keys whose presence identifies the
            layout (all must be present).
        droppable: ``fnmatch`` patterns of (renamed) source keys that may
            have no place in the target model, with the reason.
        new: ``fnmatch`` patterns of target keys the layout cannot provide,
            taken from the freshly built model, with the reason.
        absent: Source keys whose presence rules the layout out.
    """
    name: str
    description: str
    reference: str
    rules: Tuple[Rule, ...]
    signature: Tuple[str, ...]
    droppable: Tuple[Tuple[str, str], ...] = ()
    new: Tuple[Tuple[str, str], ...] = ()
    absent: Tuple[str, ...] = ()

    def matches(self, keys) -> bool:
        keys = set(keys)
        return (all(k in keys for k in self.signature)
                and not any(k in keys for k in self.absent))

    def rename(self, key: str) -> Tuple[str, List[Rule]]:
        applied = []
        for rule in self.rules:
            renamed = rule.apply(key)
            if renamed != key:
                applied.append(rule)
                key = renamed
        return key, applied


def _reason(key: str, patterns: Sequence[Tuple[str, str]]) -> Optional[str]:
    for pattern, reason in patterns:
        if fnmatch.fnmatchcase(key, pattern):
            return reason
    return None


@dataclass
class ConversionReport:
    """Where every key of the converted state dict came from."""
    layout: str
    kept: List[str] = field(default_factory=list)
    # new key -> (old key, rules applied)
    renamed: Dict[str, Tuple[str, str]] = field(default_factory=dict)
    # source key -> reason
    dropped: Dict[str, str] = field(default_factory=dict)
    # target key -> reason
    new: Dict[str, str] = field(default_factory=dict)

    def mapping(self) -> dict:
        """Plain data for the checkpoint's ``meta``."""
        return dict(
            layout=self.layout,
            kept=list(self.kept),
            renamed={
                new: old
                for new, (old, _) in self.renamed.items()
            },
            dropped=dict(self.dropped),
            new=dict(self.new))

    def summary(self) -> str:
        """Every renamed, dropped and new key, grouped, with counts."""
        lines = [f'layout: {self.layout}', f'kept: {len(self.kept)} keys']
        lines += _grouped(
            f'renamed: {len(self.renamed)} keys', {
                new: (rules, f'{old} -> {new}')
                for new, (old, rules) in self.renamed.items()
            })
        lines += _grouped(f'dropped: {len(self.dropped)} keys', {
            k: (why, k)
            for k, why in self.dropped.items()
        })
        lines += _grouped(f'newly initialised: {len(self.new)} keys', {
            k: (why, k)
            for k, why in self.new.items()
        })
        return '\n'.join(lines)


def _grouped(title: str, entries: Dict[str, Tuple[str, str]]) -> List[str]:
    groups: Dict[str, List[str]] = OrderedDict()
    for group, line in entries.values():
        groups.setdefault(group, []).append(line)
    lines = [title]
    for group, members in groups.items():
        lines.append(f'  [{len(members)}] {group}')
        lines += [f'    {m}' for m in members]
    return lines


def _some(items: Sequence[str], most: int = 3) -> str:
    more = f', ... ({len(items)} in all)' if len(items) > most else ''
    return ', '.join(items[:most]) + more


def strip_wrapper(state_dict: Mapping[str, torch.Tensor]) -> 'OrderedDict':
    """Remove a ``module.`` prefix that every key carries (a checkpoint
    saved from a DataParallel-wrapped model)."""
    if state_dict and all(k.startswith(WRAPPER_PREFIX) for k in state_dict):
        return OrderedDict(
            (k[len(WRAPPER_PREFIX):], v) for k, v in state_dict.items())
    return OrderedDict(state_dict)


def convert_state_dict(
    source: Mapping[str, torch.Tensor],
    layout: Layout,
    target: Mapping[str, torch.Tensor],
    reinit: Sequence[str] = (),
    fresh: Optional[Callable[[], Mapping[str, torch.Tensor]]] = None
) -> Tuple['OrderedDict[str, torch.Tensor]', ConversionReport]:
    """Map ``source`` onto the keys of ``target``.

    Args:
        source: The released checkpoint's state dict.
        layout: How it names its weights.
        target: State dict of the model to load into (its keys and shapes;
            also the values of newly initialised keys unless ``fresh``).
        reinit: ``fnmatch`` patterns of target keys to start afresh even
            though the source has them (another class count: the head), or
            lacks them.
        fresh: Gives the initialised state dict for the new keys, called
            only when there are new keys (default: ``target`` itself).

    Returns:
        The converted state dict, exactly the keys of ``target``, and the
        report.

    Raises:
        ConversionError: Source keys with no place in the model, model keys
            with no source, or shapes that differ (each named).
    """
    report = ConversionReport(layout.name)
    out: Dict[str, torch.Tensor] = {}
    unexpected, mismatched = [], []
    forced = [(p, 'restarted (--reinit)') for p in reinit]
    for key, value in strip_wrapper(source).items():
        new_key, rules = layout.rename(key)
        if new_key not in target:
            why = _reason(new_key, layout.droppable)
            if why is None:
                unexpected.append(key if new_key ==
                                  key else f'{key} (as {new_key})')
            else:
                report.dropped[key] = why
            continue
        why = _reason(new_key, forced)
        if why is not None:
            report.new[new_key] = why
            continue
        if not isinstance(value, torch.Tensor):
            raise ConversionError(f'{key} is a {type(value).__name__}, not '
                                  'a tensor')
        if value.shape != target[new_key].shape:
            mismatched.append(f'{new_key} {tuple(value.shape)} in the '
                              f'checkpoint vs {tuple(target[new_key].shape)} '
                              'in the model')
            continue
        out[new_key] = value
        if rules:
            report.renamed[new_key] = (key, '; '.join(map(str, rules)))
        else:
            report.kept.append(new_key)
    missing = []
    for key in target:
        if key in out or key in report.new:
            continue
        why = _reason(key, layout.new) or _reason(key, forced)
        if why is None:
            missing.append(key)
        else:
            report.new[key] = why
    problems = []
    if mismatched:
        problems.append(f'{len(mismatched)} of another shape: '
                        f'{_some(mismatched)}')
    if missing:
        problems.append(f'{len(missing)} model keys missing from the '
                        f'checkpoint: {_some(missing)}')
    if unexpected:
        problems.append(f'{len(unexpected)} checkpoint keys with no place in '
                        f'the model: {_some(unexpected)}')
    if problems:
        raise ConversionError(f'{layout.name} layout: ' + '; '.join(problems))
    if report.new:
        initial = fresh() if fresh is not None else target
        for key in report.new:
            out[key] = initial[key]
    return OrderedDict((k, out[k]) for k in target), report


def detect_layout(keys, layouts: Sequence[Layout]) -> Layout:
    """The one layout whose signature the keys carry."""
    keys = list(strip_wrapper({k: None for k in keys}))
    found = [layout for layout in layouts if layout.matches(keys)]
    if len(found) == 1:
        return found[0]
    names = ', '.join(layout.name for layout in layouts)
    if not found:
        groups = sorted({k.split('.')[0] for k in keys})
        raise ConversionError('unknown checkpoint layout (top-level keys: '
                              f'{_some(groups, 6)}); known layouts: {names}')
    raise ConversionError('the keys fit several layouts (' +
                          ', '.join(layout.name
                                    for layout in found) + '); pick one')
