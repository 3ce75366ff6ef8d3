import pickle

import numpy as np
import pytest

from data_prep.toy.outcomes import toy_outcomes, write_outcomes
from mmmg.emotion.bags import read_video_labels
from tests.cli_helpers import assert_known_error, run_cli
from tests.conftest import run_tool


def write_ann(path, labels_by_video):
    anns = [
        dict(frame_dir=f'{v}_{i}', label=label, video=v)
        for v, labels in labels_by_video.items()
        for i, label in enumerate(labels)
    ]
    with open(path, 'wb') as f:
        pickle.dump(dict(split={}, annotations=anns), f)


def test_half_lose_and_losers_use_more_low_classes(tmp_path):
    rng = np.random.default_rng(0)
    videos = {
        f'{i:04d}': rng.integers(0, 6, size=8).tolist()
        for i in range(7)
    }
    path = str(tmp_path / 'ann.pkl')
    write_ann(path, videos)
    out = toy_outcomes(path)
    assert sorted(out) == sorted(videos)
    assert sum(v == 0 for v in out.values()) == 7 // 2
    share = {
        v: np.mean([label < 3 for label in labels])
        for v, labels in videos.items()
    }
    worst_winner = max(share[v] for v in out if out[v] == 1)
    best_loser = min(share[v] for v in out if out[v] == 0)
    assert best_loser >= worst_winner
    assert toy_outcomes(path) == out


def test_needs_two_classes(tmp_path):
    path = str(tmp_path / 'ann.pkl')
    write_ann(path, dict(a=[1, 1], b=[1]))
    with pytest.raises(ValueError, match='two classes'):
        toy_outcomes(path)


def test_csv_and_cli(tmp_path):
    path = str(tmp_path / 'ann.pkl')
    write_ann(path, dict(a=[0, 0], b=[1, 1], c=[0, 1], d=[1, 0]))
    csv_path = str(tmp_path / 'out.csv')
    write_outcomes(toy_outcomes(path), csv_path)
    assert read_video_labels(csv_path) == toy_outcomes(path)
    cli_path = tmp_path / 'cli.csv'
    proc = run_tool(
        ['data_prep/make_toy_outcomes.py', path, '--out',
         str(cli_path)])
    assert proc.returncode == 0, proc.stderr
    assert cli_path.read_text() == open(csv_path).read()


def test_cli_refuses_bad_files_in_one_line(tmp_path, capsys, monkeypatch):
    """A garbage or missing annotation, an output below a file (here and
    in make_toy_imigue): exit status 2, one line naming the file, nothing
    written."""
    garbage = tmp_path / 'garbage.pkl'
    garbage.write_bytes(b'garbage')
    ann = str(tmp_path / 'ann.pkl')
    write_ann(ann, dict(a=[0, 0], b=[1, 1]))
    csv_path = tmp_path / 'out.csv'
    tool = 'data_prep/make_toy_outcomes.py'
    for argv, names in [
        ([garbage, '--out', csv_path], [garbage, 'not a readable']),
        ([tmp_path / 'nope.pkl', '--out', csv_path], ['nope.pkl']),
        ([ann, '--out', garbage / 'out.csv'], ['out.csv', 'is a file']),
    ]:
        assert_known_error(
            run_cli(tool, argv, capsys, monkeypatch), tool, *names)
    tool = 'data_prep/make_toy_imigue.py'
    assert_known_error(
        run_cli(tool, ['--out', garbage / 'toy', '--size', 'tiny'], capsys,
                monkeypatch), tool, 'is a file')
    assert sorted(p.name
                  for p in tmp_path.iterdir()) == ['ann.pkl', 'garbage.pkl']
