import os

import numpy as np
import pytest
from matplotlib import cm
from matplotlib.colors import to_rgb
from matplotlib.image import imread

from mmmg.classes import IMIGUE_CLASSES
from mmmg.spotting import Segment, plot_timeline
from mmmg.spotting.timeline import DPI, GT_COLOR, class_color

FPS, T = 25, 3000  # two minutes
FACE, COVER = 'touch face', 'cover face'


def bar(image, color):
    """Rows and first/last column of a bar drawn in exactly this colour:
    the rows where it fills at least 20 pixels (not anti-aliased text),
    the longest run of its fullest row."""
    diff = np.abs(image[..., :3] - np.array(to_rgb(color))).max(axis=2)
    mask = diff < 2 / 255
    counts = mask.sum(axis=1)
    rows = np.flatnonzero(counts >= 20)
    assert len(rows), f'no bar of colour {color}'
    edges = np.diff(np.concatenate([[0], mask[counts.argmax()], [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    longest = np.argmax(ends - starts)
    return rows, starts[longest], ends[longest] - 1


@pytest.fixture(scope='module')
def picture(tmp_path_factory):
    path = str(tmp_path_factory.mktemp('timeline') / '0187_timeline.png')
    plot_timeline(
        path, [
            Segment(FACE, int(0.1 * T), int(0.3 * T), 0.9),
            Segment(COVER, int(0.6 * T), int(0.8 * T), 0.7)
        ],
        IMIGUE_CLASSES,
        T,
        FPS,
        ground_truth=[Segment(FACE, int(0.5 * T), int(0.9 * T))],
        title='0187')
    return path


def test_png_written_with_a_sane_size(picture):
    image = imread(picture)
    height, width = image.shape[:2]
    assert 8 * DPI <= width <= 20 * DPI
    assert 1.5 * DPI <= height <= 4 * DPI
    assert os.listdir(os.path.dirname(picture)) == ['0187_timeline.png']


def test_lanes_are_where_the_segments_are(picture):
    image = imread(picture)
    face_y, *face_x = bar(image, class_color(IMIGUE_CLASSES, FACE))
    cover_y, *cover_x = bar(image, class_color(IMIGUE_CLASSES, COVER))
    gt_y, *gt_x = bar(image, GT_COLOR)
    # On one time axis: prediction 10-30 %, GT 50-90 %, cover 60-80 %.
    width = gt_x[1] - gt_x[0]
    assert (face_x[1] - face_x[0]) / width == pytest.approx(0.5, 0.05)
    assert (cover_x[1] - cover_x[0]) / width == pytest.approx(0.5, 0.05)
    assert (face_x[0] - gt_x[0]) / width == pytest.approx(-1, 0.05)
    assert (cover_x[0] - gt_x[0]) / width == pytest.approx(0.25, 0.05)
    # Class rows in class-list order (touch face, index 3, on top); in a
    # row the prediction lane is above the ground-truth lane.
    assert face_y.max() < gt_y.min()
    assert gt_y.max() < cover_y.min()


def test_heat_strip(tmp_path):
    scores = np.full((T, len(IMIGUE_CLASSES)), 0.02)
    scores[:100] = np.nan  # no window: grey
    scores[1000:1500, 3] = 0.9  # bright yellow-green in viridis
    scores[2000:2500, 31] = 0.9  # the non-MG class: not shown
    path = str(tmp_path / 'heat.png')
    plot_timeline(
        path, [Segment(FACE, 1000, 1500)],
        IMIGUE_CLASSES,
        T,
        FPS,
        frame_scores=scores,
        background_class='illustrative')
    image = imread(path)
    grey_y, *grey_x = bar(image, '#bbbbbb')
    face_y, *face_x = bar(image, class_color(IMIGUE_CLASSES, FACE))
    # viridis at 0.9 is yellow-green.
    bright_y, *bright_x = bar(image, cm.viridis(0.9))
    # The strip is above the lanes; its bright part spans the segment, its
    # grey part the first 100 frames.
    assert grey_y.max() < face_y.min() and bright_y.max() < face_y.min()
    assert abs(bright_x[0] - face_x[0]) <= 2
    assert abs(bright_x[1] - face_x[1]) <= 2
    width = face_x[1] - face_x[0]
    assert (grey_x[1] - grey_x[0]) / width == pytest.approx(0.2, abs=0.02)


def test_no_segments_and_bad_input(tmp_path):
    path = str(tmp_path / 'empty.png')
    plot_timeline(path, [], IMIGUE_CLASSES, 100, FPS)
    assert imread(path).shape[1] == 8 * DPI
    with pytest.raises(ValueError, match="label 'waving' is not in"):
        plot_timeline(
            str(tmp_path / 'bad.png'), [Segment('waving', 0, 5)],
            IMIGUE_CLASSES, 100, FPS)
    with pytest.raises(ValueError, match=r'frame_scores must be \(100, 32'):
        plot_timeline(
            str(tmp_path / 'bad.png'), [],
            IMIGUE_CLASSES,
            100,
            FPS,
            frame_scores=np.zeros((99, 32)))
    assert sorted(os.listdir(tmp_path)) == ['empty.png']
