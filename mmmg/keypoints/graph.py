"""Graphs of the keypoint layouts for MMAction2's GCN backbones.

MMAction2's ``Graph`` (ST-GCN, ST-GCN++, CTR-GCN, AAGCN) knows only the
'openpose', 'nturgb+d' and 'coco' skeletons, but accepts a dict
``dict(num_node=V, inward=[(child, parent), ...], center=c)``.
:func:`gcn_layout` builds that dict from a layout's edges, so configs write
``graph_cfg=dict(layout=gcn_layout('mg36'), mode='spatial')`` and the graph
follows the one declaration of the layout.
"""
from typing import Dict, List, Tuple

from .layouts import bone_parents, get_layout


def gcn_layout(name: str, root: str = 'neck') -> Dict:
    """The layout's tree as an MMAction2 ``Graph`` layout dict.

    Args:
        name (str): Layout name (``'mg36'``, ``'mg22'``, ...).
        root (str): Point the bones point towards (the graph centre).
            Defaults to ``'neck'``.

    Returns:
        dict: ``num_node``, ``inward`` (``(child, parent)`` pairs of the
        breadth-first tree of :func:`bone_parents`) and ``center``.
    """
    parents = bone_parents(name, root)
    inward: List[Tuple[int, int]] = [(child, parent)
                                     for child, parent in enumerate(parents)
                                     if child != parent]
    return dict(
        num_node=get_layout(name).num_keypoints,
        inward=inward,
        center=get_layout(name).names.index(root))
