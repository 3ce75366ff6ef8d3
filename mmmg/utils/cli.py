"""One error convention for the command-line tools (see docs/errors.md).

A known error -- bad input the user can fix: a missing or unreadable file,
an option that does not fit, an unwritable output path -- ends the tool with
exit status 2 and one line on stderr::

    <tool>: error: <what, naming the file/sample/option> ... <the fix>

``--debug`` shows the full traceback instead. Anything else is a bug and
keeps its traceback. A tool opts in with two lines::

    from mmmg.utils.cli import add_debug_arg, cli_main

    ...
    add_debug_arg(parser)
    ...
    if __name__ == '__main__':
        cli_main(main)

This module needs the standard library only.
"""
import os
import os.path as osp
import re
import sys
import tempfile
import traceback
import warnings
from typing import Callable, Optional, Sequence

EXIT_KNOWN_ERROR = 2
# Added by mmengine's registry to errors raised while building an object.
_REGISTRY_PREFIX = re.compile(r'^class `\w+` in [\w/.]+\.py: ')
# Added by torch's DataLoader to errors raised in a worker process.
_WORKER_TRACEBACK = 'Original Traceback'


class ToolError(Exception):
    """A known error: the tool prints its message as one line and exits
    with status 2."""


class DataFileError(ToolError, ValueError):
    """A bad annotation file, list or sample (still a ``ValueError`` for
    library callers)."""


def quiet_mmcv_lite() -> None:
    """Silence MMCV-lite's ``MultiScaleDeformableAttention`` warning.

    MMCV-lite has no compiled ops, so ``mmcv.cnn.bricks.transformer`` warns
    at import that this one op is unavailable; no mmmg model uses it, so
    the warning is expected. Only that message is filtered; call this
    before mmcv is imported. So is setuptools' deprecation of
    ``pkg_resources``, which mmengine imports: nothing the user can change,
    and it would break a tool's one-line error.
    """
    warnings.filterwarnings(
        'ignore',
        message='Fail to import ``MultiScaleDeformableAttention``',
        category=UserWarning)
    warnings.filterwarnings(
        'ignore',
        message='pkg_resources is deprecated as an API',
        category=UserWarning)


def add_debug_arg(parser) -> None:
    parser.add_argument(
        '--debug',
        action='store_true',
        help='show the full traceback of a known error instead of one line')


def error_line(error: BaseException) -> str:
    """The one-line message of a known error."""
    message = str(error)
    if isinstance(error, OSError) and error.filename and error.strerror:
        message = f'{error.filename}: {error.strerror}'
    if _WORKER_TRACEBACK in message:
        # Keep the worker's own message: the last line, minus its type.
        last = message.strip().splitlines()[-1]
        message = last.split(': ', 1)[-1]
    message = _REGISTRY_PREFIX.sub('', message.strip())
    return ' '.join(message.split())


def cli_main(main: Callable[[Optional[Sequence[str]]], object],
             argv: Optional[Sequence[str]] = None) -> None:
    """Run a tool's ``main(argv)`` under the error convention."""
    argv = list(sys.argv[1:] if argv is None else argv)
    prog = osp.basename(sys.argv[0])
    try:
        main(argv)
    except (ToolError, FileNotFoundError, PermissionError, IsADirectoryError,
            NotADirectoryError) as error:
        if '--debug' in argv:
            traceback.print_exc()
        print(f'{prog}: error: {error_line(error)}', file=sys.stderr)
        sys.exit(EXIT_KNOWN_ERROR)


def _existing_ancestor(path: str) -> str:
    path = osp.abspath(path)
    while not osp.exists(path):
        path = osp.dirname(path)
    return path


def _writable(folder: str) -> bool:
    # A real probe: os.access says yes to root on a read-only file system.
    try:
        with tempfile.TemporaryFile(dir=folder):
            return True
    except OSError:
        return False


def _check_can_create(path: str, option: str) -> None:
    """Can ``path`` (or the folders up to it) be written?"""
    base = _existing_ancestor(path)
    if not osp.isdir(base):
        raise ToolError(f'{option} {path!r}: {base!r} is a file, so nothing '
                        'can be made below it; pass another path')
    if not _writable(base):
        raise ToolError(f'{option} {path!r}: {base!r} is not writable; pass '
                        'a path you can write to')


def check_output_dir(path: str, option: str) -> None:
    """Fail now, not after hours of work, when ``path`` cannot become a
    writable folder. Nothing is left behind."""
    if osp.exists(path) and not osp.isdir(path):
        raise ToolError(f'{option} {path!r} is a file, not a folder; pass a '
                        'folder path')
    _check_can_create(path, option)


def check_output_file(path: str, option: str) -> None:
    """Fail now when ``path`` cannot be written as a file later. Nothing is
    left behind."""
    if osp.isdir(path):
        raise ToolError(f'{option} {path!r} is a folder; pass a file path')
    if osp.exists(path) and not os.access(path, os.W_OK):
        raise ToolError(f'{option} {path!r} exists and is not writable; '
                        'pass another path')
    # An existing file is replaced through a temporary file beside it.
    _check_can_create(
        osp.dirname(osp.abspath(path)) if osp.exists(path) else path, option)
