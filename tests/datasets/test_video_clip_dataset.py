"""MGVideoClipDataset: segment and clip lists, stock pipelines, sample ids."""
import os.path as osp

import numpy as np
import pytest
import torch
from mmaction.datasets.transforms import DecordDecode, DecordInit, SampleFrames
from mmaction.utils import register_all_modules

from mmmg.datasets import IMIGUE_CLASSES, MGVideoClipDataset, read_video_list
from mmmg.utils.cli import DataFileError
from ..video_helpers import decode_indices, write_index_video


@pytest.fixture(scope='module', autouse=True)
def mmaction_scope():
    # Pipelines given as config dicts are built in the mmaction scope.
    register_all_modules()


def _write(path, lines):
    path.write_text(''.join(line + '\n' for line in lines))
    return str(path)


def _train_pipeline(clip_len=8, num_clips=1, test_mode=False):
    return [
        dict(type='DecordInitSegment'),
        dict(
            type='SampleFrames',
            clip_len=clip_len,
            frame_interval=1,
            num_clips=num_clips,
            test_mode=test_mode),
        dict(type='DecordDecode'),
        dict(type='Resize', scale=(64, 64), keep_ratio=False),
        dict(type='FormatShape', input_format='NCTHW'),
        dict(type='PackMGInputs'),
    ]


def test_toy_release_end_to_end(toy_imigue):
    # ``rgb_{split}.txt`` lists of the toy release, straight from the
    # converter.
    root, out = toy_imigue['release'], toy_imigue['annotations']
    ann_file = osp.join(out, 'rgb_train.txt')
    dataset = MGVideoClipDataset(
        ann_file, _train_pipeline(), data_prefix=dict(video=root))
    _, entries = read_video_list(ann_file)
    assert len(dataset) == len(entries) > 0
    assert dataset.list_format == 'segment'
    assert dataset.metainfo['classes'] == IMIGUE_CLASSES
    for index, entry in enumerate(entries):
        info = dataset.get_data_info(index)
        assert info['filename'] == osp.join(root, entry.video)
        assert (info['start'], info['end']) == (entry.start, entry.end)
        sample = dataset[index]
        assert sample['inputs'].shape == (1, 3, 8, 64, 64)
        assert sample['inputs'].dtype == torch.uint8
        data_sample = sample['data_samples']
        assert data_sample.metainfo['sample_id'] == entry.sample_id
        assert int(data_sample.gt_labels.item) == entry.label

    # Test-mode sampling of several clips.
    test_set = MGVideoClipDataset(
        osp.join(out, 'rgb_test.txt'),
        _train_pipeline(num_clips=3, test_mode=True),
        data_prefix=dict(video=root),
        test_mode=True)
    sample = test_set[0]
    assert sample['inputs'].shape == (3, 3, 8, 64, 64)
    assert sample['data_samples'].metainfo['sample_id'] == \
        read_video_list(osp.join(out, 'rgb_test.txt'))[1][0].sample_id


def test_segments_decode_their_own_frames(tmp_path):
    video = write_index_video(str(tmp_path / 'videos' / '0001.mp4'), 90)
    ann = _write(
        tmp_path / 'rgb.txt',
        [
            '0001_0 0001.mp4 10 29 3',
            '0001_1 0001.mp4 50 53 31',  # shorter than the clip: loops
            '0001_2 0001.mp4 70 89 0',
        ])
    pipeline = [
        dict(type='DecordInitSegment'),
        dict(type='SampleFrames', clip_len=8, num_clips=2),
        dict(type='DecordDecode')
    ]
    dataset = MGVideoClipDataset(
        ann, pipeline, data_prefix=dict(video=osp.dirname(video)))
    bounds = {'0001_0': (10, 29), '0001_1': (50, 53), '0001_2': (70, 89)}
    for index in range(len(dataset)):
        results = dataset[index]
        start, end = bounds[results['sample_id']]
        frames = decode_indices(results['imgs'])
        assert frames == list(results['frame_inds'])
        assert min(frames) >= start and max(frames) <= end


def test_worker_processes_read_correct_frames(tmp_path):
    """Readers opened in the main process are not reused after fork."""
    video = write_index_video(str(tmp_path / 'v.mp4'), 60)
    lines = [
        f'c{i} v.mp4 {s} {s + 9} 1' for i, s in enumerate(range(0, 50, 10))
    ]
    pipeline = [
        dict(type='DecordInitSegment'),
        dict(type='SampleFrames', clip_len=4, test_mode=True),
        dict(type='DecordDecode'),
        dict(type='FormatShape', input_format='NCTHW'),
        dict(type='PackMGInputs')
    ]
    dataset = MGVideoClipDataset(
        _write(tmp_path / 'l.txt', lines),
        pipeline,
        data_prefix=dict(video=osp.dirname(video)))
    expected = {}
    for index in range(len(dataset)):  # fills the main process's cache
        sample = dataset[index]
        expected[sample['data_samples'].metainfo['sample_id']] = \
            sample['inputs']
    # ``timeout`` turns a deadlocked worker into an error, not a hang.
    loader = torch.utils.data.DataLoader(
        dataset,
        batch_size=None,
        num_workers=2,
        multiprocessing_context='fork',
        timeout=120)
    for sample in loader:
        sample_id = sample['data_samples'].metainfo['sample_id']
        assert torch.equal(sample['inputs'], expected[sample_id])


def test_pre_cut_clip_list(tmp_path):
    clips = tmp_path / 'clips'
    write_index_video(str(clips / '0001_0.mp4'), 12)
    write_index_video(str(clips / 'sub' / '0002_4.mp4'), 30)
    ann = _write(tmp_path / 'clips.txt', ['0001_0.mp4 5', 'sub/0002_4.mp4'])
    pipeline = [
        dict(type='DecordInitSegment'),
        dict(type='UniformSample', clip_len=6, test_mode=True),
        dict(type='DecordDecode')
    ]
    dataset = MGVideoClipDataset(
        ann, pipeline, data_prefix=dict(video=str(clips)))
    assert dataset.list_format == 'clip'
    first, second = dataset[0], dataset[1]
    assert (first['sample_id'], first['label']) == ('0001_0', 5)
    assert (second['sample_id'], second['label']) == ('sub/0002_4', -1)
    for results, length in ((first, 12), (second, 30)):
        assert results['total_frames'] == length
        assert results['start_index'] == 0
        assert decode_indices(results['imgs']) == list(results['frame_inds'])
    # Stock DecordInit reads pre-cut clips too.
    stock = MGVideoClipDataset(
        ann,
        [DecordInit(), SampleFrames(clip_len=4),
         DecordDecode()],
        data_prefix=dict(video=str(clips)),
        list_format='clip')
    results = stock[1]
    assert decode_indices(results['imgs']) == list(results['frame_inds'])


def test_list_parsing(tmp_path):
    fmt, entries = read_video_list(
        _write(tmp_path / 'a.txt', [
            '# clip video start end label', '', 'a v/1.mp4 0 4 2',
            'b v/1.mp4 5 9'
        ]))
    assert fmt == 'segment'
    assert entries[0].sample_id == 'a' and entries[0].line_no == 3
    assert (entries[1].start, entries[1].end, entries[1].label) == (5, 9, -1)
    fmt, entries = read_video_list(_write(tmp_path / 'b.txt', ['x.mp4 1']))
    assert fmt == 'clip' and entries[0].sample_id == 'x'

    bad = {
        'c.txt': (['a v.mp4 0 4 2', 'b.mp4 3'], 'line 2: 2 fields, but this '
                  'is a segment list'),
        'd.txt': (['a v.mp4 0 x 2'], "line 1: end 'x' is not an integer"),
        'e.txt': (['a v.mp4 5 4 2'], 'bad segment 5-4'),
        'f.txt': (['a v.mp4 0 4 1',
                   'a v.mp4 5 6 1'], "line 2: sample id 'a' also on line 1"),
        'g.txt': (['a b c'], 'line 1: 3 fields'),
        'h.txt': (['a.mp4 -2'], 'label -2 is negative'),
        'i.txt': ([], 'no samples'),
    }
    for name, (lines, message) in bad.items():
        with pytest.raises(ValueError, match=message):
            read_video_list(_write(tmp_path / name, lines))
    with pytest.raises(ValueError, match='1 fields, but this is a segment'):
        read_video_list(_write(tmp_path / 'j.txt', ['x.mp4']), 'segment')
    with pytest.raises(ValueError, match='list_format'):
        read_video_list(str(tmp_path / 'a.txt'), 'frames')


def test_dataset_checks(tmp_path):
    segments = _write(tmp_path / 's.txt', ['0001_0 v.mp4 0 4 32'])
    with pytest.raises(
            ValueError,
            match=r"line 1: sample '0001_0' has "
            r'label 32, outside \[0, 32\)'):
        MGVideoClipDataset(segments, [])
    # A smaller class list moves the bound; custom metainfo is kept.
    dataset = MGVideoClipDataset(
        _write(tmp_path / 't.txt', ['0001_0 v.mp4 0 4 2']), [],
        classes=('a', 'b', 'c'),
        metainfo=dict(fps=25))
    assert dataset.metainfo['classes'] == ('a', 'b', 'c')
    assert dataset.metainfo['fps'] == 25
    with pytest.raises(
            ValueError, match='DecordInit, which samples the '
            'whole long video'):
        MGVideoClipDataset(str(tmp_path / 't.txt'), [dict(type='DecordInit')])
    with pytest.raises(ValueError, match='list_format'):
        MGVideoClipDataset(str(tmp_path / 't.txt'), [], list_format='x')
    with pytest.raises(ValueError, match='5 fields, but this is a clip'):
        MGVideoClipDataset(str(tmp_path / 't.txt'), [], list_format='clip')


def test_missing_video_names_sample(tmp_path):
    dataset = MGVideoClipDataset(
        _write(tmp_path / 'm.txt', ['0009_2 gone/0009.mp4 0 4 1']),
        [dict(type='DecordInitSegment')],
        data_prefix=dict(video=str(tmp_path)))
    with pytest.raises(
            Exception,
            match=r"sample '0009_2': .*gone/0009\.mp4: "
            'no such video file'):
        dataset[0]
    assert np.isscalar(dataset.get_data_info(0)['start'])


def test_undecodable_video_named_or_skipped(tmp_path):
    write_index_video(str(tmp_path / 'good.mp4'), 20)
    (tmp_path / 'bad.mp4').write_bytes(b'\x00not a video' * 50)
    ann = _write(tmp_path / 'l.txt', ['bad.mp4 1', 'good.mp4 2'])
    prefix = dict(video=str(tmp_path))
    dataset = MGVideoClipDataset(ann, _train_pipeline(), data_prefix=prefix)
    with pytest.raises(
            DataFileError,
            match=r"l\.txt: sample 'bad' \(.*"
            r'bad\.mp4\): .*skip_bad_videos=True'):
        dataset[0]
    skipping = MGVideoClipDataset(
        ann, _train_pipeline(), data_prefix=prefix, skip_bad_videos=True)
    assert skipping[0]['data_samples'].sample_id == 'good'
    # Testing never skips: the score file would lack the sample.
    testing = MGVideoClipDataset(
        ann,
        _train_pipeline(test_mode=True),
        data_prefix=prefix,
        skip_bad_videos=True,
        test_mode=True)
    with pytest.raises(DataFileError, match="sample 'bad'"):
        testing[0]
