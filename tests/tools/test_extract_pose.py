"""tools/extract_pose.py on real encoded videos with tiny ONNX models:
outputs, resume, shards, a corrupt video, strict mode, packing."""
import importlib.util
import json
import os
import os.path as osp
import pickle
import re

import numpy as np
import pytest

from mmmg.pose_extraction.convert import load_pose_file
from tests.cli_helpers import WITHOUT_TORCH, assert_known_error, run_cli
from tests.conftest import REPO, run_tool
from tests.data_prep.synthetic_video import write_corrupt_video
from tests.pose_extraction.tiny_onnx import (blob_path, export_detector,
                                             export_pose_model,
                                             write_blob_video)

TOOL = osp.join(REPO, 'tools', 'extract_pose.py')
SLURM = osp.join(REPO, 'tools', 'extract_pose_slurm.sh')
# Stands in for sbatch: records its arguments, then runs the --wrap command
# once per array task with the variables SLURM sets.
FAKE_SBATCH = r'''#!/usr/bin/env bash
printf '%s\n' "$@" > "$SBATCH_RECORD"
while [ $# -gt 0 ]; do
    case "$1" in
        --array=*) array=${1#--array=} ;;
        --wrap) wrap=$2; shift ;;
    esac
    shift
done
range=${array%%\%*}; first=${range%-*}; last=${range#*-}
for ((i = first; i <= last; i++)); do
    SLURM_ARRAY_TASK_ID=$i SLURM_ARRAY_TASK_MIN=$first \
        SLURM_ARRAY_TASK_COUNT=$((last - first + 1)) bash -c "$wrap" || exit 1
done
'''
GAPS = (4, 5)
VIDEOS = {'a/0001.mp4': 24, 'a/0002.mp4': 16, 'b/0003.mp4': 20}


def load_tool():
    spec = importlib.util.spec_from_file_location('extract_pose_tool', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def tool():
    return load_tool()


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp('extract_pose')
    videos = root / 'videos'
    centers = {}
    for i, (rel, frames) in enumerate(VIDEOS.items()):
        centers[rel] = blob_path(frames, start=(50 + 10 * i, 50), gaps=GAPS)
        write_blob_video(videos / rel, centers[rel])
    models = (export_pose_model(root / 'pose.onnx'),
              export_detector(root / 'det.onnx'))
    return str(root), str(videos), models, centers


def extract_args(videos, out, models, *extra):
    pose, det = models
    return [
        'extract', '--input-dir', videos, '--out', out, '--pose-model', pose,
        '--det-model', det, '--det-preset', 'yolox', '--workers', '0',
        '--batch-size', '4', '--chunk-size', '8', '--no-progress', *extra
    ]


def test_extract_resume_and_pack(tool, setup, tmp_path, capsys):
    _, videos, models, centers = setup
    out = str(tmp_path / 'pose')
    report = tool.main(extract_args(videos, out, models))
    assert len(report.done) == 3 and report.frames == sum(VIDEOS.values())
    printed = capsys.readouterr().out
    assert 'shard 0/1 (single process): 3 of 3 videos' in printed
    assert 'frames/s' in printed
    for rel, frames in VIDEOS.items():
        record = load_pose_file(osp.join(out, rel[:-4] + '.npz'))
        found = np.array([c is not None for c in centers[rel]])
        np.testing.assert_array_equal(record['person_found'], found)
        assert record['keypoint'].shape == (frames, 133, 2)
        np.testing.assert_allclose(
            record['keypoint'][found, 0],
            np.array([c for c in centers[rel] if c is not None]),
            atol=1.5)
        assert (record['keypoint_score'][~found] == 0).all()
    # Resume: nothing is redone; --overwrite redoes everything.
    again = tool.main(extract_args(videos, out, models))
    assert (len(again.done), len(again.skipped)) == (0, 3)
    redo = tool.main(extract_args(videos, out, models, '--overwrite'))
    assert len(redo.done) == 3

    # Pack clips of a segment list in the 36-point layout.
    segments = tmp_path / 'rgb_val.txt'
    segments.write_text('0001_0 a/0001.mp4 2 9 5\n0003_0 b/0003.mp4 0 19 31\n')
    ann = str(tmp_path / 'ann' / 'pose_mg36.pkl')
    data, skipped = tool.main([
        'pack', '--pose-dir', out, '--layout', 'mg36', '--lists',
        f'val={segments}', '--out', ann
    ])
    with open(ann, 'rb') as f:
        written = pickle.load(f)
    assert written['split'] == {'val': ['0001_0', '0003_0']}
    clip = written['annotations'][0]
    assert (clip['label'], clip['total_frames']) == (5, 8)
    assert clip['keypoint'].shape == (1, 8, 36, 2)
    assert clip['img_shape'] == (120, 160)
    # Frames 4 and 5 had nobody: zero scores in the clip (frames 2-9).
    assert (clip['keypoint_score'][0, 2:4] == 0).all()
    assert (clip['keypoint_score'][0, [0, 1, 4, 5, 6, 7]] > 0).all()
    # Whole videos, one sample each.
    tool.main(['pack', '--pose-dir', out, '--out', ann])
    with open(ann, 'rb') as f:
        assert pickle.load(f)['split'] == {
            'all': ['a/0001', 'a/0002', 'b/0003']
        }


def test_shards_cover_the_videos_disjointly(tool, setup, tmp_path,
                                            monkeypatch):
    _, videos, models, _ = setup
    out = str(tmp_path / 'pose')
    first = tool.main(extract_args(videos, out, models, '--shard', '0/2'))
    # The second shard comes from torchrun's variables.
    monkeypatch.setenv('RANK', '1')
    monkeypatch.setenv('WORLD_SIZE', '2')
    second = tool.main(extract_args(videos, out, models))
    done = [{osp.relpath(j.src, videos)
             for j in r.done} for r in (first, second)]
    assert done[0] & done[1] == set()
    assert done[0] | done[1] == set(VIDEOS)


def test_a_corrupt_video_is_logged_and_skipped_or_stops_strict(
        tool, setup, tmp_path, capsys, monkeypatch):
    _, videos, models, _ = setup
    folder = tmp_path / 'videos'
    os.makedirs(folder)
    os.symlink(osp.join(videos, 'a', '0001.mp4'), folder / 'good.mp4')
    bad = write_corrupt_video(str(folder / 'bad.mp4'))
    out = str(tmp_path / 'pose')
    report = tool.main(
        extract_args(str(folder), out, models, '--shard', '0/1'))
    assert [j.src for j in report.done] == [str(folder / 'good.mp4')]
    with open(osp.join(out, 'failures.jsonl')) as f:
        failure, = map(json.loads, f)
    assert failure['video'] == bad and bad in failure['error']
    assert not osp.exists(osp.join(out, 'bad.npz'))
    strict = run_cli(
        TOOL,
        extract_args(
            str(folder), str(tmp_path / 'strict'), models, '--strict'), capsys,
        monkeypatch)
    assert strict.returncode == 2
    assert re.search('error: .*bad.mp4', strict.stderr)


def test_bad_models_and_options_are_reported(tool, setup, tmp_path, capsys,
                                             monkeypatch):
    _, videos, (pose, det), _ = setup
    out = str(tmp_path / 'pose')
    for models, message in [((str(tmp_path / 'none.onnx'), det),
                             'none.onnx does not exist'),
                            ((det, det), 'det.onnx: expected two outputs')]:
        assert_known_error(
            run_cli(TOOL, extract_args(videos, out, models), capsys,
                    monkeypatch), TOOL, message)
    assert not osp.exists(out)
    # Pose files that are not there, an output below a file.
    (tmp_path / 'file').write_text('')
    ann = tmp_path / 'ann.pkl'
    for pose_dir, out_file, message in [(tmp_path / 'nope', ann, 'nope'),
                                        (videos, tmp_path / 'file' / 'x.pkl',
                                         'is a file')]:
        argv = ['pack', '--pose-dir', pose_dir, '--out', out_file]
        assert_known_error(
            run_cli(TOOL, argv, capsys, monkeypatch), TOOL, message)
    assert not ann.exists()
    for extra, message in [(['--shard', '2/2'], 'is not "i/n"'),
                           (['--batch-size', '0'], '--batch-size'),
                           (['--decode-scale', '0'], '--decode-scale'),
                           (['--decode-scale', 'half'], "or 'auto'")]:
        with pytest.raises(SystemExit):
            tool.main(extract_args(videos, out, (pose, det), *extra))
        assert message in capsys.readouterr().err


def test_command_line_with_a_worker_process(setup, tmp_path):
    """The real command: a video list, one spawned worker, progress bars,
    frames decoded at half size; torch and MMEngine unimportable, so no
    worker pays their start-up."""
    _, videos, (pose, _), centers = setup
    listing = tmp_path / 'videos.txt'
    listing.write_text('a/0002.mp4\n')
    out = str(tmp_path / 'pose')
    proc = run_tool([
        '-c', WITHOUT_TORCH, TOOL, 'extract', '--list',
        str(listing), '--root', videos, '--out', out, '--pose-model', pose,
        '--format', 'pkl', '--decode-scale', '0.5'
    ])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert '1 written (16 frames' in proc.stdout
    assert 'frame/s' in proc.stderr  # the tqdm frame bar's rate
    record = load_pose_file(osp.join(out, 'a', '0002.pkl'))
    assert record['detector'] == 'whole_frame'
    assert record['keypoint'].shape == (16, 133, 2)
    # In full-frame pixels, on the blob where there is one.
    found = np.array([c is not None for c in centers['a/0002.mp4']])
    np.testing.assert_allclose(
        record['keypoint'][found, 0],
        [c for c in centers['a/0002.mp4'] if c is not None],
        atol=2.5)


def test_slurm_array_tasks_take_one_shard_each(setup, tmp_path):
    _, videos, (pose, _), _ = setup
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir()
    (bin_dir / 'sbatch').write_text(FAKE_SBATCH)
    (bin_dir / 'sbatch').chmod(0o755)
    record = tmp_path / 'sbatch_args.txt'
    out = str(tmp_path / 'pose out')  # a space: the command is quoted
    env = {
        'PATH': f'{bin_dir}{os.pathsep}{os.environ["PATH"]}',
        'SBATCH_RECORD': str(record),
        'GPUS_PER_TASK': '0',
        'MAX_RUNNING': '1'
    }
    proc = run_tool([
        'bash', SLURM, 'cpu', 'pose', '2', '--input-dir', videos, '--out', out,
        '--pose-model', pose, '--workers', '0', '--no-progress'
    ],
                    env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    args = record.read_text().splitlines()
    assert '--array=0-1%1' in args and '--job-name=pose' in args
    assert not any(a.startswith('--gres') for a in args)
    assert 'shard 0/2 (slurm array): 2 of 3 videos' in proc.stdout
    assert 'shard 1/2 (slurm array): 1 of 3 videos' in proc.stdout
    assert sorted(
        osp.relpath(osp.join(d, f), out) for d, _, files in os.walk(out)
        for f in files
        if f.endswith('.npz')) == ['a/0001.npz', 'a/0002.npz', 'b/0003.npz']
