"""SMG release conversion on a tiny synthetic release."""
import importlib.util
import json
import os
import os.path as osp
import pickle

import cv2
import numpy as np
import pytest

from mmmg.data_prep.smg_release import (DEFAULT_SHAPE, SKELETON_FIELDS,
                                        SampleFormatError, convert_smg_release,
                                        discover_smg, read_smg_skeleton)
from mmmg.datasets import SMG_CLASSES
from mmmg.keypoints import get_layout
from mmmg.keypoints.layouts import MissingKeypointsError
from ..cli_helpers import assert_known_error, run_cli
from ..conftest import REPO

CLI = osp.join(REPO, 'data_prep', 'smg_to_mmaction.py')
VIDEO_SIZE = (48, 32)  # (W, H) of the fake mp4s
JOINTS, FIELDS = 25, len(SKELETON_FIELDS)
# sample: (skeleton rows, label rows [raw label 1-17, start, end] 0-based,
# whether it has a colour video).
SAMPLES = {
    'Sample0001': (30, [(1, 0, 9), (17, 10, 19), (5, 22, 29)], True),
    'Sample0031': (20, [(3, 2, 11), (16, 12, 19)], False),
    'Sample0036': (25, [(9, 0, 24)], True),
}
UNTRACKED = (4, 6)  # (frame, joint = WristLeft) written as all zeros
NON_FINITE = (5, 11)  # (frame, joint = HandRight) with colour xy -inf


def make_table(sample, num_frames):
    """``[T, 25, 11]`` with every field telling frame, joint and field."""
    subject = int(sample[6:])
    t = np.arange(num_frames)[:, None, None]
    j = np.arange(JOINTS)[None, :, None]
    f = np.arange(FIELDS)[None, None, :]
    table = (subject * 1000 + t * 10 + j * 0.25 + f * 0.01).astype(float)
    table = np.broadcast_to(table, (num_frames, JOINTS, FIELDS)).copy()
    table[..., 9] = 3 + 1.5 * j[..., 0] + 0.5 * t[..., 0]  # colour x
    table[..., 10] = 2 + 0.5 * j[..., 0] + t[..., 0] / 4  # colour y
    table[UNTRACKED] = 0
    table[NON_FINITE][9:] = -np.inf
    return table


def write_skeleton(path, table, trailing_comma=False):
    end = ',\n' if trailing_comma else '\n'
    with open(path, 'w') as f:
        for row in table.reshape(len(table), -1):
            f.write(','.join(
                repr(float(v)) if np.isfinite(v) else
                ('-Infinity' if v < 0 else 'Infinity') for v in row) + end)


def write_labels(path, rows, base=0):
    with open(path, 'w') as f:
        f.writelines(f'{c},{s + base},{e + base}\n' for c, s, e in rows)


def write_mp4(path, num_frames):
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'mp4v'), 30,
                             VIDEO_SIZE)
    for i in range(num_frames):
        writer.write(np.full(VIDEO_SIZE[::-1] + (3, ), i * 8, np.uint8))
    writer.release()


def make_release(root, label_base=0):
    """Write the synthetic release; returns ``{sample: table}``."""
    tables = {}
    for sample, (frames, rows, has_video) in SAMPLES.items():
        folder = osp.join(root, 'experimentWell', sample)
        os.makedirs(folder)
        tables[sample] = make_table(sample, frames)
        write_skeleton(
            osp.join(folder, f'{sample}_skeleton.csv'),
            tables[sample],
            trailing_comma=sample == 'Sample0031')
        write_labels(
            osp.join(folder, f'{sample}_finelabels.csv'), rows, label_base)
        if has_video:
            write_mp4(osp.join(folder, f'{sample}_color.mp4'), frames)
    return tables


@pytest.fixture
def release(tmp_path):
    root = str(tmp_path / 'smg')
    return root, make_release(root)


def convert(root, out, **kwargs):
    kwargs.setdefault('progress', False)
    summary = convert_smg_release(root, str(out), **kwargs)
    layout = kwargs.get('layout', 'kinect25')
    with open(osp.join(out, f'smg_{layout}.pkl'), 'rb') as f:
        return pickle.load(f), summary


def by_id(data):
    return {a['frame_dir']: a for a in data['annotations']}


def expected_clip(table, start, end, columns=(9, 10)):
    """Rows ``start..end`` of the written pair; untracked (all-zero) and
    non-finite joints become (0, 0) with score 0."""
    xy = table[start:end + 1][..., list(columns)].astype(np.float32)
    tracked = np.isfinite(xy).all(-1) & (xy != 0).any(-1)
    xy[~tracked] = 0
    return xy, tracked.astype(np.float32)


def test_convert_release(release, tmp_path):
    root, tables = release
    data, summary = convert(root, tmp_path / 'out')
    anns = by_id(data)
    assert data['split'] == {
        'train': [
            'Sample0001_0', 'Sample0001_1', 'Sample0001_2', 'Sample0031_0',
            'Sample0031_1'
        ],
        'val': [],
        'test': ['Sample0036_0'],
    }
    assert len(SMG_CLASSES) == 17
    for sample, (_, rows, _) in SAMPLES.items():
        for row, (raw, start, end) in enumerate(rows):
            ann = anns[f'{sample}_{row}']
            assert ann['label'] == raw - 1  # labels 1-17 -> 0-16
            assert ann['total_frames'] == end - start + 1
            assert (ann['start'], ann['end']) == (start, end)
            assert ann['subject'] == int(sample[6:])
            xy, score = expected_clip(tables[sample], start, end)
            assert ann['keypoint'].dtype == np.float32
            assert ann['keypoint'].shape == (1, end - start + 1, 25, 2)
            np.testing.assert_array_equal(ann['keypoint'][0], xy)
            np.testing.assert_array_equal(ann['keypoint_score'][0], score)
    # Where a value was written: frame 23 (clip 2 of Sample0001), HandLeft.
    np.testing.assert_allclose(anns['Sample0001_2']['keypoint'][0, 1, 7],
                               (25, 11.25))
    assert anns['Sample0001_0']['keypoint_score'][0, 4, 6] == 0
    assert anns['Sample0001_0']['keypoint_score'][0, 5, 11] == 0
    assert anns['Sample0001_0']['img_shape'] == VIDEO_SIZE[::-1]
    assert anns['Sample0031_0']['img_shape'] == DEFAULT_SHAPE

    out = tmp_path / 'out'
    assert (out / 'rgb_train.txt').read_text().splitlines() == [
        'Sample0001_0 experimentWell/Sample0001/Sample0001_color.mp4 0 9 0',
        'Sample0001_1 experimentWell/Sample0001/Sample0001_color.mp4 10 19 '
        '16',
        'Sample0001_2 experimentWell/Sample0001/Sample0001_color.mp4 22 29 4',
    ]
    assert (out / 'rgb_test.txt').read_text() == (
        'Sample0036_0 experimentWell/Sample0036/Sample0036_color.mp4 0 24 8\n')
    assert (out / 'rgb_val.txt').read_text() == ''
    on_disk = json.loads((out / 'summary.json').read_text())
    assert on_disk == summary
    assert summary['samples'] == {
        'train': ['Sample0001', 'Sample0031'],
        'val': [],
        'test': ['Sample0036']
    }
    assert summary['clips'] == {'train': 5, 'val': 0, 'test': 1}
    assert summary['class_histogram']['train'] == {
        '0': 1,
        '2': 1,
        '4': 1,
        '15': 1,
        '16': 1
    }
    assert summary['without_video'] == ['Sample0031']
    assert summary['frames']['Sample0001'] == dict(skeleton=30, video=30)
    assert summary['frames']['Sample0031'] == dict(skeleton=20, video=None)
    assert summary['skipped'] == []
    assert summary['test_subjects'] == [36, 37, 38, 39, 40]
    # Colour x reaches 3 + 36 + 14.5 > 48 px: some points leave the frame.
    assert 0 < summary['out_of_frame']['Sample0001'] < 0.5
    assert not [p for p in os.listdir(out) if '.tmp' in p]


def test_subject_splits_and_columns(release, tmp_path):
    root, tables = release
    data, summary = convert(
        root,
        tmp_path / 'out',
        val_subjects=[31],
        test_subjects=[1],
        xy_columns=(7, 8))
    assert summary['samples'] == {
        'train': ['Sample0036'],
        'val': ['Sample0031'],
        'test': ['Sample0001']
    }
    assert data['split']['val'] == ['Sample0031_0', 'Sample0031_1']
    ann = by_id(data)['Sample0031_0']
    xy, _ = expected_clip(tables['Sample0031'], 2, 11, columns=(7, 8))
    np.testing.assert_array_equal(ann['keypoint'][0], xy)
    with pytest.raises(ValueError, match=r'both the test and'):
        convert(root, tmp_path / 'bad', val_subjects=[36])
    with pytest.raises(ValueError, match='xy_columns'):
        convert(root, tmp_path / 'bad', xy_columns=(9, 11))


def test_frame_base(tmp_path):
    root = str(tmp_path / 'smg')
    tables = make_release(root, label_base=1)
    data, _ = convert(root, tmp_path / 'one', frame_base=1)
    ann = by_id(data)['Sample0001_1']
    assert (ann['start'], ann['end']) == (10, 19)
    xy, _ = expected_clip(tables['Sample0001'], 10, 19)
    np.testing.assert_array_equal(ann['keypoint'][0], xy)
    # Read as 0-based, the last segments run one row past the skeleton.
    data, summary = convert(root, tmp_path / 'zero')
    assert [s['sample'] for s in summary['skipped']
            ] == ['Sample0001', 'Sample0031', 'Sample0036']
    assert 'is the frame base 1?' in summary['skipped'][0]['reason']
    assert summary['skipped'][0]['file'].endswith('Sample0001_finelabels.csv')
    with pytest.raises(ValueError, match='frame_base'):
        convert(root, tmp_path / 'two', frame_base=2)


def test_bad_skeleton_is_named_and_skipped(release, tmp_path):
    root, tables = release
    path = osp.join(root, 'experimentWell', 'Sample0031',
                    'Sample0031_skeleton.csv')
    with open(path) as f:
        lines = f.readlines()
    values = lines[3].strip().rstrip(',').split(',')
    lines[3] = ','.join(values[:264]) + '\n'
    with open(path, 'w') as f:
        f.writelines(lines)
    with pytest.raises(SampleFormatError) as info:
        convert(root, tmp_path / 'strict', strict=True)
    message = str(info.value)
    assert message.startswith(f'sample Sample0031: {path}: ')
    assert 'line 4: expected 275 values (25 joints x 11), found 264' in message
    data, summary = convert(root, tmp_path / 'lenient')
    assert summary['skipped'] == [
        dict(sample='Sample0031', file=path, reason=info.value.problem)
    ]
    assert summary['samples']['train'] == ['Sample0001']
    assert not [i for i in data['split']['train'] if 'Sample0031' in i]


def test_bad_label_rows(release, tmp_path):
    root, _ = release
    path = osp.join(root, 'experimentWell', 'Sample0036',
                    'Sample0036_finelabels.csv')
    write_labels(path, [(9, 0, 4), (18, 5, 9)])
    with pytest.raises(
            SampleFormatError,
            match=r'Sample0036_finelabels.csv: row 1: raw SMG '
            r'label 18 is out of range \(expected 1-17\)'):
        convert(root, tmp_path / 'out', strict=True)
    with open(path, 'w') as f:
        f.write('9,0,4\n9,abc,7\n')
    with pytest.raises(SampleFormatError, match='line 2: non-integer'):
        convert(root, tmp_path / 'out', strict=True)


def test_non_numeric_skeleton_value(tmp_path):
    path = tmp_path / 'Sample0002_skeleton.csv'
    write_skeleton(path, make_table('Sample0002', 8))
    text = path.read_text().splitlines()
    text[1] = 'oops,' + text[1].split(',', 1)[1]
    path.write_text('\n'.join(text) + '\n')
    with pytest.raises(
            SampleFormatError,
            match="line 2, value 1: 'oops' is not a number"):
        read_smg_skeleton(str(path), 'Sample0002')
    text[1] = ''
    path.write_text('\n'.join(text) + '\n')
    with pytest.raises(SampleFormatError, match='line 2: .* an empty line'):
        read_smg_skeleton(str(path), 'Sample0002')
    path.write_text('')
    with pytest.raises(SampleFormatError, match='no rows'):
        read_smg_skeleton(str(path), 'Sample0002')


def test_other_layouts(release, tmp_path):
    root, tables = release
    with pytest.raises(MissingKeypointsError, match='nose'):
        convert(root, tmp_path / 'refused', layout='mg36')
    assert not osp.exists(tmp_path / 'refused')  # refused before writing
    data, summary = convert(
        root, tmp_path / 'out', layout='mg36', missing='zero')
    assert summary['layout'] == 'mg36' and summary['missing'] == 'zero'
    ann = by_id(data)['Sample0001_0']
    mg = get_layout('mg36').names
    assert ann['keypoint'].shape == (1, 10, 36, 2)
    xy, score = expected_clip(tables['Sample0001'], 0, 9)
    kinect = get_layout('kinect25').names
    for mg_name, kinect_name in (('neck', 'spine_shoulder'),
                                 ('left_hand_wrist', 'left_wrist'),
                                 ('right_hand_thumb4', 'right_thumb')):
        np.testing.assert_array_equal(ann['keypoint'][0, :,
                                                      mg.index(mg_name)],
                                      xy[:, kinect.index(kinect_name)])
    assert not ann['keypoint'][0, :, mg.index('nose')].any()
    assert not ann['keypoint_score'][0, :, mg.index('face_27')].any()
    # The untracked Kinect wrist stays untracked after conversion.
    for name in ('left_wrist', 'left_hand_wrist'):
        np.testing.assert_array_equal(
            ann['keypoint_score'][0, :, mg.index(name)],
            score[:, kinect.index('left_wrist')])
        assert ann['keypoint_score'][0, 4, mg.index(name)] == 0


def test_discovery(release, tmp_path):
    root, _ = release
    videos = tmp_path / 'rgb'
    os.makedirs(videos / 'color')
    write_mp4(str(videos / 'color' / 'Sample0031_color.mp4'), 20)
    samples, errors = discover_smg(root, str(videos))
    assert errors == []
    assert [(s.sample, s.subject) for s in samples] == [('Sample0001', 1),
                                                        ('Sample0031', 31),
                                                        ('Sample0036', 36)]
    assert samples[1].video_rel == 'color/Sample0031_color.mp4'
    assert samples[0].video is None  # only video_root is searched
    # A second copy of a label table makes the sample ambiguous.
    copy = osp.join(root, 'extra')
    os.makedirs(copy)
    write_labels(osp.join(copy, 'Sample0036_finelabels.csv'), [(1, 0, 3)])
    samples, errors = discover_smg(root)
    assert [s.sample for s in samples] == ['Sample0001', 'Sample0031']
    assert len(errors) == 1 and errors[0].vid == 'Sample0036'
    assert 'label file found 2 times' in errors[0].problem
    with pytest.raises(FileNotFoundError):
        convert_smg_release(
            str(tmp_path / 'rgb'), str(tmp_path / 'o'), progress=False)


def _load_cli():
    spec = importlib.util.spec_from_file_location('smg_to_mmaction', CLI)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cli(release, tmp_path, capsys, monkeypatch):
    root, _ = release
    cli = _load_cli()
    out = tmp_path / 'out'
    cli.main([
        root, '--out',
        str(out), '--layout', 'mg22', '--fill-missing', '--val-subjects',
        '30-31', '--no-progress'
    ])
    with open(out / 'smg_mg22.pkl', 'rb') as f:
        data = pickle.load(f)
    assert data['split']['val'] == ['Sample0031_0', 'Sample0031_1']
    assert data['annotations'][0]['keypoint'].shape[2] == 22
    assert_known_error(
        run_cli(CLI, [root, '--out', tmp_path / 'o2', '--layout', 'mg36'],
                capsys, monkeypatch), CLI, '--fill-missing', 'nose')
    args = cli.parse_args([root, '--out', 'o', '--test-subjects', '1,36-38'])
    assert args.test_subjects == (1, 36, 37, 38)
    assert args.xy_columns == [9, 10] and args.frame_base == 0
    for argv, message in ((['--xy-columns', '9', '11'], 'per-joint field'),
                          (['--xy-columns', '9',
                            '9'], 'two different'), (['--frame-base',
                                                      '2'], 'invalid choice'),
                          (['--val-subjects',
                            '36'], 'in both'), (['--layout',
                                                 'coco17'], 'invalid choice')):
        with pytest.raises(SystemExit) as info:
            cli.parse_args([root, '--out', 'o'] + argv)
        assert info.value.code == 2
        assert message in capsys.readouterr().err
