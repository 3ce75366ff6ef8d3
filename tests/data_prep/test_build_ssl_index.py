"""data_prep/build_ssl_index.py builds the index the dataset then reuses,
and refuses bad input in one line."""
import os.path as osp
import runpy

from mmmg.data_prep.ssl_index import IndexOptions, ensure_ssl_index
from ..cli_helpers import assert_known_error, run_cli
from ..conftest import REPO

TOOL = 'data_prep/build_ssl_index.py'


def test_builds_what_the_dataset_reuses(toy_imigue, tmp_path, capsys):
    release, index = toy_imigue['release'], str(tmp_path / 'idx' / 'toy')
    args = [
        release, '--index', index, '--threshold', '0.2', '--pose-layout',
        'upper_body59', '--workers', '2', '--no-progress'
    ]
    main = runpy.run_path(osp.join(REPO, TOOL), run_name='tool')['main']
    meta = main(args)
    out = capsys.readouterr().out
    assert out.startswith('built ') and '3 videos' in out
    assert meta['options']['pose_layout'] == 'upper_body59'
    main(args)
    assert capsys.readouterr().out.startswith('up to date: ')
    # The dataset's options and default cache: no rebuild.
    _, built = ensure_ssl_index(release, index,
                                IndexOptions(0.2, pose_layout='upper_body59'))
    assert not built


def test_bad_input(tmp_path, capsys, monkeypatch):
    missing = tmp_path / 'nowhere'
    assert_known_error(
        run_cli(TOOL, [missing, '--index', tmp_path / 'i'], capsys,
                monkeypatch), TOOL, str(missing), 'not a folder')
    empty = tmp_path / 'empty'
    empty.mkdir()
    assert_known_error(
        run_cli(TOOL, [empty, '--index', tmp_path / 'i'], capsys, monkeypatch),
        TOOL, 'no labelled MG segment')
    assert sorted(p.name for p in tmp_path.iterdir()) == ['empty']
