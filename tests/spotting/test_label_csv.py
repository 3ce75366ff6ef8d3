import os

import pytest

from mmmg.classes import IMIGUE_CLASSES, miga_label_to_index
from mmmg.data_prep.imigue_release import read_label_csv as release_rows
from mmmg.spotting import Segment, read_label_csv, write_label_csv
from mmmg.utils.cli import DataFileError


def test_write_official_layout(tmp_path):
    path = str(tmp_path / '0187_pred.csv')
    write_label_csv(path, [
        Segment('illustrative', 40, 60, 0.7),
        Segment('turtle neck', 0, 10, 0.9),
        Segment('shake shoulder', 100, 101)
    ])
    # Sorted by start, raw MiGA classes (99 = non-MG), end inclusive.
    assert open(path).read() == '1,0,9\n99,40,59\n31,100,100\n'
    assert os.listdir(tmp_path) == ['0187_pred.csv']
    assert read_label_csv(path) == [
        Segment('turtle neck', 0, 10),
        Segment('illustrative', 40, 60),
        Segment('shake shoulder', 100, 101)
    ]


def test_reads_what_the_release_converter_reads(tmp_path):
    # A spreadsheet export: BOM, padded rows, 12.0, a blank line.
    path = tmp_path / '0003_label.csv'
    path.write_text(
        '\ufeff4,10,29,,\n99,40,59\n\n12.0,100,149\n', encoding='utf-8')
    rows = release_rows(str(path), '0003')
    assert read_label_csv(str(path)) == [
        Segment(IMIGUE_CLASSES[miga_label_to_index(raw)], start, end + 1)
        for raw, start, end in rows
    ]
    assert [s.label for s in read_label_csv(str(path))
            ] == ['touch face', 'illustrative', 'touch neck']


def test_empty_list_round_trips(tmp_path):
    path = str(tmp_path / 'empty.csv')
    write_label_csv(path, [])
    assert open(path).read() == ''
    assert read_label_csv(path) == []


def test_custom_mapping(tmp_path):
    path = str(tmp_path / 'smg.csv')
    write_label_csv(path, [Segment('x', 5, 8)], class_to_raw={'x': 17})
    assert open(path).read() == '17,5,7\n'
    assert read_label_csv(path, raw_to_class={17: 'x'}) == [Segment('x', 5, 8)]


def test_unknown_label_is_refused_before_writing(tmp_path):
    path = str(tmp_path / 'x.csv')
    with pytest.raises(
            ValueError, match=r"no raw class for label\(s\) "
            r"\['waving'\]"):
        write_label_csv(path, [Segment('waving', 0, 4)])
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize('text,message', [
    ('4,10,29\n4,10\n', "line 2: expected 3 fields class,start,end, got 2: "
     "'4,10'"),
    ('4,1x,29\n', "line 1: non-integer field in '4,1x,29'"),
    ('4,10,29\n\n50,0,9\n', 'row 1: unknown raw class 50 (known: 1-99)'),
    ('4,30,29\n', 'line 1: bad segment start=30 end=29'),
    ('4,-1,29\n', 'line 1: bad segment start=-1'),
])
def test_bad_rows_name_file_and_line(tmp_path, text, message):
    path = tmp_path / '0005_label.csv'
    path.write_text(text)
    with pytest.raises(DataFileError) as info:
        read_label_csv(str(path))
    assert str(info.value).startswith(f'{path}: {message}')
