"""Importing mmmg registers its modules into MMAction2's registries."""
import subprocess
import sys

from mmaction.registry import DATASETS, METRICS, MODELS, RUNNERS, TRANSFORMS


def test_registration():
    import mmmg  # noqa: F401
    assert RUNNERS.get('MGRunner') is not None
    assert DATASETS.get('MGPoseDataset') is not None
    for name in ('MGPoseCompact', 'PackMGInputs', 'GeneratePoseHeatmaps'):
        assert TRANSFORMS.get(name) is not None, name
    assert METRICS.get('DumpMGScores') is not None
    assert MODELS.get('HeatmapDataPreprocessor') is not None


def test_import_has_no_side_effects(tmp_path):
    # No files written, no distributed state, no stdout chatter.
    code = ('import os, torch.distributed as d; import mmmg; '
            'assert not d.is_initialized(); print(sorted(os.listdir(".")))')
    out = subprocess.run([sys.executable, '-c', code],
                         cwd=tmp_path,
                         capture_output=True,
                         text=True,
                         check=True)
    assert out.stdout.strip() == '[]'
