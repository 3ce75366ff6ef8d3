"""bench_skeleton_input.py and bench_heatmaps.py run end to end on a few
samples (no timings checked): the stock pipeline is MMAction2's, step for
step, and every path reaches a model-ready batch."""
import os.path as osp
import sys

import numpy as np
import pytest

from ..conftest import REPO

sys.path.insert(0, osp.join(REPO, 'benchmarks'))
import bench_heatmaps  # noqa: E402
import bench_skeleton_input as bench  # noqa: E402


def test_stock_pipeline_is_mmaction_s_own():
    from mmmg.utils.config import read_config
    ours = read_config(osp.join(REPO, bench.CONFIG.format('limb')))
    stock = bench.stock_pipeline(ours.train_pipeline, limb=True)
    assert [s['type'] for s in stock] == [
        'MGPoseCompact' if n == 'PoseCompact' else n for n in bench.STOCK_STEPS
    ]
    maps = stock[bench.STOCK_STEPS.index('GeneratePoseTarget')]
    assert maps['with_limb'] and not maps['with_kp']
    # Sizes and arguments come from the config unchanged.
    assert stock[:7] == ours.train_pipeline[:7]
    with pytest.raises(AssertionError, match='are not'):
        bench.stock_pipeline(ours.train_pipeline[1:], limb=True)


def test_clip_lengths_are_imigue_like():
    lengths = bench.clip_lengths(np.random.default_rng(0), 4000)
    assert lengths.min() >= 5
    assert abs(lengths.mean() / bench.FPS - 2.55) < 0.15


def test_input_bench_runs(monkeypatch, capsys):
    monkeypatch.chdir(REPO)
    bench.main(['--samples', '2', '--rounds', '1'])
    out = capsys.readouterr().out
    for stream in ('joint', 'limb'):
        assert f'\n{stream}: ms per sample' in out
    assert out.count('GeneratePoseTarget') == 2
    assert out.count('hand-off') == 4
    # The stock column against itself.
    assert out.count('1.00x') == 8


def test_heatmap_bench_runs(capsys):
    bench_heatmaps.main(['--repeats', '1'])
    out = capsys.readouterr().out
    rows = [line.split() for line in out.splitlines()]
    rows = {(r[0], r[1]): r for r in rows if r[:1] in (['joints'], ['limbs'])}
    assert set(rows) == {(m, d)
                         for m in ('joints', 'limbs')
                         for d in ('float32', 'uint8')}
    # max|diff| after the cast back: float rounding, or uint8 quantisation.
    assert float(rows['joints', 'float32'][-2]) < 1e-5
    # (Printed to 2 digits: 1/510 reads 2.0e-03.)
    assert 1e-3 < float(rows['joints', 'uint8'][-2]) <= 2.0e-3
