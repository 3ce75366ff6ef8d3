"""Class lists of the micro-gesture datasets, declared once.

Everything else (``num_classes`` in configs, metric names, submission files)
derives from these tuples.
"""

# iMiGUE / MiGA: 31 micro-gestures + 1 non-MG class, in label-index order.
IMIGUE_CLASSES = ('turtle neck', 'deep breath', 'touch hat', 'touch face',
                  'touch forehead', 'cover face', 'rub eyes',
                  'touch other face part', 'touch ears', 'bite nails',
                  'touch chin', 'touch neck', 'play hair', 'adjust tie',
                  'touch chest', 'scratch back', 'fold arm', 'tidy sleeve',
                  'put arm back', 'move torso', 'sit straight', 'scratch arm',
                  'rub hand', 'cross finger', 'minaret hand', 'play things',
                  'withdraw arms', 'head up', 'bite lip', 'arm akimbo',
                  'shake shoulder', 'illustrative')

# Raw MiGA label 99 is the non-MG class; the others are 1-based.
MIGA_NON_MG_RAW_LABEL = 99


def miga_label_to_index(raw: int) -> int:
    """Map a raw MiGA label-table class to the 0-based iMiGUE index."""
    non_mg = len(IMIGUE_CLASSES) - 1
    index = non_mg if raw == MIGA_NON_MG_RAW_LABEL else raw - 1
    if not 0 <= index < len(IMIGUE_CLASSES):
        raise ValueError(f'raw MiGA label {raw} is out of range '
                         f'(expected 1-{len(IMIGUE_CLASSES) - 1} or '
                         f'{MIGA_NON_MG_RAW_LABEL})')
    return index


def index_to_miga_label(index: int) -> int:
    """Inverse of :func:`miga_label_to_index` (used when writing toy data)."""
    if not 0 <= index < len(IMIGUE_CLASSES):
        raise ValueError(f'class index {index} is out of range')
    non_mg = len(IMIGUE_CLASSES) - 1
    return MIGA_NON_MG_RAW_LABEL if index == non_mg else index + 1


# MA-52 (Micro-Action-52): 52 action-level classes grouped into 7 body-level
# classes by contiguous, inclusive action-label ranges; the number of action
# classes follows from the last range. The seed papers list no class names,
# so both lists are index placeholders (``action_00``, ``body_0``).
MA52_BODY_RANGES = ((0, 4), (5, 10), (11, 23), (24, 31), (32, 37), (38, 47),
                    (48, 51))
MA52_ACTION_CLASSES = tuple(f'action_{i:02d}'
                            for i in range(MA52_BODY_RANGES[-1][1] + 1))
MA52_BODY_CLASSES = tuple(f'body_{i}' for i in range(len(MA52_BODY_RANGES)))


def _action_to_body_table() -> tuple:
    """Body-level label of every action label; the ranges must tile
    ``0..51`` in order."""
    table, expected_first = [], 0
    for body, (first, last) in enumerate(MA52_BODY_RANGES):
        if first != expected_first or last < first:
            raise ValueError(f'MA52_BODY_RANGES do not tile the action '
                             f'labels at range {body}: {(first, last)}')
        table += [body] * (last - first + 1)
        expected_first = last + 1
    return tuple(table)


# Indexed by action label: the body label (MAC's "coarse" class).
MA52_ACTION_TO_BODY = _action_to_body_table()


def ma52_body_label(action_label: int) -> int:
    """Body-level label (0-6) of an MA-52 action label (0-51); -1 stays -1.

    Raises:
        ValueError: The action label is out of range.
    """
    if action_label == -1:
        return -1
    if not 0 <= action_label < len(MA52_ACTION_TO_BODY):
        raise ValueError(f'MA-52 action label {action_label} is outside '
                         f'[0, {len(MA52_ACTION_TO_BODY)})')
    return MA52_ACTION_TO_BODY[action_label]


# SMG: 16 micro-gestures + 1 non-MG class (illustrative gestures), in
# label-index order; the release's finelabels use 1-based labels 1-17.
# The SMG paper is not among the seed papers: the names follow the class
# list published with SMG co-authors' code (github.com/Leedeng/
# Visual-Text-MG, Sample_data/Clip_label.csv), lower-cased and without its
# one comma; they are consistent with the class pictures of
# github.com/mikecheninoulu/SMG (res/smg.png).
SMG_CLASSES = ('turtling neck and shoulder', 'rubbing eyes and forehead',
               'folding arms', 'touching or covering suprasternal notch',
               'moving legs', 'touching or scratching neck',
               'folding arms behind body', 'rubbing hands and crossing finger',
               'arms akimbo', 'crossing legs', 'scratching some part of body',
               'scratching or touching facial parts other than eyes',
               'playing or adjusting hair', 'holding arms',
               'pulling shirt collar',
               'playing with jewelry and manipulating other objects',
               'illustrative hand gestures')


def smg_label_to_index(raw: int) -> int:
    """Map a raw SMG finelabels class (1-based) to the 0-based index."""
    if not 1 <= raw <= len(SMG_CLASSES):
        raise ValueError(f'raw SMG label {raw} is out of range (expected '
                         f'1-{len(SMG_CLASSES)})')
    return raw - 1


# Names configs use for ``classes=`` (``classes='smg'``).
CLASS_LISTS = {
    'imigue': IMIGUE_CLASSES,
    'smg': SMG_CLASSES,
    'ma52': MA52_ACTION_CLASSES,
    'ma52_body': MA52_BODY_CLASSES,
}


def get_classes(classes):
    """Class names from a dataset name in :data:`CLASS_LISTS` or a list."""
    if isinstance(classes, str):
        if classes not in CLASS_LISTS:
            raise KeyError(f'unknown class list {classes!r}; known: '
                           f'{sorted(CLASS_LISTS)}')
        return CLASS_LISTS[classes]
    return tuple(classes)
