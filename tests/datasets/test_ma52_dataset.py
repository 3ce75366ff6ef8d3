"""MA52Dataset: list parsing, body-level labels, training target choice."""
import numpy as np
import pytest
from mmaction.datasets.transforms import DecordDecode, SampleFrames

from mmmg.classes import MA52_ACTION_TO_BODY
from mmmg.datasets import (MA52_ACTION_CLASSES, MA52_BODY_CLASSES,
                           MA52_BODY_RANGES, MA52Dataset, ma52_body_label)
from mmmg.datasets.transforms import DecordInitSegment, PackMGInputs
from ..video_helpers import decode_indices, write_index_video


def _write(path, lines):
    path.write_text(''.join(line + '\n' for line in lines))
    return str(path)


def test_class_lists_and_body_mapping():
    assert len(MA52_ACTION_CLASSES) == 52 and len(MA52_BODY_CLASSES) == 7
    sizes = np.bincount(MA52_ACTION_TO_BODY)
    assert list(sizes) == [5, 6, 13, 8, 6, 10, 4]
    # Both ends of every range.
    for body, (first, last) in enumerate(MA52_BODY_RANGES):
        assert ma52_body_label(first) == ma52_body_label(last) == body
    assert [ma52_body_label(a) for a in (4, 5, 10, 11, 23, 24, 31, 32, 37,
                                         38, 47, 48, 51)] == \
        [0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6]
    assert ma52_body_label(-1) == -1
    for bad in (52, -2):
        with pytest.raises(ValueError, match=f'action label {bad}'):
            ma52_body_label(bad)


def test_train_list(tmp_path):
    ann = _write(
        tmp_path / 'train_list_videos.txt',
        ['0001_01_0001.mp4 0', '0001_01_0002.mp4 11', '0203_07_0031.mp4 51'])
    dataset = MA52Dataset(ann, [], data_prefix=dict(video='/data/ma52/train'))
    assert len(dataset) == 3
    assert dataset.metainfo['classes'] == MA52_ACTION_CLASSES
    assert dataset.metainfo['body_classes'] == MA52_BODY_CLASSES
    info = dataset.get_data_info(1)
    assert info['filename'] == '/data/ma52/train/0001_01_0002.mp4'
    assert info['sample_id'] == '0001_01_0002'
    assert (info['label'], info['action_label'], info['body_label']) == \
        (11, 11, 2)

    body = MA52Dataset(ann, [], label_level='body')
    assert body.metainfo['classes'] == MA52_BODY_CLASSES
    assert [body.get_data_info(i)['label'] for i in range(3)] == [0, 2, 6]
    assert body.get_data_info(2)['action_label'] == 51


def test_test_list_without_labels(tmp_path):
    hidden = MA52Dataset(
        _write(tmp_path / 'test_list_videos.txt',
               ['test0000.mp4', 'test0001.mp4']), [],
        label_level='body')
    info = hidden.get_data_info(0)
    assert info['sample_id'] == 'test0000'
    assert (info['label'], info['action_label'], info['body_label']) == \
        (-1, -1, -1)
    # A placeholder label is kept as it is.
    placeholder = MA52Dataset(
        _write(tmp_path / 'test_placeholder.txt', ['test0000.mp4 0']), [])
    assert placeholder.get_data_info(0)['label'] == 0


def test_bad_lists(tmp_path):
    with pytest.raises(
            ValueError,
            match=r"line 2: sample '0001_01_0002' "
            r'has label 52, outside \[0, 52\)'):
        MA52Dataset(
            _write(tmp_path / 'a.txt',
                   ['0001_01_0001.mp4 3', '0001_01_0002.mp4 52']), [],
            label_level='body')
    with pytest.raises(ValueError, match='label_level'):
        MA52Dataset(
            _write(tmp_path / 'b.txt', ['x.mp4 1']), [], label_level='hand')
    with pytest.raises(ValueError, match='5 fields, but this is a clip list'):
        MA52Dataset(_write(tmp_path / 'c.txt', ['a v.mp4 0 4 1']), [])


def test_decodes_clips_with_both_labels(tmp_path):
    write_index_video(str(tmp_path / 'clips' / '0001_01_0001.mp4'), 20)
    ann = _write(tmp_path / 'val_list_videos.txt', ['0001_01_0001.mp4 40'])
    pipeline = [
        DecordInitSegment(),
        SampleFrames(clip_len=4, test_mode=True),
        DecordDecode(),
        PackMGInputs(meta_keys=('action_label', 'body_label'))
    ]
    dataset = MA52Dataset(
        ann,
        pipeline,
        label_level='body',
        data_prefix=dict(video=str(tmp_path / 'clips')))
    sample = dataset[0]
    meta = sample['data_samples'].metainfo
    assert meta['sample_id'] == '0001_01_0001'
    assert (meta['action_label'], meta['body_label']) == (40, 5)
    assert int(sample['data_samples'].gt_labels.item) == 5
    frames = sample['inputs'].numpy()
    # Test mode: 4 consecutive frames from the middle of the 20.
    assert decode_indices(frames) == [8, 9, 10, 11]
