"""The light-hand CSV reader: with and without header or confidences."""
import numpy as np
import pytest

from mmmg.data_prep.light_hand import read_light_hand_csv
from mmmg.data_prep.release_jobs import ReleaseFormatError

# OpenPose-137: body 0-24, face 25-94, left hand 95-115, right 116-136; a
# hand's fingertips are its points 4, 8, 12, 16, 20.
TIPS_137 = [99, 103, 107, 111, 115, 120, 124, 128, 132, 136]


def write_csv(path, values, header=False, with_conf=True):
    """values: [T, 35, 3] -> rows of an index and the points."""
    lines = []
    width = 3 if with_conf else 2
    if header:
        lines.append(
            ','.join(['frame'] +
                     [f'p{i}_{c}' for i in range(35) for c in 'xyc'[:width]]))
    for t, row in enumerate(values):
        lines.append(','.join([str(t)] +
                              [f'{v:.3f}' for v in row[:, :width].ravel()]))
    path.write_text('\n'.join(lines) + '\n')


@pytest.mark.parametrize('header', [False, True])
def test_points_land_at_their_openpose_positions(tmp_path, header):
    rng = np.random.default_rng(0)
    values = np.round(rng.uniform(1, 700, (6, 35, 3)), 3)
    values[..., 2] = np.round(rng.uniform(0.1, 1, (6, 35)), 3)
    values[2, 30] = 0  # the right thumb tip missed in frame 2
    path = tmp_path / '0001_light_hand.csv'
    write_csv(path, values, header=header)
    out, invalid = read_light_hand_csv(str(path), '0001')
    assert out.shape == (6, 137, 3) and out.dtype == np.float32
    assert invalid == 0
    np.testing.assert_allclose(out[:, :25], values[:, :25], rtol=1e-6)
    np.testing.assert_allclose(out[:, TIPS_137], values[:, 25:], rtol=1e-6)
    others = np.setdiff1d(np.arange(137), list(range(25)) + TIPS_137)
    assert not out[:, others].any()
    assert not out[2, 120].any()


def test_coordinates_without_confidence_get_one_where_seen(tmp_path):
    values = np.full((3, 35, 3), 50.)
    values[1, 0] = 0
    path = tmp_path / 'x.csv'
    write_csv(path, values, with_conf=False)
    out, _ = read_light_hand_csv(str(path), '0001')
    assert out[0, 0, 2] == 1 and out[1, 0, 2] == 0


def test_bad_rows_name_the_line(tmp_path):
    path = tmp_path / 'bad.csv'
    path.write_text('0,1,2,3\n')
    with pytest.raises(ReleaseFormatError, match='line 1: 4 fields'):
        read_light_hand_csv(str(path), '0001')
    values = np.ones((2, 35, 3))
    write_csv(path, values)
    path.write_text(path.read_text() + '2,1,2\n')
    with pytest.raises(ReleaseFormatError, match='line 3: 3 fields'):
        read_light_hand_csv(str(path), '0001')
