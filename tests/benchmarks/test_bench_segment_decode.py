"""bench_segment_decode.py runs end to end on a tiny video (no timings
checked) and reuses its cached videos."""
import os
import os.path as osp
import sys

from ..conftest import REPO

sys.path.insert(0, osp.join(REPO, 'benchmarks'))
import bench_segment_decode  # noqa: E402


def test_bench_runs_and_reuses_its_cache(tmp_path, capsys):
    args = ['--minutes', '0.04', '--samples', '2', '--cache', str(tmp_path)]
    bench_segment_decode.main(args)
    out = capsys.readouterr().out
    assert 'long video: 60 frames' in out
    for path in ('(a) stock', '(b) ours, reader missed', "(b') ours",
                 "(b'') ours", '(c) cut clip'):
        assert path in out
    # (c) against itself: the ratio column is exactly 1.
    clip_row = [line for line in out.splitlines() if '(c) cut' in line][0]
    assert clip_row.split()[-1] == '1.00'
    folder = tmp_path / 'mmmg_bench_segment_60f'
    stamps = {p: p.stat().st_mtime_ns for p in folder.iterdir()}
    assert len(stamps) == 3  # the long video and two clips
    bench_segment_decode.main(args)
    assert {p: p.stat().st_mtime_ns for p in folder.iterdir()} == stamps
    assert not [p for p in os.listdir(folder) if 'part' in p]
