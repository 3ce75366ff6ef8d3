"""DecordInitSegment: stock samplers stay inside the segment; clear errors."""
import copy
import pickle

import numpy as np
import pytest
from mmaction.datasets.transforms import (DecordDecode, SampleFrames,
                                          UniformSample)

from mmmg.datasets.transforms import DecordInitSegment, VideoSegmentError
from mmmg.datasets.transforms.segment_decode import resolve_segment
from ...video_helpers import (decode_indices, make_faststart, truncate,
                              write_index_video)

NUM_FRAMES = 120
# (start, end): inside, at both ends of the video, and shorter than a clip.
SEGMENTS = [(37, 81), (0, 11), (100, 119), (60, 64), (9, 9)]
SAMPLERS = [
    SampleFrames(clip_len=8, frame_interval=2, num_clips=2),
    SampleFrames(clip_len=8, frame_interval=2, num_clips=3, test_mode=True),
    SampleFrames(clip_len=1, num_clips=4, test_mode=True),
    SampleFrames(clip_len=8, out_of_bound_opt='repeat_last'),
    UniformSample(clip_len=8),
    UniformSample(clip_len=8, num_clips=2, test_mode=True),
]


@pytest.fixture(scope='module')
def long_video(tmp_path_factory):
    return write_index_video(
        str(tmp_path_factory.mktemp('videos') / 'long.mp4'), NUM_FRAMES)


@pytest.mark.parametrize('sampler', SAMPLERS, ids=repr)
def test_stock_samplers_pick_frames_of_the_segment(long_video, sampler):
    init, decode = DecordInitSegment(), DecordDecode()
    np.random.seed(0)
    for start, end in SEGMENTS:
        for _ in range(3):  # random offsets in training mode
            results = init(
                dict(
                    filename=long_video,
                    start=start,
                    end=end,
                    sample_id='clip'))
            assert results['total_frames'] == end - start + 1
            assert results['start_index'] == start
            results = decode(sampler(results))
            inds = results['frame_inds']
            assert start <= inds.min() and inds.max() <= end, (start, end)
            # The decoded pixels are those frames of the long video.
            assert decode_indices(results['imgs']) == list(inds)


def test_whole_video_without_segment(long_video):
    results = DecordInitSegment()(dict(filename=long_video))
    assert results['total_frames'] == NUM_FRAMES
    assert results['start_index'] == 0
    assert results['avg_fps'] == pytest.approx(25)
    results = DecordDecode()(
        UniformSample(clip_len=4, test_mode=True)(results))
    assert decode_indices(results['imgs']) == list(results['frame_inds'])


def test_end_within_tolerance_is_clamped(long_video):
    init = DecordInitSegment(end_tolerance=3)
    results = init(dict(filename=long_video, start=110, end=NUM_FRAMES + 2))
    assert results['end'] == NUM_FRAMES - 1
    assert results['total_frames'] == NUM_FRAMES - 110
    assert resolve_segment(3, 5, 10, 0) == (3, 5)


@pytest.mark.parametrize('segment', [(100, NUM_FRAMES + 3), (NUM_FRAMES, 130),
                                     (200, 210)])
def test_segment_past_the_end_names_file_and_sample(long_video, segment):
    init = DecordInitSegment(end_tolerance=2)
    with pytest.raises(VideoSegmentError) as info:
        init(
            dict(
                filename=long_video,
                start=segment[0],
                end=segment[1],
                sample_id='0007_3'))
    message = str(info.value)
    assert "'0007_3'" in message and long_video in message
    assert f'{NUM_FRAMES} frames' in message


def test_malformed_segment(long_video):
    init = DecordInitSegment()
    with pytest.raises(VideoSegmentError, match='bad segment 9-4'):
        init(dict(filename=long_video, start=9, end=4, sample_id='a'))
    with pytest.raises(VideoSegmentError, match='both `start` and `end`'):
        init(dict(filename=long_video, start=9, sample_id='a'))
    with pytest.raises(ValueError, match='>= 0'):
        DecordInitSegment(cache_size=-1)


@pytest.mark.parametrize(
    'fast_start', [False, True], ids=['moov-last', 'fast-start'])
def test_truncated_video_names_file(tmp_path, fast_start):
    path = write_index_video(str(tmp_path / 'cut.mp4'), 60)
    if fast_start:
        # The header still lists all 60 frames; the data of most is gone.
        make_faststart(path)
    truncate(path, 0.6)
    with pytest.raises(VideoSegmentError) as info:
        DecordInitSegment()(
            dict(filename=path, start=0, end=9, sample_id='0001_0'))
    assert path in str(info.value) and "'0001_0'" in str(info.value)
    assert 'cannot open' in str(info.value)


def test_missing_and_empty_files(tmp_path):
    init = DecordInitSegment()
    missing = str(tmp_path / 'nope.mp4')
    with pytest.raises(VideoSegmentError, match='no such video file'):
        init(dict(filename=missing, start=0, end=3, sample_id='x'))
    empty = tmp_path / 'empty.mp4'
    empty.write_bytes(b'')
    with pytest.raises(VideoSegmentError, match=str(empty)):
        init(dict(filename=str(empty), sample_id='x'))


def test_decoding_error_names_file(long_video):
    # An index past the video: what DecordDecode meets when a file yields
    # fewer frames than its header promised.
    results = DecordInitSegment()(
        dict(filename=long_video, start=0, end=9, sample_id='s1'))
    results['frame_inds'] = np.array([5, NUM_FRAMES + 10])
    with pytest.raises(VideoSegmentError) as info:
        DecordDecode()(results)
    assert long_video in str(info.value) and "'s1'" in str(info.value)


def test_reader_cache(tmp_path, long_video):
    other = write_index_video(str(tmp_path / 'other.mp4'), 20)
    init = DecordInitSegment(cache_size=1)
    first = init(dict(filename=long_video, start=0, end=3))['video_reader']
    again = init(dict(filename=long_video, start=5, end=9))['video_reader']
    assert first._reader is again._reader
    init(dict(filename=other))  # evicts the long video (LRU of size 1)
    third = init(dict(filename=long_video, start=5, end=9))['video_reader']
    assert third._reader is not first._reader
    assert list(init._readers) == [long_video]

    no_cache = DecordInitSegment(cache_size=0)
    a = no_cache(dict(filename=long_video))['video_reader']
    b = no_cache(dict(filename=long_video))['video_reader']
    assert a._reader is not b._reader and not no_cache._readers

    # Copies (worker processes, deep-copied configs) start with no readers.
    for clone in (pickle.loads(pickle.dumps(init)), copy.deepcopy(init)):
        assert not clone._readers and clone.cache_size == 1
        results = clone(dict(filename=long_video, start=2, end=2))
        assert results['total_frames'] == 1
    assert 'cache_size=1' in repr(init)


def test_decode_size_scales_the_same_frames(long_video):
    size = (80, 40)  # (width, height), another aspect ratio than the video
    init = DecordInitSegment(decode_size=size)
    results = init(dict(filename=long_video, start=37, end=81))
    results = DecordDecode()(
        SampleFrames(clip_len=8, frame_interval=2, test_mode=True)(results))
    assert results['img_shape'] == (40, 80)
    assert all(img.shape == (40, 80, 3) for img in results['imgs'])
    # Scaling keeps the content: the same frames as at full size.
    assert decode_indices(results['imgs']) == list(results['frame_inds'])
    assert 'decode_size=(80, 40)' in repr(init)
    with pytest.raises(ValueError, match='decode_size'):
        DecordInitSegment(decode_size=(0, 32))
