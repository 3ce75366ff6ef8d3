"""Keypoint layouts and the conversions between them, declared once.

A layout is a list of point names plus edges. Left/right flip pairs are
derived from the names (``left_*`` <-> ``right_*``; face points through the
iBUG-68 mirror table), so a layout cannot declare an inconsistent flip.
Sub-layouts (the 36-point MG layout, ...) are declared as index lists into
their source layout and inherit names and edges from it.

Conversions go through point names. The OpenPose-137 names are the shared
vocabulary: a point named ``left_wrist`` is the same body point in every
layout that has it. What a layout lacks under a shared name, it may derive
(:data:`POINT_SOURCES`): COCO-WholeBody has no OpenPose ``neck``, so the
neck is the midpoint of its shoulders. Every conversion table is derived
from the names and these few declarations (:func:`conversion_table`).
"""
import functools
import re
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

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
              (0, 9), (9, 10), (10, 11), (11, 12), (0, 13), (13, 14), (14, 15),
              (15, 16), (0, 17), (17, 18), (18, 19), (19, 20))


def _ibug70_mirror() -> List[int]:
    """Mirror permutation of the 68 iBUG face points + 2 pupils."""
    m = list(range(70))

    def pair(a, b):
        m[a], m[b] = b, a

    for i in range(8):
        pair(i, 16 - i)  # jaw
    for a, b in zip(range(17, 22), range(26, 21, -1)):
        pair(a, b)  # brows
    pair(31, 35), pair(32, 34)  # nose base
    for a, b in zip((36, 37, 38, 39, 40, 41), (45, 44, 43, 42, 47, 46)):
        pair(a, b)  # eyes
    for a, b in ((48, 54), (49, 53), (50, 52), (55, 59), (56, 58), (60, 64),
                 (61, 63), (65, 67), (68, 69)):
        pair(a, b)  # lips, pupils
    return m


FACE70_MIRROR = _ibug70_mirror()
FACE70_EDGES = tuple([(i, i + 1) for i in range(16)] +  # jaw
                     [(i, i + 1) for i in range(17, 21)] +  # right brow
                     [(i, i + 1) for i in range(22, 26)] +  # left brow
                     [(i, i + 1) for i in range(27, 30)] +  # nose bridge
                     [(i, i + 1)
                      for i in range(31, 35)] + [(30, 33)] +  # nose base
                     [(36 + i, 36 + (i + 1) % 6)
                      for i in range(6)] +  # right eye
                     [(42 + i, 42 + (i + 1) % 6)
                      for i in range(6)] +  # left eye
                     [(48 + i, 48 + (i + 1) % 12)
                      for i in range(12)] +  # outer lip
                     [(60 + i, 60 + (i + 1) % 8)
                      for i in range(8)])  # inner lip


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
        """Sub-layout of the points ``indices``, edges restricted to them."""
        pos = {src: dst for dst, src in enumerate(indices)}
        edges = tuple(
            (pos[a], pos[b]) for a, b in self.edges if a in pos and b in pos)
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
    edges += [
        (b['nose'], face + 27),
        (b['nose'], face + 51),
        (b['right_ear'], face + 2),
        (b['left_ear'], face + 14),
        (face + 19, face + 27),
        (face + 24, face + 27),
        (face + 2, face + 4),
        (face + 4, face + 8),
        (face + 8, face + 12),
        (face + 12, face + 14),
        (face + 48, face + 51),
        (face + 51, face + 54),
        (face + 54, face + 57),
        (face + 57, face + 48),
        # Eyes, pupils and inner lips, so the full face is one graph.
        (face + 39, face + 27),
        (face + 42, face + 27),
        (face + 68, face + 39),
        (face + 69, face + 42),
        (face + 48, face + 60),
        (face + 54, face + 64)
    ]
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
MG22_FROM_OPENPOSE137 = (
    tuple(range(8)) + tuple(range(15, 19)) +
    (99, 103, 107, 111, 115, 120, 124, 128, 132, 136))
MG22 = OPENPOSE137.subset('mg22', MG22_FROM_OPENPOSE137)

# iMiGUE-3K's upper-body-centric skeleton for the skeleton foundation model:
# body above the hips, eyes and ears, the nose bridge and four mouth points
# (bite lip, cover face), and both full hands (rub hand, cross finger).
UPPER_BODY59_FROM_OPENPOSE137 = (
    tuple(range(8)) + tuple(range(15, 19)) + (52, 73, 76, 79, 82) +
    tuple(range(95, 137)))
UPPER_BODY59 = OPENPOSE137.subset('upper_body59',
                                  UPPER_BODY59_FROM_OPENPOSE137)


def _mirrored(pairs: Sequence[Tuple[str, str]]) -> List[Tuple[str, str]]:
    """``pairs`` plus their mirror images, so only one side is declared."""
    return list(pairs) + [(_mirror_name(a), _mirror_name(b)) for a, b in pairs]


def _named_edges(names: Sequence[str],
                 pairs: Sequence[Tuple[str, str]]) -> List[Tuple[int, int]]:
    index = {n: i for i, n in enumerate(names)}
    return sorted({tuple(sorted((index[a], index[b]))) for a, b in pairs})


# COCO-WholeBody (RTMPose / RTMW output order): 17 COCO body points, 6 feet,
# 68 iBUG face points, left and right hand-21 in the OpenPose hand order.
COCO17 = ('nose', 'left_eye', 'right_eye', 'left_ear', 'right_ear',
          'left_shoulder', 'right_shoulder', 'left_elbow', 'right_elbow',
          'left_wrist', 'right_wrist', 'left_hip', 'right_hip', 'left_knee',
          'right_knee', 'left_ankle', 'right_ankle')
COCO_FEET = ('left_big_toe', 'left_small_toe', 'left_heel', 'right_big_toe',
             'right_small_toe', 'right_heel')


def _coco_wholebody133() -> KeypointLayout:
    names = list(COCO17) + list(COCO_FEET)
    names += [f'face_{i:02d}' for i in range(68)]
    names += [f'left_hand_{n}' for n in HAND21]
    names += [f'right_hand_{n}' for n in HAND21]
    # The OpenPose limbs whose two ends COCO has ...
    have = set(names)
    pairs = [(OPENPOSE137.names[a], OPENPOSE137.names[b])
             for a, b in OPENPOSE137.edges]
    pairs = [(a, b) for a, b in pairs if a in have and b in have]
    # ... plus links that replace the neck and mid-hip hubs COCO lacks.
    pairs += _mirrored([('left_shoulder', 'right_shoulder'),
                        ('left_hip', 'right_hip'),
                        ('left_shoulder', 'left_hip'),
                        ('left_ear', 'left_shoulder')])
    return make_layout('coco_wholebody133', names, _named_edges(names, pairs))


COCO_WHOLEBODY133 = _coco_wholebody133()

# Kinect v2 joints in the official JointType order (SMG skeletons). Sides
# are the subject's own, as in OpenPose.
KINECT_V2_JOINTS = ('SpineBase', 'SpineMid', 'Neck', 'Head', 'ShoulderLeft',
                    'ElbowLeft', 'WristLeft', 'HandLeft', 'ShoulderRight',
                    'ElbowRight', 'WristRight', 'HandRight', 'HipLeft',
                    'KneeLeft', 'AnkleLeft', 'FootLeft', 'HipRight',
                    'KneeRight', 'AnkleRight', 'FootRight', 'SpineShoulder',
                    'HandTipLeft', 'ThumbLeft', 'HandTipRight', 'ThumbRight')


def kinect_point_name(joint: str) -> str:
    """Layout name of a Kinect JointType: ``HandTipLeft`` -> ``left_hand_tip``.
    """
    side = ''
    for suffix in ('Left', 'Right'):
        if joint.endswith(suffix):
            side, joint = f'{suffix.lower()}_', joint[:-len(suffix)]
    return side + re.sub(r'(?<!^)(?=[A-Z])', '_', joint).lower()


def _kinect25() -> KeypointLayout:
    names = [kinect_point_name(j) for j in KINECT_V2_JOINTS]
    pairs = [('spine_base', 'spine_mid'), ('spine_mid', 'spine_shoulder'),
             ('spine_shoulder', 'neck'), ('neck', 'head')]
    pairs += _mirrored([('spine_shoulder', 'left_shoulder'),
                        ('left_shoulder', 'left_elbow'),
                        ('left_elbow', 'left_wrist'),
                        ('left_wrist', 'left_hand'),
                        ('left_hand', 'left_hand_tip'),
                        ('left_wrist', 'left_thumb'),
                        ('spine_base', 'left_hip'), ('left_hip', 'left_knee'),
                        ('left_knee', 'left_ankle'),
                        ('left_ankle', 'left_foot')])
    return make_layout('kinect25', names, _named_edges(names, pairs))


KINECT25 = _kinect25()

LAYOUTS: Dict[str, KeypointLayout] = {
    layout.name: layout
    for layout in (OPENPOSE137, MG36, MG22, UPPER_BODY59, COCO_WHOLEBODY133,
                   KINECT25)
}

# The shared point vocabulary (see the module docstring).
CANONICAL_NAMES = frozenset(OPENPOSE137.names)


def _with_mirrors(sources: Dict[str,
                                Tuple[str,
                                      ...]]) -> Dict[str, Tuple[str, ...]]:
    """``sources`` plus the mirror of every entry."""
    out = dict(sources)
    for name, points in sources.items():
        out[_mirror_name(name)] = tuple(_mirror_name(p) for p in points)
    return out


# Canonical points a layout provides under another name or derives from
# several of its points (mean position, min confidence), by layout. These
# entries take precedence over a point of the same name: Kinect's ``neck``
# sits above the shoulder line, OpenPose's neck is Kinect's spine_shoulder.
# Only one side is declared; the other is mirrored.
POINT_SOURCES: Dict[str, Dict[str, Tuple[str, ...]]] = {
    # Midpoints, as OpenPose's COCO-based training data defines them.
    'coco_wholebody133':
    _with_mirrors({
        'neck': ('left_shoulder', 'right_shoulder'),
        'mid_hip': ('left_hip', 'right_hip'),
    }),
    # Kinect tracks no face and only two finger points per hand; the thumb
    # and hand tip stand in for the thumb and middle fingertips.
    'kinect25':
    _with_mirrors({
        'neck': ('spine_shoulder', ),
        'mid_hip': ('spine_base', ),
        'left_hand_wrist': ('left_wrist', ),
        'left_hand_thumb4': ('left_thumb', ),
        'left_hand_middle4': ('left_hand_tip', ),
    }),
}

MISSING_POLICIES = ('raise', 'zero')


class MissingKeypointsError(ValueError):
    """A conversion whose source layout lacks some of the target's points.

    Args:
        source (str): Source layout name.
        target (str): Target layout name.
        names (Sequence[str]): The target points the source cannot provide.
    """

    def __init__(self, source: str, target: str, names: Sequence[str]) -> None:
        super().__init__(source, target, tuple(names))
        self.source, self.target, self.names = source, target, tuple(names)

    def __str__(self) -> str:
        return (f'{self.source} cannot provide {len(self.names)} of the '
                f'{self.target} points: {", ".join(self.names)}; pass '
                "missing='zero' to fill them with 0 coordinates and 0 "
                'confidence')


def get_layout(name: str) -> KeypointLayout:
    if name not in LAYOUTS:
        raise KeyError(f'unknown keypoint layout {name!r}; known: '
                       f'{sorted(LAYOUTS)}')
    return LAYOUTS[name]


def flip_lists(name: str) -> Tuple[List[int], List[int]]:
    """``left_kp`` and ``right_kp`` of MMAction2's ``Flip`` for layout
    ``name``: the points a horizontal flip swaps, paired by position."""
    pairs = get_layout(name).flip_pairs
    return [a for a, _ in pairs], [b for _, b in pairs]


@functools.lru_cache(maxsize=None)
def conversion_table(source: str,
                     target: str) -> Tuple[Optional[Tuple[int, ...]], ...]:
    """How each ``target`` point comes from the ``source`` points.

    Args:
        source (str): Source layout name.
        target (str): Target layout name.

    Returns:
        tuple: Per target point, the source indices whose mean it is (one
        index for a plain copy), or None where the source lacks the point.

    Raises:
        KeyError: Unknown layouts, or a target with points outside the
            shared vocabulary (only ``kinect25`` itself converts to
            ``kinect25``).
    """
    src, dst = get_layout(source), get_layout(target)
    if source == target:
        return tuple((i, ) for i in range(src.num_keypoints))
    foreign = [n for n in dst.names if n not in CANONICAL_NAMES]
    if foreign:
        raise KeyError(f'no conversion from {source!r} to {target!r}: '
                       f'{target} points such as {foreign[0]!r} have no '
                       'OpenPose-137 counterpart; known targets of '
                       f'{source}: {conversion_targets(source)}')
    index = {n: i for i, n in enumerate(src.names)}
    derived = POINT_SOURCES.get(source, {})
    table = []
    for name in dst.names:
        if name in derived:
            table.append(tuple(index[n] for n in derived[name]))
        elif name in index:
            table.append((index[name], ))
        else:
            table.append(None)
    return tuple(table)


def conversion_targets(source: str) -> List[str]:
    """Layouts ``source`` converts to (possibly with missing points)."""
    get_layout(source)
    return sorted(
        name for name, layout in LAYOUTS.items()
        if name == source or CANONICAL_NAMES.issuperset(layout.names))


def missing_keypoints(source: str, target: str) -> List[str]:
    """Names of the ``target`` points that ``source`` cannot provide."""
    return [
        get_layout(target).names[i]
        for i, points in enumerate(conversion_table(source, target))
        if points is None
    ]


@functools.lru_cache(maxsize=None)
def bone_parents(name: str, root: str = 'neck') -> Tuple[int, ...]:
    """Parent of every point in a tree over the layout's edges.

    The tree is the breadth-first tree from ``root``, so a bone points from
    each point towards the body centre. The root is its own parent (a zero
    bone), and so is every point the edges do not connect to the root.

    Args:
        name (str): Layout name.
        root (str): Point name of the root. Defaults to ``'neck'``.

    Returns:
        tuple[int, ...]: ``parents[i]`` for every point ``i``.
    """
    layout = get_layout(name)
    if root not in layout.names:
        raise ValueError(f'layout {name!r} has no point {root!r} to root '
                         'its bones at')
    neighbours = [[] for _ in layout.names]
    for a, b in layout.edges:
        neighbours[a].append(b)
        neighbours[b].append(a)
    start = layout.names.index(root)
    parents = list(range(layout.num_keypoints))
    seen, frontier = {start}, [start]
    while frontier:
        nxt = []
        for i in frontier:
            for j in sorted(neighbours[i]):
                if j not in seen:
                    seen.add(j)
                    parents[j] = i
                    nxt.append(j)
        frontier = nxt
    return tuple(parents)


def _put(array: np.ndarray, axis: int, i: int, value) -> None:
    index = [slice(None)] * array.ndim
    index[axis] = i
    array[tuple(index)] = value


def convert_keypoints(array: np.ndarray,
                      source: str,
                      target: str,
                      axis: int = -2,
                      missing: str = 'raise',
                      score_channel: Optional[int] = None) -> np.ndarray:
    """Express an array in ``source`` layout in the ``target`` layout.

    A target point is a copy of one source point, or the mean of several
    (their minimum for confidences), per :func:`conversion_table`.

    Args:
        array: Keypoints (``[..., V, C]``, the default ``axis=-2``; the
            channels are the last axis) or scores (``[..., V]``, pass
            ``axis=-1``). A point axis that is the last axis marks a score
            array.
        source: Layout name of ``array``.
        target: Layout name to convert to.
        axis: The keypoint axis.
        missing: ``'raise'`` (default) fails when ``source`` lacks target
            points; ``'zero'`` fills them with 0 (coordinates and scores).
        score_channel: For keypoint arrays that carry a confidence channel
            (``x, y, score``: 2), its index: derived points take the
            minimum there, and their coordinates are 0 where it is 0.

    Returns:
        np.ndarray: The array with ``target``'s points on ``axis``.

    Raises:
        KeyError: No conversion from ``source`` to ``target``.
        ValueError: ``array`` does not have ``source``'s point count.
        MissingKeypointsError: ``missing='raise'`` and points are missing.
    """
    if missing not in MISSING_POLICIES:
        raise ValueError(f'missing={missing!r}; expected one of '
                         f'{MISSING_POLICIES}')
    table = conversion_table(source, target)
    n_src = get_layout(source).num_keypoints
    if array.shape[axis] != n_src:
        raise ValueError(f'array of shape {array.shape} has '
                         f'{array.shape[axis]} points on axis {axis}, '
                         f'expected {n_src} ({source})')
    absent = missing_keypoints(source, target)
    if absent and missing == 'raise':
        raise MissingKeypointsError(source, target, absent)
    axis = axis % array.ndim
    is_score = axis == array.ndim - 1
    if score_channel is not None and is_score:
        raise ValueError('score_channel is for keypoint arrays [..., V, C]; '
                         'a score array [..., V] is reduced by min already')
    out = np.take(array, [p[0] if p else 0 for p in table], axis=axis)
    for i, points in enumerate(table):
        if points is None:
            _put(out, axis, i, 0)
        elif len(points) > 1:
            group = np.take(array, points, axis=axis)
            if is_score:
                _put(out, axis, i, group.min(axis=axis))
                continue
            value = group.mean(axis=axis)
            if score_channel is not None:
                value[..., score_channel] = group[...,
                                                  score_channel].min(axis=axis)
                value[value[..., score_channel] == 0] = 0
            _put(out, axis, i, value)
    return out


def convert_pose(keypoint: np.ndarray,
                 keypoint_score: np.ndarray,
                 source: str,
                 target: str,
                 missing: str = 'raise') -> Tuple[np.ndarray, np.ndarray]:
    """Convert a keypoint array and its scores together.

    Derived points (means of several source points) get the minimum score,
    and 0 coordinates where that score is 0, so a point built from a missing
    one reads as missing (0, 0, 0) too.

    Args:
        keypoint (np.ndarray): ``[..., V, C]`` in ``source`` layout.
        keypoint_score (np.ndarray): ``[..., V]``.
        source (str): Source layout name.
        target (str): Target layout name.
        missing (str): See :func:`convert_keypoints`.

    Returns:
        tuple[np.ndarray, np.ndarray]: Keypoints and scores in ``target``.
    """
    if keypoint.shape[:-1] != keypoint_score.shape:
        raise ValueError(f'keypoint shape {keypoint.shape} does not match '
                         f'keypoint_score shape {keypoint_score.shape} '
                         '(expected [..., V, C] and [..., V])')
    kp = convert_keypoints(keypoint, source, target, -2, missing)
    score = convert_keypoints(keypoint_score, source, target, -1, missing)
    derived = [
        i for i, p in enumerate(conversion_table(source, target))
        if p and len(p) > 1
    ]
    if derived:
        part = kp[..., derived, :]
        part[score[..., derived] == 0] = 0
        kp[..., derived, :] = part
    return kp, score
