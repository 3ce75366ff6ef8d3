"""MiGA / iMiGUE release conversion on tiny fake releases."""
import importlib.util
import json
import os
import os.path as osp
import pickle
import re
import shutil

import cv2
import numpy as np
import openpyxl
import pytest
import xlsxwriter

from mmmg.data_prep import imigue_release
from mmmg.data_prep.imigue_release import (ReleaseFormatError, convert_release,
                                           discover_release, format_summary,
                                           infer_split, read_openpose_xlsx)
from mmmg.keypoints.layouts import MG22_FROM_OPENPOSE137, MG36_FROM_OPENPOSE137
from ..cli_helpers import assert_known_error, run_cli
from ..conftest import REPO, run_tool

CLI = osp.join(REPO, 'data_prep', 'imigue_to_mmaction.py')
VIDEO_SIZE = (32, 24)  # (W, H) of the fake mp4s
SKELETON_DIRS = {
    'train': 'imigue_data_phase1/datasets/imigue_skeleton_train',
    'val': 'imigue_data_phase1/datasets/imigue_skeleton_validate',
    'test': 'imigue_data_phase2/imigue_skeleton_test',
}
RGB_DIRS = {
    'train': 'imigue_rgb_phase1/train_data',
    'val': 'imigue_rgb_phase1/validation_data',
    'test': 'imigue_rgb_phase2',
}
# vid: (split, skeleton rows, label rows [raw class, start, end]).
VIDEOS = {
    '0001': ('train', 40, [(1, 0, 9), (99, 10, 19), (5, 25, 39)]),
    '0002': ('val', 30, [(3, 2, 11), (99, 12, 29)]),
    '0003': ('test', 30, [(0, 0, 14), (0, 15, 29)]),  # placeholder classes
}


def make_table(num_frames, seed):
    """[T, 411] pixel-like values with 3 decimals and a missing point."""
    rng = np.random.default_rng(seed)
    table = np.round(rng.uniform(1, 1280, (num_frames, 411)), 3)
    table[:, 2::3] = np.round(rng.uniform(0, 1, (num_frames, 137)), 3)
    table[:, 3 * 40:3 * 41] = 0
    return table


def write_xlsx(path, table, header=False, index=False):
    book = xlsxwriter.Workbook(path)
    sheet = book.add_worksheet()
    offset = int(header)
    if header:
        sheet.write_row(0, int(index), [str(i) for i in range(len(table[0]))])
    for r, row in enumerate(table):
        values = ([r] if index else []) + [float(v) for v in row]
        sheet.write_row(r + offset, 0, values)
    book.close()


def write_labels(path, rows):
    with open(path, 'w') as f:
        f.writelines(','.join(map(str, row)) + '\n' for row in rows)


def write_mp4(path, num_frames):
    os.makedirs(osp.dirname(path), exist_ok=True)
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'mp4v'), 25,
                             VIDEO_SIZE)
    for i in range(num_frames):
        writer.write(np.full(VIDEO_SIZE[::-1] + (3, ), i * 5, np.uint8))
    writer.release()


def skeleton_dir(root, vid):
    return osp.join(root, SKELETON_DIRS[VIDEOS[vid][0]], vid)


def rgb_path(vid):
    return f'{RGB_DIRS[VIDEOS[vid][0]]}/{vid}/{vid}.mp4'


@pytest.fixture
def release(tmp_path):
    """A release in the MiGA-2025 tree; returns (root, {vid: table})."""
    root = str(tmp_path / 'release')
    tables = {}
    for seed, (vid, (_, frames, labels)) in enumerate(VIDEOS.items()):
        folder = skeleton_dir(root, vid)
        os.makedirs(folder)
        tables[vid] = make_table(frames, seed)
        write_xlsx(osp.join(folder, f'{vid}_openpose.xlsx'), tables[vid])
        write_labels(osp.join(folder, f'{vid}_label.csv'), labels)
        write_mp4(osp.join(root, rgb_path(vid)), frames)
    return root, tables


def convert(root, out, **kwargs):
    kwargs.setdefault('hidden_test_labels', True)
    kwargs.setdefault('workers', 1)
    summary = convert_release(root, str(out), progress=False, **kwargs)
    layout = kwargs.get('layout', 'openpose137')
    with open(osp.join(str(out), f'imigue_{layout}.pkl'), 'rb') as f:
        return pickle.load(f), summary


def by_id(data):
    return {a['frame_dir']: a for a in data['annotations']}


def test_pickle_structure(release, tmp_path):
    root, _ = release
    data, summary = convert(root, tmp_path / 'out')
    assert set(data) == {'split', 'annotations'}
    assert data['split'] == {
        'train': ['0001_0', '0001_1', '0001_2'],
        'val': ['0002_0', '0002_1'],
        'test': ['0003_0', '0003_1'],
    }
    for vid, (_, _, labels) in VIDEOS.items():
        for row, (_, start, end) in enumerate(labels):
            ann = by_id(data)[f'{vid}_{row}']
            num = end - start + 1
            assert set(ann) == {
                'frame_dir', 'label', 'total_frames', 'img_shape',
                'original_shape', 'keypoint', 'keypoint_score', 'video',
                'video_path', 'start', 'end'
            }
            assert ann['total_frames'] == num
            assert ann['video'] == vid
            assert ann['video_path'] == rgb_path(vid)
            assert (ann['start'], ann['end']) == (start, end)
            assert ann['img_shape'] == ann['original_shape'] == (24, 32)
            assert ann['keypoint'].dtype == np.float32
            assert ann['keypoint'].shape == (1, num, 137, 2)
            assert ann['keypoint_score'].dtype == np.float32
            assert ann['keypoint_score'].shape == (1, num, 137)
    assert summary['videos'] == dict(train=1, val=1, test=1)
    assert summary['clips'] == dict(train=3, val=2, test=2)
    assert summary['class_histogram']['test'] == {'-1': 2}
    assert summary['skipped'] == [] and summary['without_video'] == []


def test_clip_slicing_matches_xlsx_cells(release, tmp_path):
    root, tables = release
    ann = by_id(convert(root, tmp_path / 'out')[0])['0001_2']  # frames 25-39
    point, t = 12, 3
    np.testing.assert_array_equal(
        ann['keypoint'][0],
        tables['0001'][25:40].reshape(15, 137, 3)[..., :2].astype(np.float32))
    # One cell through openpyxl: frame 28 is sheet row 29, point 12 at
    # columns 37-39 (1-based).
    book = openpyxl.load_workbook(
        osp.join(skeleton_dir(root, '0001'), '0001_openpose.xlsx'))
    cells = [book.active.cell(row=29, column=37 + c).value for c in range(3)]
    assert ann['keypoint'][0, t, point].tolist() == [
        np.float32(cells[0]), np.float32(cells[1])
    ]
    assert ann['keypoint_score'][0, t, point] == np.float32(cells[2])
    # A missing point stays 0, 0, 0.
    assert not ann['keypoint'][0, :, 40].any()
    assert not ann['keypoint_score'][0, :, 40].any()


def test_label_mapping(release, tmp_path):
    data, summary = convert(release[0], tmp_path / 'out')
    labels = {k: a['label'] for k, a in by_id(data).items()}
    assert labels == {
        '0001_0': 0,
        '0001_1': 31,
        '0001_2': 4,  # raw 1, 99, 5
        '0002_0': 2,
        '0002_1': 31,
        '0003_0': -1,
        '0003_1': -1,  # hidden
    }
    assert summary['class_histogram']['train'] == {'0': 1, '4': 1, '31': 1}


def test_test_placeholders_need_hidden_flag(release, tmp_path):
    with pytest.raises(ReleaseFormatError, match='0003.*--hidden-test-labels'):
        convert(
            release[0],
            tmp_path / 'out',
            hidden_test_labels=False,
            strict=True)


@pytest.mark.parametrize('layout, indices', [('mg36', MG36_FROM_OPENPOSE137),
                                             ('mg22', MG22_FROM_OPENPOSE137)])
def test_layout_selection(release, tmp_path, layout, indices):
    root, tables = release
    data, summary = convert(root, tmp_path / 'out', layout=layout)
    assert summary['layout'] == layout
    ann = by_id(data)['0002_0']  # frames 2-11
    expected = tables['0002'][2:12].reshape(10, 137, 3)[:, list(indices)]
    assert ann['keypoint'].shape == (1, 10, len(indices), 2)
    np.testing.assert_array_equal(ann['keypoint'][0],
                                  expected[..., :2].astype(np.float32))
    np.testing.assert_array_equal(ann['keypoint_score'][0],
                                  expected[..., 2].astype(np.float32))
    # Spot-check one point by its column numbers: MG36 point 24 is the left
    # wrist, OpenPose point 95, columns 285-287.
    if layout == 'mg36':
        np.testing.assert_array_equal(
            ann['keypoint'][0, :, 24],
            tables['0002'][2:12, 285:287].astype(np.float32))


@pytest.mark.parametrize(
    'rel_dir, split',
    [
        ('imigue_data_phase1/datasets/imigue_skeleton_train/0001', 'train'),
        ('imigue_data_phase1/datasets/imigue_skeleton_validate/0002', 'val'),
        ('imigue_rgb_phase1/validation_data/0002', 'val'),
        ('imigue_data_phase2/imigue_skeleton_test/0003', 'test'),
        ('imigue_rgb_phase1/train_data/0001', 'train'),
        ('Val/0002', 'val'),
        ('test_phase/valid/0002', 'val'),  # the deepest folder wins
        ('imigue_rgb_phase2/0003', None),
        ('contest/latest/0003', None),  # tokens, not substrings
        ('.', None),
    ])
def test_infer_split(rel_dir, split):
    assert infer_split(rel_dir) == split


def test_discovery_of_another_tree(tmp_path):
    """A flat 2023-style tree: split folders with all files of a video."""
    root = str(tmp_path / 'miga2023')
    for split, vid in (('training', '0101'), ('val', '0102'), ('testing',
                                                               '0103')):
        folder = osp.join(root, split, vid)
        os.makedirs(folder)
        write_xlsx(osp.join(folder, f'{vid}_openpose.xlsx'), make_table(8, 0))
        write_labels(osp.join(folder, f'{vid}_label.csv'), [(2, 0, 7)])
        write_mp4(osp.join(folder, f'{vid}.mp4'), 8)
    videos, errors = discover_release(root)
    assert errors == []
    assert [(v.vid, v.split, v.video_rel) for v in videos] == [
        ('0101', 'train', 'training/0101/0101.mp4'),
        ('0102', 'val', 'val/0102/0102.mp4'),
        ('0103', 'test', 'testing/0103/0103.mp4'),
    ]
    data, _ = convert(root, tmp_path / 'out')
    assert data['split'] == dict(
        train=['0101_0'], val=['0102_0'], test=['0103_0'])


def test_split_files_override_folders(release, tmp_path):
    root, _ = release
    lists = tmp_path / 'lists'
    lists.mkdir()
    (lists / 'val.txt').write_text('0001_0.mp4 8\n0001_2.mp4 3\n\n')
    (lists / 'train.txt').write_text('0002\n')
    data, summary = convert(
        root,
        tmp_path / 'out',
        split_files=dict(
            val=str(lists / 'val.txt'), train=str(lists / 'train.txt')))
    assert data['split']['train'] == ['0002_0', '0002_1']
    assert data['split']['val'] == ['0001_0', '0001_1', '0001_2']
    # The mp4 is found in its folder even though the split changed.
    lines = (tmp_path / 'out' / 'rgb_val.txt').read_text().splitlines()
    assert lines[0] == f'0001_0 {rgb_path("0001")} 0 9 0'

    (lists / 'test.txt').write_text('0002_1.mp4 0\n')
    with pytest.raises(ValueError, match='0002 is listed in both'):
        convert(
            root,
            tmp_path / 'out2',
            split_files=dict(
                train=str(lists / 'train.txt'), test=str(lists / 'test.txt')))
    (lists / 'bad.txt').write_text('clip_a.mp4 3\n')
    with pytest.raises(ValueError, match='bad.txt: line 1'):
        convert(
            root,
            tmp_path / 'out3',
            split_files=dict(val=str(lists / 'bad.txt')))


def test_rgb_lists(release, tmp_path):
    root, _ = release
    os.remove(osp.join(root, rgb_path('0002')))
    data, summary = convert(root, tmp_path / 'out')
    out = tmp_path / 'out'
    assert (out / 'rgb_train.txt').read_text().splitlines() == [
        f'0001_0 {rgb_path("0001")} 0 9 0',
        f'0001_1 {rgb_path("0001")} 10 19 31',
        f'0001_2 {rgb_path("0001")} 25 39 4',
    ]
    assert (out / 'rgb_test.txt').read_text().splitlines() == [
        f'0003_0 {rgb_path("0003")} 0 14 -1',
        f'0003_1 {rgb_path("0003")} 15 29 -1',
    ]
    # Without its mp4 a video keeps its pose clips at the default shape.
    assert (out / 'rgb_val.txt').read_text() == ''
    assert summary['without_video'] == ['0002']
    assert by_id(data)['0002_0']['img_shape'] == (720, 1280)
    assert osp.isfile(osp.join(root, rgb_path('0001')))


def test_video_root(release, tmp_path):
    root, _ = release
    video_root = str(tmp_path / 'rgb')
    for vid in VIDEOS:
        src = osp.join(root, rgb_path(vid))
        os.makedirs(osp.join(video_root, vid))
        shutil.move(src, osp.join(video_root, vid, f'{vid}.mp4'))
    convert(root, tmp_path / 'out', video_root=video_root)
    line = (tmp_path / 'out' / 'rgb_val.txt').read_text().splitlines()[0]
    assert line == '0002_0 0002/0002.mp4 2 11 2'


def _set_labels(rows):

    def mutate(root):
        write_labels(
            osp.join(skeleton_dir(root, '0002'), '0002_label.csv'), rows)

    return mutate


def _write_lines(text):

    def mutate(root):
        with open(osp.join(skeleton_dir(root, '0002'), '0002_label.csv'),
                  'w') as f:
            f.write(text)

    return mutate


def _remove(name):

    def mutate(root):
        os.remove(osp.join(skeleton_dir(root, '0002'), name))

    return mutate


def _remove_video(root):
    os.remove(osp.join(root, rgb_path('0002')))


def _video_frames(num_frames):

    def mutate(root):
        write_mp4(osp.join(root, rgb_path('0002')), num_frames)

    return mutate


def _skeleton(table):

    def mutate(root):
        write_xlsx(
            osp.join(skeleton_dir(root, '0002'), '0002_openpose.xlsx'), table)

    return mutate


def _text_cell(root):
    path = osp.join(skeleton_dir(root, '0002'), '0002_openpose.xlsx')
    book = openpyxl.load_workbook(path)
    book.active.cell(row=5, column=7).value = 'n/a'
    book.save(path)


def _corrupt_workbook(root):
    path = osp.join(skeleton_dir(root, '0002'), '0002_openpose.xlsx')
    with open(path, 'wb') as f:
        f.write(b'not a zip archive')


# (mutation of video 0002, file named in the error, problem, extra kwargs)
ERROR_CASES = {
    'label_without_skeleton':
    (_remove('0002_openpose.xlsx'), '0002_label.csv', 'no skeleton', {}),
    'skeleton_without_label':
    (_remove('0002_label.csv'), '0002_openpose.xlsx', 'no label table', {}),
    'missing_required_video': (_remove_video, '0002.mp4', 'video not found',
                               dict(require_video=True)),
    'segment_beyond_skeleton': (_set_labels([
        (3, 2, 11), (99, 12, 30)
    ]), '0002_label.csv', 'row 1: segment 12-30 ends beyond', {}),
    'frame_count_mismatch': (_video_frames(36), '0002_openpose.xlsx',
                             '30 skeleton rows but the video', {}),
    'non_integer_field': (_write_lines('3,2,11\n3,abc,20\n'), '0002_label.csv',
                          'line 2: non-integer', {}),
    'wrong_field_count':
    (_write_lines('3,2\n'), '0002_label.csv', 'line 1: expected 3 fields', {}),
    'label_out_of_range': (_set_labels([(3, 2, 11), (50, 12, 29)]),
                           '0002_label.csv', 'row 1: raw MiGA label 50', {}),
    'start_after_end': (_set_labels([(3, 11, 2)]), '0002_label.csv',
                        'bad segment start=11 end=2', {}),
    'empty_label_table': (_write_lines('\n'), '0002_label.csv', 'no rows', {}),
    'text_cell': (_text_cell, '0002_openpose.xlsx',
                  "row 5, column 7: non-numeric cell 'n/a'", {}),
    'wrong_column_count': (_skeleton(make_table(30, 0)[:, :400]),
                           '0002_openpose.xlsx', 'expected 411 columns', {}),
    'corrupt_workbook':
    (_corrupt_workbook, '0002_openpose.xlsx', 'cannot read the workbook', {}),
}


@pytest.mark.parametrize('case', sorted(ERROR_CASES))
def test_bad_video_strict_raises(release, tmp_path, case):
    mutate, file_name, problem, kwargs = ERROR_CASES[case]
    root, _ = release
    mutate(root)
    with pytest.raises(ReleaseFormatError) as info:
        convert(root, tmp_path / 'out', strict=True, **kwargs)
    message = str(info.value)
    assert info.value.vid == '0002' and 'video 0002' in message
    assert file_name in message and problem in message
    assert not (tmp_path / 'out' / 'imigue_openpose137.pkl').exists()


@pytest.mark.parametrize('case', sorted(ERROR_CASES))
def test_bad_video_is_skipped_and_reported(release, tmp_path, case):
    mutate, file_name, problem, kwargs = ERROR_CASES[case]
    root, _ = release
    mutate(root)
    data, summary = convert(root, tmp_path / 'out', **kwargs)
    assert data['split']['val'] == []
    assert data['split']['train'] == ['0001_0', '0001_1', '0001_2']
    assert {a['video'] for a in data['annotations']} == {'0001', '0003'}
    [skipped] = summary['skipped']
    assert skipped['video'] == '0002'
    assert problem in skipped['reason'] and file_name in (skipped['file'] +
                                                          skipped['reason'])
    with open(tmp_path / 'out' / 'summary.json') as f:
        assert '0002' in f.read()
    # 0002 is the only validation video: the split is left empty.
    assert summary['empty_splits'] == ['val']


def test_cli_exits_1_when_a_split_is_left_empty(release, tmp_path, capsys):
    root, _ = release
    _set_labels([(50, 0, 3)])(root)
    with pytest.raises(SystemExit) as info:
        _load_cli().main([
            root, '--out',
            str(tmp_path / 'out'), '--hidden-test-labels', '--no-progress'
        ])
    assert info.value.code == 1
    with open(tmp_path / 'out' / 'summary.json') as f:
        assert json.load(f)['empty_splits'] == ['val']
    assert capsys.readouterr().err.startswith('skipped video 0002: ')


def test_strict_error_crosses_worker_processes(release, tmp_path):
    root, _ = release
    _set_labels([(50, 0, 3)])(root)
    with pytest.raises(ReleaseFormatError, match='video 0002: .*50'):
        convert(root, tmp_path / 'out', strict=True, workers=2)


def test_video_without_tables_is_reported(release, tmp_path):
    root, _ = release
    write_mp4(osp.join(root, RGB_DIRS['test'], '0004', '0004.mp4'), 5)
    _, summary = convert(root, tmp_path / 'out')
    [skipped] = summary['skipped']
    assert skipped['video'] == '0004'
    assert skipped['file'].endswith('0004.mp4')
    assert 'without label table and skeleton' in skipped['reason']


def test_duplicate_files_are_reported(release, tmp_path):
    root, _ = release
    copy = osp.join(root, 'backup_train', '0001')
    shutil.copytree(skeleton_dir(root, '0001'), copy)
    with pytest.raises(ReleaseFormatError, match='0001.*found 2 times'):
        convert(root, tmp_path / 'out', strict=True)
    _, summary = convert(root, tmp_path / 'out')
    assert [s['video'] for s in summary['skipped']] == ['0001']


def test_cache_is_reused(release, tmp_path):
    root, _ = release
    out, cache = tmp_path / 'out', tmp_path / 'cache'
    first, summary = convert(root, out, cache_dir=str(cache))
    assert summary['skeletons_parsed'] == 3
    stamps = {p.name: p.stat().st_mtime_ns for p in cache.iterdir()}
    assert sorted(stamps) == [f'{vid}_openpose.npz' for vid in VIDEOS]

    second, summary = convert(root, out, cache_dir=str(cache), workers=2)
    assert summary['skeletons_parsed'] == 0
    assert summary['skeletons_cached'] == 3
    assert {p.name: p.stat().st_mtime_ns for p in cache.iterdir()} == stamps
    assert second['split'] == first['split']
    for a, b in zip(first['annotations'], second['annotations']):
        np.testing.assert_array_equal(a['keypoint'], b['keypoint'])

    # A workbook that changed is parsed again.
    xlsx = osp.join(skeleton_dir(root, '0001'), '0001_openpose.xlsx')
    os.utime(xlsx, ns=(0, os.stat(xlsx).st_mtime_ns + 10**9))
    _, summary = convert(root, out, cache_dir=str(cache))
    assert summary['skeletons_parsed'] == 1
    assert not [p for p in cache.iterdir() if '.tmp' in p.name]


def test_fast_reader_matches_openpyxl(tmp_path, monkeypatch):
    table = make_table(12, 3)
    plain = str(tmp_path / 'plain.xlsx')
    write_xlsx(plain, table)
    expected = table.reshape(12, 137, 3).astype(np.float32)
    slow = imigue_release._read_sheet_openpyxl(plain, '0009')
    np.testing.assert_array_equal(slow, table)
    # A plain numeric sheet never reaches openpyxl.
    with monkeypatch.context() as m:
        m.setattr(imigue_release, '_read_sheet_openpyxl', None)
        np.testing.assert_array_equal(
            read_openpose_xlsx(plain, '0009')[0], expected)

    # Empty cells (openpyxl writer) fall back and read as missing points:
    # the whole point, whichever of its cells is empty.
    sparse = str(tmp_path / 'sparse.xlsx')
    book = openpyxl.Workbook()
    for row in table:
        book.active.append([None if v == 0 else float(v) for v in row])
    book.save(sparse)
    blank = (expected == 0).any(-1)
    keypoints, invalid = read_openpose_xlsx(sparse, '0009')
    np.testing.assert_array_equal(keypoints,
                                  np.where(blank[..., None], 0, expected))
    assert invalid == blank.sum()

    # A header row and a frame-index column are detected and dropped.
    indexed = str(tmp_path / 'indexed.xlsx')
    write_xlsx(indexed, table, header=True, index=True)
    np.testing.assert_array_equal(
        read_openpose_xlsx(indexed, '0009')[0], expected)


def test_invalid_cells_make_the_point_missing(tmp_path):
    table = make_table(4, 5)
    table[0, 3 * 7] = np.nan  # x of point 7, confidence kept
    table[1, 3 * 9 + 1] = np.inf  # y of point 9
    path = str(tmp_path / 'bad.xlsx')
    # As an export of NaN / inf writes them: error cells (#NUM!, #DIV/0!).
    book = xlsxwriter.Workbook(path, {'nan_inf_to_errors': True})
    sheet = book.add_worksheet()
    for r, row in enumerate(table):
        cells = [float(v) for v in row]
        if r == 2:
            cells[3 * 11] = None  # an empty x cell
        if r == 3:
            cells[3 * 12 + 2] = '#N/A'  # an error text as confidence
        sheet.write_row(r, 0, cells)
    book.close()
    keypoints, invalid = read_openpose_xlsx(path, '0009')
    assert invalid == 4
    for frame, point in ((0, 7), (1, 9), (2, 11), (3, 12)):
        np.testing.assert_array_equal(keypoints[frame, point], 0)
    assert np.isfinite(keypoints).all()
    untouched = table.reshape(4, 137, 3)[:, 20]
    np.testing.assert_allclose(keypoints[:, 20], untouched, rtol=1e-6)


def _load_cli():
    spec = importlib.util.spec_from_file_location('imigue_to_mmaction', CLI)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cli_help_and_bad_argument():
    proc = run_tool([CLI, '--help'])
    assert proc.returncode == 0, proc.stderr
    for option in ('--layout', '--split-file', '--hidden-test-labels',
                   '--strict', '--workers', '--cache-dir'):
        assert option in proc.stdout
    proc = run_tool([CLI, '.', '--out', 'x', '--layout', 'coco17'])
    assert proc.returncode == 2
    assert "invalid choice: 'coco17'" in proc.stderr


@pytest.mark.parametrize('argv, message', [
    (['--split-file', 'train'], 'is not SPLIT=PATH'),
    (['--split-file', 'dev=x.txt'], 'is not SPLIT=PATH'),
    (['--split-file', 'val=missing.txt'], 'missing.txt does not exist'),
    (['--workers', '0'], '0 is not a positive integer'),
    (['--default-shape', '720'], 'expected 2 arguments'),
    (['--frame-tolerance', 'x'], "'x' is not an integer"),
])
def test_cli_rejects_bad_arguments(tmp_path, capsys, argv, message):
    cli = _load_cli()
    with pytest.raises(SystemExit) as info:
        cli.parse_args([str(tmp_path), '--out', str(tmp_path / 'o')] + argv)
    assert info.value.code == 2
    assert message in capsys.readouterr().err


def test_cli_rejects_missing_root(tmp_path, capsys, monkeypatch):
    assert_known_error(
        run_cli(CLI, [tmp_path / 'nope', '--out', tmp_path / 'o'], capsys,
                monkeypatch), CLI, 'nope', 'is not a folder')
    assert not (tmp_path / 'o').exists()


def test_cli_end_to_end(release, tmp_path, capsys, monkeypatch):
    root, _ = release
    out = tmp_path / 'out'
    proc = run_tool([
        CLI, root, '--out',
        str(out), '--layout', 'mg36', '--hidden-test-labels', '--workers', '2',
        '--no-progress'
    ])
    assert proc.returncode == 0, proc.stderr
    assert 'imigue_mg36.pkl' in proc.stdout
    assert {p.name
            for p in out.iterdir()} >= {
                'imigue_mg36.pkl', 'rgb_train.txt', 'rgb_val.txt',
                'rgb_test.txt', 'summary.json', 'cache'
            }
    _remove_video(root)
    strict = run_cli(CLI, [
        root, '--out',
        str(tmp_path / 'out2'), '--require-video', '--strict',
        '--hidden-test-labels', '--no-progress'
    ], capsys, monkeypatch)
    assert strict.returncode == 2
    assert re.match('imigue_to_mmaction.py: error: video 0002: .*not found',
                    strict.stderr)
    # An output folder below a file is refused before the conversion.
    assert_known_error(
        run_cli(CLI, [root, '--out', out / 'summary.json' / 'x'], capsys,
                monkeypatch), CLI, 'summary.json', 'is a file')


def test_pose_dataset_loads_the_pickle(release, tmp_path):
    from mmaction.datasets import PoseDataset
    from mmaction.utils import register_all_modules

    from mmmg.datasets import MGPoseDataset
    register_all_modules()
    convert(release[0], tmp_path / 'out', layout='mg36')
    ann_file = str(tmp_path / 'out' / 'imigue_mg36.pkl')
    for split, num in (('train', 3), ('val', 2), ('test', 2)):
        dataset = PoseDataset(ann_file=ann_file, pipeline=[], split=split)
        assert len(dataset) == num
    dataset = MGPoseDataset(ann_file=ann_file, pipeline=[], split='test')
    assert [dataset.get_data_info(i)['label'] for i in range(2)] == [-1, -1]
    assert dataset.get_data_info(0)['keypoint'].shape == (1, 15, 36, 2)


def test_conversion_counts_points_of_empty_cells(release, tmp_path):
    root, tables = release
    path = osp.join(skeleton_dir(root, '0002'), '0002_openpose.xlsx')
    book = openpyxl.load_workbook(path)
    book.active.cell(row=3, column=3 * 4 + 1).value = None  # x of point 4
    book.save(path)
    data, summary = convert(root, tmp_path / 'out')
    assert summary['invalid_points'] == {'0002': 1}
    assert '1 points with an empty or non-finite cell' in format_summary(
        summary)
    assert all(np.isfinite(a['keypoint']).all() for a in data['annotations'])
    keypoints, _, invalid = imigue_release.load_openpose_skeleton(path, '0002')
    assert invalid == 1
    np.testing.assert_array_equal(keypoints[2, 4], 0)
    np.testing.assert_allclose(
        keypoints[2, 5], tables['0002'][2].reshape(137, 3)[5], rtol=1e-6)


def test_fill_gaps_interpolates_across_the_whole_video(release, tmp_path):
    root, tables = release
    path = osp.join(skeleton_dir(root, '0001'), '0001_openpose.xlsx')
    book = openpyxl.load_workbook(path)
    # Point 12 lost in frames 27-28 (sheet rows 28-29, columns 37-39).
    for row in (28, 29):
        for c in range(3):
            book.active.cell(row=row, column=37 + c).value = 0
    book.save(path)
    plain, summary = convert(root, tmp_path / 'plain')
    assert summary['filled_points'] == 0
    assert not by_id(plain)['0001_2']['keypoint_score'][0, 2:4, 12].any()
    data, summary = convert(root, tmp_path / 'filled', fill_gaps=2)
    assert summary['filled_points'] >= 2
    ann = by_id(data)['0001_2']  # frames 25-39
    table = tables['0001'].reshape(-1, 137, 3)
    before, after = table[26, 12], table[29, 12]
    for t, w in ((2, 1 / 3), (3, 2 / 3)):
        np.testing.assert_allclose(
            ann['keypoint'][0, t, 12], (1 - w) * before[:2] + w * after[:2],
            rtol=1e-5)
        assert ann['keypoint_score'][0, t, 12] == pytest.approx(
            0.5 * min(before[2], after[2]))
    # A 3-frame gap is longer than --fill-gaps 2 allows.
    data, _ = convert(root, tmp_path / 'short', fill_gaps=1)
    assert not by_id(data)['0001_2']['keypoint_score'][0, 2:4, 12].any()


def _light_hand_rows(table):
    """The light-hand CSV of a workbook table: an index, body-25 and the
    fingertips (OpenPose-137 points 99, 103, ... 136) as x, y, conf."""
    points = table.reshape(len(table), 137, 3)
    picked = list(range(25)) + [
        hand + tip for hand in (95, 116) for tip in (4, 8, 12, 16, 20)
    ]
    return [[t] + points[t, picked].ravel().tolist()
            for t in range(len(table))]


def test_light_hand_csv_fills_and_replaces_the_workbook(release, tmp_path):
    root, tables = release
    # 0001: the workbook misses the left index fingertip (103) in frame 30;
    # the CSV sees it.
    folder = skeleton_dir(root, '0001')
    book_table = tables['0001'].copy()
    book_table[30, 3 * 103:3 * 104] = 0
    write_xlsx(osp.join(folder, '0001_openpose.xlsx'), book_table)
    with open(osp.join(folder, '0001_light_hand.csv'), 'w') as f:
        f.write('frame,' + ','.join(f'v{i}' for i in range(105)) + '\n')
        f.writelines(','.join(map(str, row)) + '\n'
                     for row in _light_hand_rows(tables['0001']))
    # 0002: only the CSV, no workbook.
    folder = skeleton_dir(root, '0002')
    os.remove(osp.join(folder, '0002_openpose.xlsx'))
    with open(osp.join(folder, '0002_light_hand.csv'), 'w') as f:
        f.writelines(','.join(map(str, row)) + '\n'
                     for row in _light_hand_rows(tables['0002']))
    data, summary = convert(root, tmp_path / 'out', layout='mg22')
    assert summary['skipped'] == []
    full = tables['0001'].reshape(-1, 137, 3)
    ann = by_id(data)['0001_2']  # frames 25-39
    mg22 = list(MG22_FROM_OPENPOSE137)
    np.testing.assert_allclose(
        ann['keypoint'][0, 5], full[30, mg22, :2], rtol=1e-6)
    np.testing.assert_allclose(
        ann['keypoint_score'][0, 5], full[30, mg22, 2], rtol=1e-6)
    # All 22 points come from the CSV alone for 0002.
    ann = by_id(data)['0002_0']  # frames 2-11
    full = tables['0002'].reshape(-1, 137, 3)
    np.testing.assert_allclose(
        ann['keypoint'][0], full[2:12, mg22, :2], rtol=1e-6)
    assert summary['light_hand_points'] == 1 + int(
        (full[:,
              list(range(25)) +
              [99, 103, 107, 111, 115, 120, 124, 128, 132, 136], 2] > 0).sum())
    # --ignore-light-hand: 0002 has no skeleton then.
    data, summary = convert(
        root, tmp_path / 'ignored', layout='mg22', light_hand=False)
    assert [s['video'] for s in summary['skipped']] == ['0002']
    assert 'no skeleton 0002_openpose.xlsx' in summary['skipped'][0]['reason']
