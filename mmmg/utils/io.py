"""File writing that never leaves a half-written output behind."""
import os
import os.path as osp
from contextlib import contextmanager
from typing import Iterator


def partial_path(path: str, tag: str = '') -> str:
    """The hidden file ``path`` is written to before it is renamed.

    It keeps the extension last (OpenCV picks the container from it). With
    no ``tag`` it is fixed per output, for jobs with one writer per output:
    an interrupted run leaves at most one partial file, replaced by the
    next.
    """
    folder, name = osp.split(path)
    stem, ext = osp.splitext(name)
    return osp.join(folder, f'.{stem}.partial{tag}{ext}')


@contextmanager
def atomic_path(path: str, tag: str = '') -> Iterator[str]:
    """Give a temporary path to write ``path`` through; the file appears at
    ``path`` only once the block finishes without error.

    The partial file (:func:`partial_path` with ``tag``) is renamed over
    ``path`` on success and removed on failure, so a crash or a kill never
    leaves a truncated output that a resumed job would take for a finished
    one. The output gets the user's normal permissions (``0o666`` less the
    umask); the folder must exist.

    Raises:
        FileNotFoundError: The block wrote nothing to the partial path.
    """
    tmp = partial_path(path, tag)
    try:
        yield tmp
        if not osp.isfile(tmp):
            raise FileNotFoundError(f'nothing was written for {path}')
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    finally:
        if osp.exists(tmp):
            os.remove(tmp)


@contextmanager
def atomic_open(path: str, mode: str = 'wb'):
    """Open ``path`` for writing; it appears only once fully written (see
    :func:`atomic_path`). The partial file is tagged with the process id, as
    processes may write the same file."""
    with atomic_path(path, str(os.getpid())) as tmp:
        with open(tmp, mode) as f:
            yield f


def _umask() -> int:
    """The process umask; read from /proc where possible, as setting it to
    read it races with threads creating files."""
    try:
        with open('/proc/self/status') as f:
            for line in f:
                if line.startswith('Umask:'):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
