"""The releases' label table: one segment per row, ``class,start,end``.

iMiGUE / MiGA ``<vid>_label.csv``, SMG ``<sample>_finelabels.csv`` and the
spotting predictions written in their layout share it: no header, three
integers per row, frames 0-based (SMG's may be 1-based: its reader says)
with ``end`` inclusive. Spreadsheet exports start with a BOM, pad rows with
empty cells, leave blank lines and may write ``12`` as ``12.0``; all of
that is accepted here, once, for every reader.
"""
import csv
from typing import List, Optional, Tuple

from mmmg.utils.cli import DataFileError

Row = Tuple[Optional[int], int, int]


class LabelTableError(DataFileError):
    """A malformed label table.

    Args:
        path (str): The table.
        problem (str): What is wrong, starting with ``line N:`` where a row
            is at fault.
    """

    def __init__(self, path: str, problem: str) -> None:
        # Keep both in ``args`` so the error pickles across processes.
        super().__init__(path, problem)
        self.path, self.problem = path, problem

    def __str__(self) -> str:
        return f'{self.path}: {self.problem}'


def parse_int(text: str) -> Optional[int]:
    """Integer value of a cell (``12.0`` included), None if not one."""
    try:
        value = float(text)
    except ValueError:
        return None
    return int(value) if value.is_integer() else None


def read_label_rows(path: str, hidden_class: bool = False) -> List[Row]:
    """Rows of a label table, in file order.

    Args:
        path (str): The table.
        hidden_class (bool): Accept any class field (hidden test labels);
            the class of such a row is None.

    Returns:
        list[tuple]: ``(raw_class, start, end)`` per row; an empty table
        gives an empty list (callers that need rows say so).

    Raises:
        LabelTableError: A row that is not three integers or whose frames
            are not ``0 <= start <= end``, naming the file and line.
    """
    rows = []
    with open(path, newline='', encoding='utf-8-sig') as f:
        for line_no, fields in enumerate(csv.reader(f), 1):
            fields = [x.strip() for x in fields]
            while fields and not fields[-1]:
                fields.pop()
            if not fields:
                continue
            text = ','.join(fields)
            if len(fields) != 3:
                raise LabelTableError(
                    path, f'line {line_no}: expected 3 fields class,start,'
                    f'end, got {len(fields)}: {text!r}')
            raw, start, end = (parse_int(x) for x in fields)
            if start is None or end is None or (raw is None
                                                and not hidden_class):
                raise LabelTableError(
                    path, f'line {line_no}: non-integer field in {text!r}')
            if not 0 <= start <= end:
                raise LabelTableError(
                    path, f'line {line_no}: bad segment start={start} '
                    f'end={end} (need 0 <= start <= end, end inclusive)')
            rows.append((None if hidden_class else raw, start, end))
    return rows
