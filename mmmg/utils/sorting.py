"""Sort keys for sample ids and file names."""
from typing import List


def natural_key(sample_id: str) -> List:
    """Sort '0054_2' before '0054_10' (video ascending, clip numeric).

    The id is split at ``_`` and ``-``; numeric parts compare as numbers
    and sort before text parts.
    """
    parts = sample_id.replace('-', '_').split('_')
    return [(0, int(p), '') if p.isdigit() else (1, 0, p) for p in parts]
