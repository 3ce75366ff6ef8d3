"""The official iMiGUE / MiGA ``<vid>_label.csv`` layout as segments.

One row per segment, no header: ``raw_class,start,end`` with 0-based frames
and ``end`` inclusive (the release's layout, read by
:mod:`mmmg.data_prep.label_table` for every reader). Raw classes map to
class names with :func:`mmmg.classes.miga_label_to_index` (raw 99 is the
non-MG class ``'illustrative'``). :class:`~mmmg.spotting.segments.Segment`
ends are exclusive, so ``end`` on disk is ``Segment.end - 1``.
"""
import csv
from typing import Dict, List, Mapping, Optional, Sequence

from mmmg.classes import (IMIGUE_CLASSES, MIGA_NON_MG_RAW_LABEL,
                          index_to_miga_label, miga_label_to_index)
from mmmg.data_prep.label_table import LabelTableError, read_label_rows
from mmmg.utils.io import atomic_open
from .segments import Segment

MIGA_CLASS_TO_RAW: Dict[str, int] = {
    name: index_to_miga_label(i)
    for i, name in enumerate(IMIGUE_CLASSES)
}
MIGA_RAW_TO_CLASS: Dict[int, str] = {
    raw: IMIGUE_CLASSES[miga_label_to_index(raw)]
    for raw in MIGA_CLASS_TO_RAW.values()
}
# The non-MG class: never spotted, left out of the evaluation by default.
MIGA_NON_MG_CLASS = MIGA_RAW_TO_CLASS[MIGA_NON_MG_RAW_LABEL]


def read_label_csv(path: str,
                   raw_to_class: Optional[Mapping[int, str]] = None
                   ) -> List[Segment]:
    """Segments of a label table, in file order, each with score 1.

    Args:
        path (str): A ``_label.csv`` (or a prediction in its layout).
        raw_to_class (Mapping[int, str] | None): Raw class -> name; default
            :data:`MIGA_RAW_TO_CLASS`.

    Raises:
        LabelTableError: A row that is not three integers or has a bad
            frame range (naming the file and line), or a raw class the
            mapping lacks (naming the 0-based row, as the converter does).
    """
    mapping = MIGA_RAW_TO_CLASS if raw_to_class is None else raw_to_class
    segments = []
    for line_no, (raw, start, end) in enumerate(read_label_rows(path)):
        if raw not in mapping:
            raise LabelTableError(
                path, f'row {line_no}: unknown raw class {raw} '
                f'(known: {min(mapping)}-{max(mapping)})')
        segments.append(Segment(mapping[raw], start, end + 1))
    return segments


def write_label_csv(path: str,
                    segments: Sequence[Segment],
                    class_to_raw: Optional[Mapping[str, int]] = None) -> None:
    """Write segments in the label-table layout, sorted by start, through
    a temporary file (an empty list gives an empty file).

    Args:
        path (str): Output ``.csv``.
        segments (Sequence[Segment]): Segments (end exclusive).
        class_to_raw (Mapping[str, int] | None): Class name -> raw class;
            default :data:`MIGA_CLASS_TO_RAW`.
    """
    mapping = MIGA_CLASS_TO_RAW if class_to_raw is None else class_to_raw
    unknown = sorted({s.label for s in segments} - set(mapping))
    if unknown:
        raise ValueError(f'{path}: no raw class for label(s) {unknown}')
    rows = sorted(segments, key=lambda s: (s.start, s.end, s.label))
    with atomic_open(path, 'w') as f:
        writer = csv.writer(f, lineterminator='\n')
        for seg in rows:
            writer.writerow([mapping[seg.label], seg.start, seg.end - 1])
