"""MMDecodeSegment: RGB frames of a clip come from its segment of the long
video, aligned with the clip's skeleton."""
import pickle

import decord
import numpy as np
import pytest
from mmaction.registry import TRANSFORMS
from mmaction.utils import register_all_modules

import mmmg  # noqa: F401
from mmmg.datasets import MGPoseDataset
from mmmg.datasets.transforms.segment_decode import VideoSegmentError


@pytest.fixture(scope='module')
def dataset(toy_imigue):
    register_all_modules()
    return MGPoseDataset(
        toy_imigue['ann_file'],
        pipeline=[],
        split='train',
        data_prefix=dict(video=toy_imigue['release']))


def _decode(info, rgb_inds):
    results = dict(
        info,
        modality=['RGB', 'Pose'],
        RGB_inds=np.asarray(rgb_inds),
        Pose_inds=np.arange(info['total_frames']))
    return TRANSFORMS.build(dict(type='MMDecodeSegment'))(results)


def test_frames_come_from_the_segment(dataset):
    info = dataset.get_data_info(1)
    assert info['frame_dir'] == info['sample_id'] != info['filename']
    reader = decord.VideoReader(info['filename'])
    inds = [0, 3, info['total_frames'] - 1]
    results = _decode(info, inds)
    expected = reader.get_batch([info['start'] + i for i in inds]).asnumpy()
    assert np.array_equal(np.stack(results['imgs']), expected)
    # Other frames of the long video differ: the offset matters.
    assert not np.array_equal(
        np.stack(results['imgs']),
        reader.get_batch(inds).asnumpy())
    assert results['keypoint'].shape[1] == info['total_frames']


def test_keypoints_scaled_to_decoded_frames(dataset):
    info = dataset.get_data_info(0)
    kp = info['keypoint'].copy()
    info = dict(info, img_shape=(360, 640))  # pretend a 2x annotation
    results = _decode(info, [0])
    h, w = results['imgs'][0].shape[:2]
    assert results['img_shape'] == (h, w)
    np.testing.assert_allclose(
        results['keypoint'][..., 0], kp[..., 0] * w / 640, rtol=1e-5)


def test_bad_video_names_sample_and_file(dataset, tmp_path):
    info = dataset.get_data_info(0)
    broken = tmp_path / 'broken.mp4'
    broken.write_bytes(b'not a video')
    with pytest.raises(
            VideoSegmentError,
            match=f"{info['sample_id']}.*broken.mp4.*cannot open"):
        _decode(dict(info, filename=str(broken)), [0])
    with pytest.raises(
            VideoSegmentError,
            match=f"{info['sample_id']}.*does not fit the video"):
        _decode(dict(info, start=100000), [0])


def test_dataset_requires_video_paths(toy_imigue, tmp_path):
    with open(toy_imigue['ann_file'], 'rb') as f:
        data = pickle.load(f)
    for a in data['annotations']:
        a.pop('video_path')
    ann = tmp_path / 'no_video.pkl'
    ann.write_bytes(pickle.dumps(data))
    with pytest.raises(ValueError, match='no `video_path`'):
        MGPoseDataset(
            str(ann),
            pipeline=[],
            split='train',
            data_prefix=dict(video=toy_imigue['release']))
