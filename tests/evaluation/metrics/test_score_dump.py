"""DumpMGScores on model outputs of both MMAction2 conventions."""
import hashlib

import pytest
import torch

from mmmg.evaluation import load_scores
from mmmg.evaluation.metrics import DumpMGScores


def _prob(c=3, hot=0):
    p = torch.full((c, ), 0.1)
    p[hot] = 1 - 0.1 * (c - 1)
    return p


def test_single_stream_110_and_dual_stream_120(tmp_path):
    out = str(tmp_path / 's.pkl')
    checkpoint = tmp_path / 'epoch_1.pth'
    checkpoint.write_bytes(b'weights')
    metric = DumpMGScores(
        out_file=out,
        stream='joint',
        meta=dict(checkpoint=str(checkpoint), split='val'))
    metric.dataset_meta = dict(classes=('a', 'b', 'c'))
    metric.process(None, [
        dict(
            sample_id='v_1',
            pred_scores=dict(item=_prob(hot=1)),
            gt_labels=dict(item=torch.tensor([1]))),
        dict(
            sample_id='v_0',
            pred_score=_prob(hot=2),
            gt_label=torch.tensor([0])),
    ])
    metrics = metric.compute_metrics(metric.results)
    assert metrics == {'joint_top1': 0.5}
    sf = load_scores(out)
    assert [s['id'] for s in sf['samples']] == ['v_0', 'v_1']
    assert sf['classes'] == ['a', 'b', 'c']
    # Provenance: the checkpoint's digest tells models apart.
    assert sf['meta'] == dict(
        checkpoint=str(checkpoint),
        split='val',
        checkpoint_sha256=hashlib.sha256(b'weights').hexdigest())

    out2 = str(tmp_path / 'rgbpose.pkl')
    metric = DumpMGScores(out_file=out2)
    metric.process(None, [
        dict(
            sample_id='x',
            pred_scores=dict(rgb=_prob(hot=0), pose=_prob(hot=1)),
            gt_labels=dict(item=torch.tensor([-1])))
    ])
    assert metric.compute_metrics(metric.results) == {}
    sf = load_scores(out2)
    assert sf['streams'] == ['pose', 'rgb']
    assert sf['samples'][0]['label'] is None


def test_rejects_logits_and_missing_ids(tmp_path):
    metric = DumpMGScores(out_file=str(tmp_path / 's.pkl'))
    with pytest.raises(ValueError, match="sample 'a'.*average_clips"):
        metric.process(
            None, [dict(sample_id='a', pred_scores=dict(item=torch.ones(3)))])
    with pytest.raises(KeyError, match='PackMGInputs'):
        metric.process(None, [dict(pred_scores=dict(item=_prob()))])
    with pytest.raises(ValueError, match='.pkl'):
        DumpMGScores(out_file='scores.json')
