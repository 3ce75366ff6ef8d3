"""Run a tool under the error convention of ``mmmg/utils/cli.py`` in this
interpreter: bad inputs are refused before any heavy work, so this checks
them without a subprocess start-up."""
import os.path as osp
import runpy
from types import SimpleNamespace

import pytest

from mmmg.utils.cli import EXIT_KNOWN_ERROR, cli_main
from tests.conftest import REPO

# Runs a tool with torch, MMEngine, MMAction2 and MMCV unimportable.
WITHOUT_TORCH = '''
import runpy, sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in ('torch', 'mmengine', 'mmaction', 'mmcv'):
            raise ImportError(f'{name} is blocked in this test')
sys.meta_path.insert(0, Block())
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name='__main__')
'''


def run_cli(tool: str, argv, capsys, monkeypatch) -> SimpleNamespace:
    """``tool`` (a path below the repository) with ``argv``, as its
    ``__main__`` would run it; returns its exit status, stdout and
    stderr."""
    path = osp.join(REPO, tool)
    monkeypatch.setattr('sys.argv', [path])
    # As `python data_prep/<tool>.py` does, for its `import toy`.
    monkeypatch.syspath_prepend(osp.dirname(path))
    main = runpy.run_path(path, run_name='tool_under_test')['main']
    capsys.readouterr()
    with pytest.raises(SystemExit) as info:
        cli_main(main, [str(a) for a in argv])
    out = capsys.readouterr()
    return SimpleNamespace(
        returncode=info.value.code, stdout=out.out, stderr=out.err)


def assert_known_error(result, tool: str, *names: str) -> str:
    """Exit status 2 and one stderr line ``<tool>: error: ...`` naming
    every one of ``names``; returns the line."""
    lines = result.stderr.strip().splitlines()
    assert result.returncode == EXIT_KNOWN_ERROR, result.stderr
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f'{osp.basename(tool)}: error: '), lines[0]
    for name in names:
        assert str(name) in lines[0], lines[0]
    return lines[0]
