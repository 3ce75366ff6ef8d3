"""Initialise RGBPoseConv3D from an RGB-only and a pose-only checkpoint.

The MiGA-2025 RGB+joint and RGB+limb streams start from a merge of a
ResNet3dSlowOnly trained on RGB and one trained on heatmaps. Keys map as::

    backbone.<k>          (RGB)  -> backbone.rgb_path.<k>
    backbone.<k>          (pose) -> backbone.pose_path.<k>
    cls_head.fc_cls.<p>   (RGB)  -> cls_head.fc_rgb.<p>
    cls_head.fc_cls.<p>   (pose) -> cls_head.fc_pose.<p>

Lateral connections concatenate the other pathway's features after a
layer's own, so the first convolution of such a layer takes more input
channels than its single-modality source. Those weights are *padded*: the
source fills the leading input channels and the extra ones are zero, so the
merged network starts out computing exactly what each source computed.
Keys with no source (the lateral convolutions themselves, or a head whose
class count differs) are left out of the merged state dict and reported as
newly initialised; loading it with ``strict=False`` misses exactly those.
"""
from dataclasses import dataclass, field
from typing import Dict, List, Mapping, Tuple

import torch

# (target prefix, source name, source prefix)
KEY_MAP = (
    ('backbone.rgb_path.', 'rgb', 'backbone.'),
    ('backbone.pose_path.', 'pose', 'backbone.'),
    ('cls_head.fc_rgb.', 'rgb', 'cls_head.fc_cls.'),
    ('cls_head.fc_pose.', 'pose', 'cls_head.fc_cls.'),
)


@dataclass
class MergeReport:
    """Where every key of the merged RGBPose state dict came from."""
    copied: List[str] = field(default_factory=list)
    padded: Dict[str, Tuple[tuple, tuple]] = field(default_factory=dict)
    new: Dict[str, str] = field(default_factory=dict)
    unused: Dict[str, List[str]] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return dict(
            copied=self.copied,
            padded={
                k: dict(source=list(s), target=list(t))
                for k, (s, t) in self.padded.items()
            },
            new=self.new,
            unused=self.unused)

    def summary(self) -> str:
        lines = [
            f'copied: {len(self.copied)} keys',
            f'padded (lateral input channels zero): {len(self.padded)}'
        ]
        lines += [
            f'  {k}: {tuple(s)} -> {tuple(t)}'
            for k, (s, t) in self.padded.items()
        ]
        lines.append(f'newly initialised: {len(self.new)}')
        lines += [f'  {k} ({why})' for k, why in self.new.items()]
        for name, keys in self.unused.items():
            lines.append(f'unused {name} keys: {len(keys)}')
            lines += [f'  {k}' for k in keys]
        return '\n'.join(lines)


def _source_key(key: str) -> Tuple[str, str]:
    for target_prefix, source, source_prefix in KEY_MAP:
        if key.startswith(target_prefix):
            return source, source_prefix + key[len(target_prefix):]
    return None, None


def _pad_input_channels(weight: torch.Tensor,
                        shape: torch.Size) -> torch.Tensor:
    out = weight.new_zeros(shape)
    out[:, :weight.shape[1]] = weight
    return out


def _is_paddable(src: torch.Size, dst: torch.Size) -> bool:
    return (len(src) == len(dst) >= 2 and src[0] == dst[0]
            and src[2:] == dst[2:] and src[1] < dst[1])


def merge_rgbpose_state_dicts(
    rgb: Mapping[str, torch.Tensor], pose: Mapping[str, torch.Tensor],
    target: Mapping[str, torch.Tensor]
) -> Tuple[Dict[str, torch.Tensor], MergeReport]:
    """Build an RGBPose state dict from two single-modality state dicts.

    Args:
        rgb: State dict of an RGB-only recognizer (``backbone.*``,
            ``cls_head.fc_cls.*``).
        pose: State dict of a pose-only recognizer.
        target: State dict of the RGBPose recognizer to initialise; only
            its keys and shapes are used.

    Returns:
        The merged state dict (target keys that have a source) and the
        report of copied, padded, new and unused keys.
    """
    sources = dict(rgb=rgb, pose=pose)
    used = {name: set() for name in sources}
    merged, report = {}, MergeReport()
    for key, ref in target.items():
        name, src_key = _source_key(key)
        if name is None:
            report.new[key] = 'no source pathway'
            continue
        src = sources[name].get(src_key)
        if src is None:
            report.new[key] = f'absent from the {name} checkpoint'
            continue
        used[name].add(src_key)
        if src.shape == ref.shape:
            merged[key] = src.clone()
            report.copied.append(key)
        elif _is_paddable(src.shape, ref.shape):
            merged[key] = _pad_input_channels(src, ref.shape)
            report.padded[key] = (tuple(src.shape), tuple(ref.shape))
        else:
            report.new[key] = (f'shape {tuple(src.shape)} in the {name} '
                               f'checkpoint, {tuple(ref.shape)} here')
    for name, state in sources.items():
        report.unused[name] = sorted(set(state) - used[name])
    return merged, report


def load_state_dict(path: str) -> Dict[str, torch.Tensor]:
    """The ``state_dict`` of an mmengine checkpoint (or a bare state dict);
    a missing or unreadable file is a ``ToolError`` naming it."""
    from mmmg.engine.checkpoint import read_checkpoint
    ckpt = read_checkpoint(path)
    state = ckpt.get('state_dict', ckpt) if isinstance(ckpt, dict) else None
    if not isinstance(state, dict) or not all(
            isinstance(v, torch.Tensor) for v in state.values()):
        raise ValueError(f'{path}: not a checkpoint with a state_dict of '
                         'tensors')
    return state
