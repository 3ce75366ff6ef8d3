"""Checkpoints of masked video pre-training: keeping the encoder for
fine-tuning.

:class:`~mmmg.models.ssl.VideoMAEPretrainer` keeps its encoder, an MMAction2
``VisionTransformer``, under ``backbone.``, the prefix of the backbone of a
``Recognizer3D``: ``load_from=<pre-training checkpoint>`` in a fine-tuning
config fills every ``backbone.*`` weight, and only the pre-training parts
(``decoder.*``, ``encoder_norm.*``) are left over. :func:`extract_encoder`
drops those (``tools/convert_mae_checkpoint.py``), optionally without the
prefix for ``model.backbone.pretrained``. Checkpoint files are read with
:func:`mmmg.models.utils.load_state_dict`.
"""
from collections import Counter, OrderedDict
from typing import Dict, Iterable, List, Tuple

import torch

ENCODER_PREFIX = 'backbone.'


def select_prefix(state_dict: Dict[str, torch.Tensor],
                  prefix: str) -> 'OrderedDict[str, torch.Tensor]':
    """The entries under ``prefix``, with the prefix removed ('' keeps
    everything)."""
    if not prefix:
        return OrderedDict(state_dict)
    return OrderedDict((k[len(prefix):], v) for k, v in state_dict.items()
                       if k.startswith(prefix))


def key_group(key: str) -> str:
    """The top-level module of a state-dict key (``decoder``, ...)."""
    return key.split('.', 1)[0]


def extract_encoder(
    state_dict: Dict[str, torch.Tensor],
    prefix: str = ENCODER_PREFIX,
    strip_prefix: bool = False
) -> Tuple['OrderedDict[str, torch.Tensor]', Counter]:
    """The encoder weights of a pre-training state dict.

    Args:
        state_dict (dict): Pre-training weights.
        prefix (str): The encoder's prefix. Defaults to ``'backbone.'``.
        strip_prefix (bool): Write the keys without ``prefix`` (for a bare
            backbone's ``pretrained``); otherwise keep them (for
            ``load_from`` into a recognizer). Defaults to False.

    Returns:
        tuple: The encoder state dict and a Counter of the dropped keys per
        top-level module.

    Raises:
        ValueError: No key has ``prefix``.
    """
    kept, dropped = OrderedDict(), Counter()
    for key, value in state_dict.items():
        if key.startswith(prefix):
            kept[key[len(prefix):] if strip_prefix else key] = value
        else:
            dropped[key_group(key)] += 1
    if not kept:
        raise ValueError(f'no key starts with {prefix!r}; groups found: '
                         f'{sorted(dropped)}')
    return kept, dropped


def match_keys(model_keys: Iterable[str],
               checkpoint_keys: Iterable[str]) -> Tuple[List[str], List[str]]:
    """``(missing, unexpected)``: model keys the checkpoint lacks and
    checkpoint keys the model lacks, both sorted."""
    model_keys, checkpoint_keys = set(model_keys), set(checkpoint_keys)
    return (sorted(model_keys - checkpoint_keys),
            sorted(checkpoint_keys - model_keys))
