"""Read the MiGA release's ``<vid>_light_hand.csv`` skeletons.

Some challenge years ship, beside (or instead of) the OpenPose workbook, a
light CSV per long video: one row per frame, an index column, then 35
points -- OpenPose body-25 and the five fingertips of each hand (left hand
first, as in OpenPose-137) -- each as ``x, y, confidence`` (or ``x, y``
without confidences, then a point seen at non-zero coordinates gets
confidence 1). Whether a header row comes first differs between copies, so
a first row that is not numeric is taken as one. A missing point is
``0, 0, 0``.

:func:`read_light_hand_csv` places the points at their OpenPose-137
positions (fingertips are hand points 4, 8, 12, 16 and 20), leaving the face
and the other hand points missing, so every layout converts from it as from
the workbook.
"""
import csv
from typing import Tuple

import numpy as np

from .release_jobs import ReleaseFormatError

BODY_POINTS = 25
# OpenPose-137 offsets of the hands and the fingertips within a hand-21.
LEFT_HAND, RIGHT_HAND = 95, 116
FINGERTIPS = (4, 8, 12, 16, 20)
LIGHT_HAND_POINTS = tuple(range(BODY_POINTS)) + tuple(
    hand + tip for hand in (LEFT_HAND, RIGHT_HAND) for tip in FINGERTIPS)
OPENPOSE_POINTS = 137


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def read_light_hand_csv(path: str, vid: str) -> Tuple[np.ndarray, int]:
    """Read a light-hand CSV into OpenPose-137 order.

    Args:
        path (str): ``<vid>_light_hand.csv``.
        vid (str): Video id, for error messages.

    Returns:
        tuple: float32 ``[T, 137, 3]`` (x, y, confidence; points the file
        does not hold are 0) and the number of points made missing for an
        empty or non-finite value.

    Raises:
        ReleaseFormatError: A row with the wrong number of fields, a
            non-numeric value, or no frame at all.
    """
    n = len(LIGHT_HAND_POINTS)
    widths = {1 + 3 * n: 3, 1 + 2 * n: 2}
    rows, channels = [], None
    with open(path, newline='', encoding='utf-8-sig') as f:
        for line_no, fields in enumerate(csv.reader(f), 1):
            fields = [x.strip() for x in fields]
            if not any(fields):
                continue
            if line_no == 1 and not all(map(_is_number, filter(None, fields))):
                continue  # a header row
            if channels is None:
                if len(fields) not in widths:
                    raise ReleaseFormatError(
                        vid, path, f'line {line_no}: {len(fields)} fields; a '
                        f'light-hand row has an index and {n} points of '
                        f'x,y,confidence ({1 + 3 * n} fields) or x,y '
                        f'({1 + 2 * n})')
                channels = widths[len(fields)]
            elif len(fields) != 1 + channels * n:
                raise ReleaseFormatError(
                    vid, path, f'line {line_no}: {len(fields)} fields, the '
                    f'rows above have {1 + channels * n}')
            try:
                rows.append([float(x) if x else np.nan for x in fields[1:]])
            except ValueError as e:
                raise ReleaseFormatError(vid, path,
                                         f'line {line_no}: {e}') from e
    if not rows:
        raise ReleaseFormatError(vid, path, 'the light-hand CSV has no rows')
    values = np.asarray(rows, dtype=np.float64).reshape(len(rows), n, channels)
    if channels == 2:
        seen = (values != 0).any(-1)
        values = np.concatenate([values, seen[..., None]], axis=-1)
    invalid = ~np.isfinite(values).all(-1)
    values[invalid] = 0
    out = np.zeros((len(rows), OPENPOSE_POINTS, 3), np.float32)
    out[:, LIGHT_HAND_POINTS] = values
    return out, int(invalid.sum())
