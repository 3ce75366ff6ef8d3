"""decoding: in-order chunked decoding of real encoded videos, at full and
reduced size, and its errors."""
import numpy as np
import pytest

from mmmg.data_prep.video_jobs import VideoReadError, VideoStream
from mmmg.pose_extraction.decoding import FrameReader, scaled_frame_size
from ..data_prep.synthetic_video import write_garbage_video
from .tiny_onnx import blob_path, write_blob_video, write_half_corrupt_video


@pytest.fixture(scope='module')
def video(tmp_path_factory):
    path = tmp_path_factory.mktemp('decoding') / 'blob.mp4'
    return write_blob_video(path, blob_path(20, gaps=(3, )))


def test_frames_are_those_of_random_access_decoding(video):
    with VideoStream(video) as stream:
        expected = stream.read(range(20))
    with FrameReader(video) as reader:
        assert (reader.num_frames, reader.size) == (20, (160, 120))
        assert reader.factors == (1, 1) and reader.fps == pytest.approx(25)
        chunks = list(reader.chunks(8))
    assert [len(c) for c in chunks] == [8, 8, 4]
    np.testing.assert_array_equal(np.concatenate(chunks), expected)


def test_reduced_size_decoding(video):
    with VideoStream(video) as stream:
        full = stream.read(range(20)).astype(np.float32)
    # A callable scale sees the full size.
    with FrameReader(video, lambda w, h: 80 / w) as reader:
        assert (reader.width, reader.height) == (160, 120)
        assert reader.size == (80, 60) and reader.factors == (0.5, 0.5)
        small = np.concatenate(list(reader.chunks(6))).astype(np.float32)
    assert small.shape == (20, 60, 80, 3)
    # Each small pixel is about the mean of its 2x2 block.
    blocks = full.reshape(20, 60, 2, 80, 2, 3).mean((2, 4))
    assert np.abs(small - blocks).max() < 8
    assert scaled_frame_size(1280, 720, 0.12) == (154, 86)
    assert scaled_frame_size(160, 120, 0.1) == (32, 32)  # least size
    assert scaled_frame_size(1279, 719, 1) == (1279, 719)
    for bad in (0, 1.5):
        with pytest.raises(ValueError, match='decode scale'):
            scaled_frame_size(160, 120, bad)


def test_errors_name_the_video(tmp_path, video):
    with pytest.raises(VideoReadError, match='no such file'):
        FrameReader(str(tmp_path / 'none.mp4'))
    garbage = write_garbage_video(str(tmp_path / 'garbage.mp4'))
    with pytest.raises(VideoReadError, match='garbage.mp4: cannot open'):
        FrameReader(garbage)
    half = write_half_corrupt_video(tmp_path / 'half.mp4')
    # Where decoding fails depends on FFmpeg's decoder thread: while
    # opening or at a later frame; either way the error names the file.
    with pytest.raises(VideoReadError, match='half.mp4: cannot decode frame'):
        with FrameReader(half) as reader:
            for _ in reader.chunks(4):
                pass
    with pytest.raises(ValueError, match='chunk_size'):
        next(FrameReader(video).chunks(0))
