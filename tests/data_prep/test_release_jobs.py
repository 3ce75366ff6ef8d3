from types import SimpleNamespace

import numpy as np
import pytest

from mmmg.data_prep.release_jobs import (ReleaseFormatError, clip_annotation,
                                         convert_each, empty_splits)


def convert(item):
    if item.vid == 'bad':
        raise ReleaseFormatError('bad', 'bad.csv', 'row 3: no label')
    if item.vid == 'bug':
        raise KeyError('oops')
    return SimpleNamespace(split=item.split, vid=item.vid)


ITEMS = [
    SimpleNamespace(vid=v, split=s)
    for v, s in [('a', 'train'), ('bad', 'val'), ('bug', 'test')]
]


def test_convert_each_skips_or_stops():
    results, skipped = convert_each(
        ITEMS, convert, 'video', 'vid', progress=False)
    assert [r.vid for r in results] == ['a']
    assert skipped[0] == dict(
        video='bad', file='bad.csv', reason='row 3: no label')
    assert skipped[1]['video'] == 'bug' and skipped[1]['file'] is None
    assert skipped[1]['reason'] == "video bug: KeyError: 'oops'"
    # An empty split must not pass quietly.
    assert empty_splits([i.split for i in ITEMS], results) == ['test', 'val']
    with pytest.raises(ReleaseFormatError, match='row 3'):
        convert_each(
            ITEMS, convert, 'video', 'vid', strict=True, progress=False)


def test_clip_annotation_slices_the_sequence():
    kp = np.arange(10 * 2 * 2, dtype=np.float32).reshape(10, 2, 2)
    ann = clip_annotation('v_0', 3, 2, 5, (4, 6), kp, kp[..., 0], video='v')
    assert list(ann)[-3:] == ['video', 'start', 'end']
    assert ann['total_frames'] == 4 and ann['keypoint'].shape == (1, 4, 2, 2)
    np.testing.assert_array_equal(ann['keypoint'][0], kp[2:6])
