"""convert: pose files to other layouts and to the annotation pickle."""
import os.path as osp
import pickle

import numpy as np
import pytest

from mmmg.keypoints.layouts import conversion_targets, get_layout
from mmmg.pose_extraction.convert import (build_annotations, find_pose_files,
                                          load_pose_file, pose_in_layout,
                                          split_lists, write_annotations)
from mmmg.pose_extraction.extractor import save_pose_file

WB = get_layout('coco_wholebody133')


def pose_record(frames, seed=0, shape=(720, 1280)):
    rng = np.random.default_rng(seed)
    found = np.ones(frames, bool)
    found[frames // 2] = False
    keypoint = rng.uniform(10, 500, (frames, 133, 2)).astype(np.float32)
    score = rng.uniform(0.2, 1, (frames, 133)).astype(np.float32)
    keypoint[~found], score[~found] = 0, 0
    return dict(
        keypoint=keypoint,
        keypoint_score=score,
        bbox=np.zeros((frames, 4), np.float32),
        bbox_score=found.astype(np.float32),
        person_found=found,
        img_shape=np.array(shape),
        fps=25.0,
        total_frames=frames,
        layout='coco_wholebody133',
        backend='onnxruntime',
        model='m.onnx',
        detector='whole_frame')


@pytest.fixture
def pose_dir(tmp_path):
    root = tmp_path / 'pose'
    (root / 'a').mkdir(parents=True)
    save_pose_file(str(root / 'a' / '0001.npz'), pose_record(40, 1))
    save_pose_file(str(root / '0002.pkl'), pose_record(12, 2))
    (root / 'a' / '.0003.partial.npz').write_bytes(b'')  # unfinished
    (root / 'failures.jsonl').write_text('')
    return str(root)


def test_every_layout_target_converts():
    record = pose_record(6)
    for target in conversion_targets('coco_wholebody133'):
        kp, score = pose_in_layout(record, target)
        v = get_layout(target).num_keypoints
        assert kp.shape == (6, v, 2) and score.shape == (6, v), target
        assert kp.dtype == np.float32
        assert (kp[3] == 0).all() and (score[3] == 0).all()  # no person
    kp, score = pose_in_layout(record, 'mg36')
    mg36 = get_layout('mg36')
    neck = mg36.names.index('neck')
    shoulders = [WB.names.index(f'{s}_shoulder') for s in ('left', 'right')]
    np.testing.assert_allclose(kp[:, neck],
                               record['keypoint'][:, shoulders].mean(1))
    np.testing.assert_allclose(score[:, neck],
                               record['keypoint_score'][:, shoulders].min(1))
    wrist = mg36.names.index('left_wrist')
    np.testing.assert_array_equal(
        kp[:, wrist], record['keypoint'][:, WB.names.index('left_wrist')])


def test_whole_videos_to_the_annotation_pickle(tmp_path, pose_dir):
    assert find_pose_files(pose_dir) == ['0002.pkl', osp.join('a', '0001.npz')]
    data, report = build_annotations(pose_dir, 'mg36')
    assert report.skipped == []
    assert data['split'] == {'all': ['0002', 'a/0001']}
    first = data['annotations'][1]
    assert first['frame_dir'] == 'a/0001' and first['label'] == -1
    assert first['total_frames'] == 40
    assert first['img_shape'] == first['original_shape'] == (720, 1280)
    assert first['keypoint'].shape == (1, 40, 36, 2)
    assert first['keypoint'].dtype == np.float32
    assert first['keypoint_score'].shape == (1, 40, 36)
    out = str(tmp_path / 'ann' / 'pose.pkl')
    write_annotations(out, data)
    with open(out, 'rb') as f:
        assert pickle.load(f)['split'] == data['split']


def test_segment_lists_give_clips(tmp_path, pose_dir):
    train = tmp_path / 'rgb_train.txt'
    train.write_text('0001_0 a/0001.mp4 5 14 3\n'
                     '0001_1 a/0001.mp4 30 42 31\n'  # 2 past the end
                     '0002_0 0002.mp4 0 11 7\n'
                     '0009_0 0009.mp4 0 5 1\n')  # never extracted
    test = tmp_path / 'rgb_test.txt'
    test.write_text('0002_1 0002.mp4 3 4\n')
    data, report = build_annotations(
        pose_dir, 'coco_wholebody133',
        split_lists([f'train={train}', f'test={test}']))
    assert data['split'] == {
        'train': ['0001_0', '0001_1', '0002_0'],
        'test': ['0002_1']
    }
    assert len(report.skipped) == 1 and '0009_0' in report.skipped[0] \
        and 'no pose file for 0009.mp4' in report.skipped[0]
    by_id = {a['frame_dir']: a for a in data['annotations']}
    source = load_pose_file(osp.join(pose_dir, 'a', '0001.npz'))
    clip = by_id['0001_0']
    assert (clip['label'], clip['total_frames'], clip['start'],
            clip['end']) == (3, 10, 5, 14)
    np.testing.assert_array_equal(clip['keypoint'][0],
                                  source['keypoint'][5:15])
    np.testing.assert_array_equal(clip['keypoint_score'][0],
                                  source['keypoint_score'][5:15])
    assert by_id['0001_1']['total_frames'] == 10  # clamped to frame 39
    assert by_id['0002_1']['label'] == -1
    with pytest.raises(ValueError, match='0009_0.*no pose file'):
        build_annotations(pose_dir, 'mg36', {'train': str(train)}, strict=True)


def test_bad_inputs_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match='nope.npz'):
        load_pose_file(str(tmp_path / 'nope.npz'))
    junk = tmp_path / 'junk.npz'
    junk.write_bytes(b'junk')
    with pytest.raises(ValueError, match='junk.npz: not a readable'):
        load_pose_file(str(junk))
    partial = tmp_path / 'partial.npz'
    np.savez(partial, keypoint=np.zeros(3))
    with pytest.raises(
            ValueError,
            match='partial.npz: not a pose file, it '
            'lacks keypoint_score'):
        load_pose_file(str(partial))
    with pytest.raises(NotADirectoryError, match='missing'):
        build_annotations(str(tmp_path / 'missing'), 'mg36')
    with pytest.raises(ValueError, match='SPLIT=LIST'):
        split_lists(['rgb_train.txt'])
    with pytest.raises(ValueError, match='twice'):
        split_lists(['a=x', 'a=y'])
