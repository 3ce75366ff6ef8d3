"""Joint, bone and motion streams of a skeleton sequence.

Inputs carry the point score as their last channel (see
``FormatSkeletonSequence``); a score of 0 marks a missing point or a padded
frame. A bone or motion vector is only as reliable as the less confident
of its two points, so it takes their minimum score, and it is zero where
either point is missing rather than a jump to or from ``(0, 0)``.
"""
from typing import Sequence

import torch
from torch import Tensor

STREAMS = ('joint', 'bone', 'motion')


def skeleton_stream(x: Tensor, stream: str,
                    parents: Sequence[int] = ()) -> Tensor:
    """The ``stream`` view of skeleton sequences.

    Args:
        x (Tensor): ``[..., T, V, C]``, coordinates then the score.
        stream (str): ``'joint'`` (as is), ``'bone'`` (each point minus its
            parent) or ``'motion'`` (each frame's successor minus itself;
            the last frame is zero).
        parents (Sequence[int]): Parent of each point, for bones
            (:func:`mmmg.keypoints.bone_parents`).

    Returns:
        Tensor: Same shape as ``x``.
    """
    if stream == 'joint':
        return x
    coords, score = x[..., :-1], x[..., -1:]
    if stream == 'bone':
        if len(parents) != x.shape[-2]:
            raise ValueError(f'{len(parents)} bone parents for '
                             f'{x.shape[-2]} points')
        index = torch.as_tensor(list(parents), device=x.device)
        coords = coords - coords.index_select(-2, index)
        score = torch.minimum(score, score.index_select(-2, index))
    elif stream == 'motion':
        coords = torch.cat([
            coords[..., 1:, :, :] - coords[..., :-1, :, :],
            torch.zeros_like(coords[..., :1, :, :])
        ], -3)
        score = torch.cat([
            torch.minimum(score[..., 1:, :, :], score[..., :-1, :, :]),
            torch.zeros_like(score[..., :1, :, :])
        ], -3)
    else:
        raise ValueError(f'unknown skeleton stream {stream!r}; choose from '
                         f'{STREAMS}')
    return torch.cat([coords * (score > 0), score], -1)
