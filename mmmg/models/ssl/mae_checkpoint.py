"""Checkpoints of masked video pre-training.

:class:`~mmmg.models.ssl.VideoMAEPretrainer` keeps its encoder, an MMAction2
``VisionTransformer``, under ``backbone.``, the prefix of the backbone of a
``Recognizer3D``: ``load_from=<pre-training checkpoint>`` in a fine-tuning
config fills every ``backbone.*`` weight. ``tools/convert_checkpoint.py``
(layout ``mmmg-videomae``, :mod:`mmmg.models.utils.checkpoint_conversion`)
writes the fine-tuning checkpoint without the pre-training parts, checked
against the fine-tuning config. :func:`select_prefix` takes one module's
weights out of a checkpoint (the teacher of feature targets).
"""
from collections import OrderedDict
from typing import Dict

import torch


def select_prefix(state_dict: Dict[str, torch.Tensor],
                  prefix: str) -> 'OrderedDict[str, torch.Tensor]':
    """The entries under ``prefix``, with the prefix removed ('' keeps
    everything)."""
    if not prefix:
        return OrderedDict(state_dict)
    return OrderedDict((k[len(prefix):], v) for k, v in state_dict.items()
                       if k.startswith(prefix))
