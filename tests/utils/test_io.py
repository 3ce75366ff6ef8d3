import os

import pytest

from mmmg.utils.io import atomic_open, atomic_path, partial_path


def test_atomic_open_publishes_with_normal_permissions(tmp_path):
    path = str(tmp_path / 'scores.pkl')
    old = os.umask(0o027)
    try:
        with atomic_open(path) as f:
            f.write(b'data')
            assert not os.path.exists(path)
            # Tagged by process: processes may write the same file.
            assert os.listdir(tmp_path) == [
                f'.scores.partial{os.getpid()}.pkl'
            ]
    finally:
        os.umask(old)
    assert open(path, 'rb').read() == b'data'
    assert os.stat(path).st_mode & 0o777 == 0o640
    assert os.listdir(tmp_path) == ['scores.pkl']


def test_failed_write_leaves_nothing(tmp_path):
    path = str(tmp_path / 'a.txt')
    with pytest.raises(ValueError):
        with atomic_open(path, 'w') as f:
            f.write('half')
            raise ValueError('killed')
    assert os.listdir(tmp_path) == []


def test_atomic_path_keeps_the_extension_and_needs_a_file(tmp_path):
    path = str(tmp_path / 'clip.mp4')
    assert partial_path(path) == str(tmp_path / '.clip.partial.mp4')
    with pytest.raises(FileNotFoundError, match='clip.mp4'):
        with atomic_path(path):
            pass
    assert os.listdir(tmp_path) == []
