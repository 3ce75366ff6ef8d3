"""File writing that never leaves a half-written output behind."""
import os
import os.path as osp
from contextlib import contextmanager


@contextmanager
def atomic_open(path: str, mode: str = 'wb'):
    """Open ``path`` for writing; it appears only once fully written.

    The data goes to a temporary file next to ``path`` that is renamed over
    it on success and removed on failure, so a crash or a kill never leaves
    a truncated output that a resumed job would take for a finished one.
    """
    tmp = f'{path}.tmp{os.getpid()}'
    try:
        with open(tmp, mode) as f:
            yield f
        os.replace(tmp, path)
    finally:
        if osp.exists(tmp):
            os.remove(tmp)
