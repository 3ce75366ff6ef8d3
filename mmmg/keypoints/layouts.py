"""Keypoint layouts, declared once.

A layout is a list of point names plus edges. Left/right flip pairs are
derived from the names (``left_*`` <-> ``right_*``; face points through the
iBUG-68 mirror table), so a layout cannot declare an inconsistent flip.
Sub-layouts (the 36-point MG layout, ...) are declared as index lists into
their source layout and inherit names and edges from it.
"""
from dataclasses import dataclass, field
from typing import Dict, List, Sequence, Tuple

import numpy as np

BODY25 = ('nose', 'neck', 'right_shoulder', 'right_elbow', 'right_wrist',
          'left_shoulder', 'left_elbow', 'left_wrist', 'mid_hip', 'right_hip',
          'right_knee', 'right_ankle', 'left_hip', 'left_knee', 'left_ankle',
          'right_eye', 'left_eye', 'right_ear', 'left_ear', 'left_big_toe',
          'left_small_toe', 'left_heel', 'right_big_toe', 'right_small_toe',
          'right_heel')
HAND21 = ('wrist', 'thumb1', 'thumb2', 'thumb3', 'thumb4', 'index1', 'index2',
          'index3', 'index4', 'middle1', 'middle2', 'middle3', 'middle4',
          'ring1', 'ring2', 'ring3', 'ring4', 'pinky1', 'pinky2', 'pinky3',
          'pinky4')
HAND_EDGES = ((0, 1), (1, 2), (2, 3), (3, 4), (0, 5), (5, 6), (6, 7), (7, 8),
              (0, 9), (9, 10), (10, 11), (11, 12), (0, 13), (13, 14),
              (14, 15), (15, 16), (0, 17), (17, 18), (18, 19), (19, 20))


def _ibug70_mirror() -> List[int]:
    """Mirror permutation of the 68 iBUG face points + 2 pupils."""
    m = list(range(70))

    def pair(a, b):
        m[a], m[b] = b, a

    for i in range(8):
        pair(i, 16 - i)                     # jaw
    for a, b in zip(range(17, 22), range(26, 21, -1)):
        pair(a, b)                          # brows
    pair(31, 35), pair(32, 34)              # nose base
    for a, b in zip((36, 37, 38, 39, 40, 41), (45, 44, 43, 42, 47, 46)):
        pair(a, b)                          # eyes
    for a, b in ((48, 54), (49, 53), (50, 52), (55, 59), (56, 58), (60, 64),
                 (61, 63), (65, 67), (68, 69)):
        pair(a, b)                          # lips, pupils
    return m


FACE70_MIRROR = _ibug70_mirror()
FACE70_EDGES = tuple(
    [(i, i + 1) for i in range(16)] +                        # jaw
    [(i, i + 1) for i in range(17, 21)] +                    # right brow
    [(i, i + 1) for i in range(22, 26)] +                    # left brow
    [(i, i + 1) for i in range(27, 30)] +                    # nose bridge
    [(i, i + 1) for i in range(31, 35)] + [(30, 33)] +       # nose base
    [(36 + i, 36 + (i + 1) % 6) for i in range(6)] +         # right eye
    [(42 + i, 42 + (i + 1) % 6) for i in range(6)] +         # left eye
    [(48 + i, 48 + (i + 1) % 12) for i in range(12)] +       # outer lip
    [(60 + i, 60 + (i + 1) % 8) for i in range(8)])          # inner lip


@dataclass(frozen=True)
class KeypointLayout:
    """A named keypoint layout.

    Attributes:
        name: Registry name of the layout.
        names: Point names; ``left_``/``right_`` prefixes drive flipping.
        edges: Undirected limbs as index pairs.
        flip_index: ``flip_index[i]`` is the point that ``i`` becomes under
            a horizontal flip (derived, never declared).
    """
    name: str
    names: Tuple[str, ...]
    edges: Tuple[Tuple[int, int], ...]
    flip_index: Tuple[int, ...] = field(default=())

    @property
    def num_keypoints(self) -> int:
        return len(self.names)

    @property
    def flip_pairs(self) -> List[Tuple[int, int]]:
        """``(i, j)`` with ``i < j`` for every point swapped by a flip."""
        return [(i, j) for i, j in enumerate(self.flip_index) if i < j]

    def subset(self, name: str, indices: Sequence[int]) -> 'KeypointLayout':
        """Sub-layout of the points ``indices`` with edges restricted to them."""
        pos = {src: dst for dst, src in enumerate(indices)}
        edges = tuple((pos[a], pos[b]) for a, b in self.edges
                      if a in pos and b in pos)
        return make_layout(name, [self.names[i] for i in indices], edges)


def _mirror_name(name: str) -> str:
    if name.startswith('face_'):
        return f'face_{FACE70_MIRROR[int(name[5:])]:02d}'
    for a, b in (('left_', 'right_'), ('right_', 'left_')):
        if name.startswith(a):
            return b + name[len(a):]
    return name


def make_layout(name: str, names: Sequence[str],
                edges: Sequence[Tuple[int, int]]) -> KeypointLayout:
    names = tuple(names)
    index = {n: i for i, n in enumerate(names)}
    if len(index) != len(names):
        raise ValueError(f'layout {name!r} has duplicate point names')
    flip = []
    for n in names:
        m = _mirror_name(n)
        if m not in index:
            raise ValueError(f'layout {name!r}: mirror {m!r} of {n!r} is '
                             'not in the layout')
        flip.append(index[m])
    return KeypointLayout(name, names, tuple(map(tuple, edges)), tuple(flip))


def _openpose137() -> KeypointLayout:
    names = list(BODY25)
    names += [f'face_{i:02d}' for i in range(70)]
    names += [f'left_hand_{n}' for n in HAND21]
    names += [f'right_hand_{n}' for n in HAND21]
    b = {n: i for i, n in enumerate(BODY25)}
    body_edges = [('nose', 'neck'), ('neck', 'right_shoulder'),
                  ('right_shoulder', 'right_elbow'),
                  ('right_elbow', 'right_wrist'), ('neck', 'left_shoulder'),
                  ('left_shoulder', 'left_elbow'),
                  ('left_elbow', 'left_wrist'), ('neck', 'mid_hip'),
                  ('mid_hip', 'right_hip'), ('right_hip', 'right_knee'),
                  ('right_knee', 'right_ankle'), ('mid_hip', 'left_hip'),
                  ('left_hip', 'left_knee'), ('left_knee', 'left_ankle'),
                  ('nose', 'right_eye'), ('right_eye', 'right_ear'),
                  ('nose', 'left_eye'), ('left_eye', 'left_ear'),
                  ('left_ankle', 'left_big_toe'),
                  ('left_big_toe', 'left_small_toe'),
                  ('left_ankle', 'left_heel'),
                  ('right_ankle', 'right_big_toe'),
                  ('right_big_toe', 'right_small_toe'),
                  ('right_ankle', 'right_heel')]
    edges = [(b[u], b[v]) for u, v in body_edges]
    face, lhand, rhand = 25, 95, 116
    edges += [(face + u, face + v) for u, v in FACE70_EDGES]
    # Links that tie face and hands to the body, so sub-layouts stay connected.
    edges += [(b['nose'], face + 27), (b['nose'], face + 51),
              (b['right_ear'], face + 2), (b['left_ear'], face + 14),
              (face + 19, face + 27), (face + 24, face + 27),
              (face + 2, face + 4), (face + 4, face + 8), (face + 8, face + 12),
              (face + 12, face + 14), (face + 48, face + 51),
              (face + 51, face + 54), (face + 54, face + 57),
              (face + 57, face + 48)]
    for hand, wrist in ((lhand, b['left_wrist']), (rhand, b['right_wrist'])):
        edges += [(hand + u, hand + v) for u, v in HAND_EDGES]
        edges += [(wrist, hand)]
        # Fingertips straight to the wrist, so wrist+tips layouts keep limbs.
        edges += [(hand, hand + t) for t in (4, 8, 12, 16, 20)]
    edges = sorted({tuple(sorted(e)) for e in edges})
    return make_layout('openpose137', names, edges)


OPENPOSE137 = _openpose137()

# The MiGA-2025 winner's 36 points: body 0-7, eyes/ears, 8 face points,
# 4 mouth points, each hand's wrist + fingertips (left 24-29, right 30-35).
MG36_FROM_OPENPOSE137 = (0, 1, 2, 3, 4, 5, 6, 7, 15, 16, 17, 18, 27, 29, 33,
                         37, 39, 44, 49, 52, 73, 76, 79, 82, 95, 99, 103, 107,
                         111, 115, 116, 120, 124, 128, 132, 136)
MG36 = OPENPOSE137.subset('mg36', MG36_FROM_OPENPOSE137)

# The 2023 22-point layout: body-25[0:8] + [15:19] + each hand's fingertips.
MG22_FROM_OPENPOSE137 = (tuple(range(8)) + tuple(range(15, 19)) +
                         (99, 103, 107, 111, 115, 120, 124, 128, 132, 136))
MG22 = OPENPOSE137.subset('mg22', MG22_FROM_OPENPOSE137)

LAYOUTS: Dict[str, KeypointLayout] = {
    layout.name: layout for layout in (OPENPOSE137, MG36, MG22)
}

# Index maps from a source layout into a target layout, by (source, target).
SUBSET_INDICES: Dict[Tuple[str, str], Tuple[int, ...]] = {
    ('openpose137', 'openpose137'): tuple(range(137)),
    ('openpose137', 'mg36'): MG36_FROM_OPENPOSE137,
    ('openpose137', 'mg22'): MG22_FROM_OPENPOSE137,
}


def get_layout(name: str) -> KeypointLayout:
    if name not in LAYOUTS:
        raise KeyError(f'unknown keypoint layout {name!r}; known: '
                       f'{sorted(LAYOUTS)}')
    return LAYOUTS[name]


def convert_keypoints(array: np.ndarray, source: str, target: str,
                      axis: int = -2) -> np.ndarray:
    """Select the ``target`` points from an array in ``source`` layout.

    Args:
        array: Keypoints (``[..., V, C]``, the default ``axis=-2``) or
            scores (``[..., V]``, pass ``axis=-1``).
        source: Layout name of ``array``.
        target: Layout name to convert to.
        axis: The keypoint axis.
    """
    key = (source, target)
    if key not in SUBSET_INDICES:
        raise KeyError(f'no conversion from {source!r} to {target!r}; known: '
                       f'{sorted(SUBSET_INDICES)}')
    n_src = get_layout(source).num_keypoints
    if array.shape[axis] != n_src:
        raise ValueError(f'array of shape {array.shape} has '
                         f'{array.shape[axis]} points on axis {axis}, '
                         f'expected {n_src} ({source})')
    return np.take(array, SUBSET_INDICES[key], axis=axis)
