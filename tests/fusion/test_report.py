import json

import numpy as np
import pytest

from mmmg.fusion.ensemble import Ensemble
from mmmg.fusion.report import (build_report, format_markdown, save_report,
                                score_rows)


@pytest.fixture
def fitted():
    rng = np.random.default_rng(0)
    n, c = 60, 5
    labels = rng.integers(0, c, n)
    stack = rng.dirichlet(np.ones(c), size=(2, n))
    stack[0, np.arange(n), labels] += 1
    stack /= stack.sum(-1, keepdims=True)
    ensemble = Ensemble(['joint', 'limb'], [0.7, 0.3], [1.2, 0.9],
                        metric='macro_f1',
                        val_metric=0.5)
    return stack, labels, ensemble


def test_rows_score_streams_and_fusion(fitted):
    stack, labels, ensemble = fitted
    fused = ensemble.fuse(stack)
    rows = score_rows(stack, labels, fused, ensemble)
    assert [r['stream'] for r in rows] == ['joint', 'limb', 'fused']
    for row, probs in zip(rows, [stack[0], stack[1], fused]):
        assert row['top1'] == pytest.approx((probs.argmax(1) == labels).mean())
        assert row['nll'] == pytest.approx(
            -np.log(probs[np.arange(len(labels)), labels]).mean(), rel=1e-6)
    # Unlabelled samples are left out; none labelled gives no rows.
    labels_part = labels.copy()
    labels_part[:10] = -1
    assert score_rows(stack, labels_part, fused, ensemble)[0]['samples'] == 50
    assert score_rows(stack, np.full_like(labels, -1), fused, ensemble) is None


def test_files(fitted, tmp_path):
    stack, labels, ensemble = fitted
    rows = score_rows(stack, labels, ensemble.fuse(stack), ensemble)
    report = build_report(ensemble, dict(val=rows, test=None),
                          dict(fusion='fusion.json'))
    paths = save_report(str(tmp_path), report)
    assert sorted(paths) == ['json', 'md', 'png']
    with open(paths['png'], 'rb') as f:
        assert f.read(8) == b'\x89PNG\r\n\x1a\n'
    assert json.load(open(paths['json']))['splits']['val'][2]['stream'] == \
        'fused'
    text = format_markdown(report)
    assert '| joint | 0.7000 | 1.200 |' in text
    assert '| **fused** |' in text and 'No labelled samples.' in text
    assert 'optimistic' in text

    # Without labels there is nothing to plot.
    report = build_report(ensemble, dict(test=None))
    assert sorted(save_report(str(tmp_path / 'b'), report)) == ['json', 'md']
