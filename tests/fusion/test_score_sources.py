import pickle

import numpy as np
import pytest
import torch
from mmaction.registry import RUNNERS

from mmmg.evaluation import build_score_file, load_scores, save_scores
from mmmg.fusion.score_sources import (ScoreSourceError, StreamScores,
                                       align_streams, read_id_list,
                                       read_score_streams)
from mmmg.utils.config import read_config
from tests.conftest import TOY_CONFIG


@pytest.fixture(scope='module')
def stock_and_mmmg_dumps(tiny_pose_ann, tmp_path_factory):
    """One real test run of an (untrained) toy PoseConv3D that writes both
    mmengine's stock DumpResults file and the mmmg score pickle."""
    root = tmp_path_factory.mktemp('dumps')
    cfg = read_config(TOY_CONFIG)
    cfg.work_dir = str(root / 'work')
    cfg.test_dataloader.dataset.ann_file = tiny_pose_ann
    cfg.test_dataloader.num_workers = 0
    cfg.test_dataloader.persistent_workers = False
    cfg.model.cls_head.average_clips = 'prob'
    cfg.test_evaluator = [
        dict(type='DumpResults', out_file_path=str(root / 'stock.pkl')),
        dict(
            type='DumpMGScores',
            out_file=str(root / 'mmmg.pkl'),
            stream='joint')
    ]
    RUNNERS.build(cfg).test()
    return dict(
        stock=str(root / 'stock.pkl'),
        mmmg=str(root / 'mmmg.pkl'),
        ann=tiny_pose_ann)


def test_real_stock_dump_joins_the_mmmg_dump(stock_and_mmmg_dumps):
    files = stock_and_mmmg_dumps
    with open(files['stock'], 'rb') as f:
        records = pickle.load(f)
    # The 1.1.0 layout, as the stock runner wrote it.
    assert 'item' in records[0]['pred_scores']
    ids = read_id_list(files['ann'] + ':test')
    (stock, ) = read_score_streams(files['stock'], name='stock', ids=ids)
    (ours, ) = read_score_streams(files['mmmg'])
    assert stock.name == 'stock' and ours.name == 'joint'
    assert stock.source == files['stock']
    assert len(stock.ids) == 15
    ids, stack, labels = align_streams([stock, ours])
    np.testing.assert_allclose(stack[0], stack[1], atol=1e-6)
    raw = load_scores(files['mmmg'])
    assert ids == [s['id'] for s in raw['samples']]
    assert labels.tolist() == [s['label'] for s in raw['samples']]


def test_id_lists(tmp_path, tiny_pose_ann):
    lines = tmp_path / 'list.txt'
    lines.write_text('# test list\n0187_0.mp4 8\n0054_10.mp4 -1\n')
    assert read_id_list(str(lines)) == ['0187_0', '0054_10']
    segments = tmp_path / 'rgb_test.txt'
    segments.write_text('0187_0 0187.mp4 0 40\n0187_1 0187.mp4 50 90 3\n')
    assert read_id_list(str(segments)) == ['0187_0', '0187_1']
    table = tmp_path / 'test.csv'
    table.write_text('Id,Target\n0003_1,5\n0003_0,2\n')
    assert read_id_list(str(table)) == ['0003_1', '0003_0']
    bad = tmp_path / 'bad.csv'
    bad.write_text('clip,label\na,1\n')
    with pytest.raises(ScoreSourceError, match='bad.csv.*"Id" column'):
        read_id_list(str(bad))
    with pytest.raises(ScoreSourceError, match="no split 'nope'"):
        read_id_list(tiny_pose_ann + ':nope')
    with open(tiny_pose_ann, 'rb') as f:
        data = pickle.load(f)
    order = [
        a['frame_dir'] for a in data['annotations']
        if a['frame_dir'] in set(data['split']['val'])
    ]
    assert read_id_list(tiny_pose_ann + ':val') == order


# Hand-built records in the layout of MMAction2 1.2.0, which cannot be
# installed here (its wheel lacks a module): ActionDataSample.set_pred_score
# stores a tensor (or a dict of tensors for RGBPoseConv3D) as `pred_score`,
# set_gt_label a tensor `gt_label`, and the metainfo gains `num_classes`
# (len(score): 2 for the dict).
def records_120(scores, labels, dual=None):
    records = []
    for i, (s, y) in enumerate(zip(scores, labels)):
        if dual is None:
            pred = torch.tensor(s, dtype=torch.float32)
            num_classes = len(s)
        else:
            pred = dict(
                rgb=torch.tensor(s, dtype=torch.float32),
                pose=torch.tensor(dual[i], dtype=torch.float32))
            num_classes = 2
        records.append(
            dict(
                img_shape=(224, 224),
                num_classes=num_classes,
                pred_score=pred,
                pred_label=torch.tensor([int(np.argmax(s))]),
                gt_label=torch.tensor([int(y)])))
    return records


def records_110_rgbpose(rgb, pose, labels):
    return [
        dict(
            img_shape=(224, 224),
            pred_scores=dict(rgb=torch.tensor(r), pose=torch.tensor(p)),
            pred_labels=dict(rgb=torch.tensor([0]), pose=torch.tensor([0])),
            gt_labels=dict(item=torch.tensor([int(y)])))
        for r, p, y in zip(rgb, pose, labels)
    ]


def dump(path, records):
    with open(path, 'wb') as f:
        pickle.dump(records, f)
    return str(path)


def softmax(z):
    e = np.exp(z - z.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


@pytest.fixture
def scores():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(6, 4))
    return dict(
        ids=[f'0001_{i}' for i in range(6)],
        logits=logits,
        probs=softmax(logits),
        other=softmax(rng.normal(size=(6, 4))),
        labels=np.array([0, 1, 2, 3, 0, 1]))


def test_120_single_and_dual(tmp_path, scores):
    path = dump(tmp_path / 'swin.pkl',
                records_120(scores['probs'], scores['labels']))
    (stream, ) = read_score_streams(path, ids=scores['ids'])
    assert stream.name == 'swin'
    np.testing.assert_allclose(stream.scores, scores['probs'], atol=1e-6)
    assert stream.labels.tolist() == scores['labels'].tolist()

    path = dump(
        tmp_path / 'rgbpose.pkl',
        records_120(scores['probs'], scores['labels'], dual=scores['other']))
    streams = read_score_streams(path, name='rgbpose', ids=scores['ids'])
    assert [s.name for s in streams] == ['rgbpose.pose', 'rgbpose.rgb']
    assert streams[0].source == f'{path}#pose'
    np.testing.assert_allclose(streams[0].scores, scores['other'], atol=1e-6)
    (pose, ) = read_score_streams(
        path, name='p', stream='pose', ids=scores['ids'])
    assert pose.name == 'p'
    with pytest.raises(
            ScoreSourceError,
            match=r"rgbpose.pkl: no stream "
            r"'flow'.*\['pose', 'rgb'\]"):
        read_score_streams(path, stream='flow', ids=scores['ids'])


def test_110_rgbpose_streams_separately(tmp_path, scores):
    path = dump(
        tmp_path / 'rgbpose.pkl',
        records_110_rgbpose(scores['probs'], scores['other'],
                            scores['labels']))
    (rgb, ) = read_score_streams(path, stream='rgb', ids=scores['ids'])
    np.testing.assert_allclose(rgb.scores, scores['probs'], atol=1e-6)
    assert rgb.labels.tolist() == scores['labels'].tolist()


def test_logits_are_softmaxed(tmp_path, scores):
    path = dump(tmp_path / 'logits.pkl',
                records_120(scores['logits'], scores['labels']))
    (auto, ) = read_score_streams(path, ids=scores['ids'])
    (forced, ) = read_score_streams(
        path, ids=scores['ids'], score_kind='logit')
    np.testing.assert_allclose(
        auto.scores, softmax(scores['logits']), rtol=1e-6)
    np.testing.assert_allclose(forced.scores, auto.scores)
    with pytest.raises(
            ScoreSourceError, match='logits.pkl: 6 samples.*'
            'not probabilities'):
        read_score_streams(path, ids=scores['ids'], score_kind='prob')


def mmmg_file(path, ids, probs, labels, stream='joint'):
    records = [
        dict(id=i, label=int(y), scores={stream: p})
        for i, p, y in zip(ids, probs, labels)
    ]
    save_scores(str(path), build_score_file(records))
    return str(path)


def test_join_is_by_id(tmp_path, scores):
    a = mmmg_file(tmp_path / 'a.pkl', scores['ids'], scores['probs'],
                  scores['labels'])
    order = [3, 0, 5, 1, 4, 2]
    b = dump(tmp_path / 'b.pkl',
             records_120(scores['other'][order], scores['labels'][order]))
    ids, stack, labels = align_streams(
        read_score_streams(a) +
        read_score_streams(b, ids=[scores['ids'][i] for i in order]))
    assert ids == scores['ids']
    np.testing.assert_allclose(stack[1], scores['other'], atol=1e-6)
    assert labels.tolist() == scores['labels'].tolist()


def stream(name, ids, probs, labels=None, source=None):
    labels = np.full(len(ids), -1) if labels is None else np.asarray(labels)
    return StreamScores(name, list(ids), np.asarray(probs, float), labels,
                        source or f'{name}.pkl')


def test_bad_inputs(tmp_path, scores):
    ids, probs, labels = scores['ids'], scores['probs'], scores['labels']
    path = dump(tmp_path / 'stock.pkl', records_120(probs, labels))
    with pytest.raises(
            ScoreSourceError,
            match='stock.pkl: a stock dump '
            'without sample ids'):
        read_score_streams(path)
    with pytest.raises(
            ScoreSourceError,
            match='stock.pkl: 6 samples but '
            'the id list has 5'):
        read_score_streams(path, ids=ids[:5])
    with pytest.raises(
            ScoreSourceError,
            match="stock.pkl: duplicate sample "
            "ids \\('0001_0'\\)"):
        read_score_streams(path, ids=ids[:5] + ids[:1])
    bad = probs.copy()
    bad[2, 1], bad[4, 0] = np.nan, np.inf
    path = dump(tmp_path / 'nan.pkl', records_120(bad, labels))
    with pytest.raises(
            ScoreSourceError,
            match="nan.pkl: NaN or infinite "
            "scores in 2 samples \\('0001_2', '0001_4'\\)"):
        read_score_streams(path, ids=ids)
    path = dump(
        tmp_path / 'ragged.pkl',
        records_120(probs, labels) + records_120(np.full((1, 5), .2), [0]))
    with pytest.raises(
            ScoreSourceError,
            match='ragged.pkl: samples have '
            r'different class counts \[4, 5\]'):
        read_score_streams(path, ids=ids + ['0001_9'])
    path = dump(tmp_path / 'other.pkl', dict(results=[]))
    with pytest.raises(ScoreSourceError, match='other.pkl: unknown format'):
        read_score_streams(path)
    path = dump(tmp_path / 'list.pkl', [dict(a=1)])
    with pytest.raises(ScoreSourceError, match='list.pkl: record 0 is not'):
        read_score_streams(path, ids=ids[:1])
    path = dump(tmp_path / 'empty.pkl', [])
    with pytest.raises(ScoreSourceError, match='empty.pkl: the dump holds no'):
        read_score_streams(path)

    a = stream('a', ids, probs, labels)
    with pytest.raises(
            ScoreSourceError,
            match=r"b.pkl: misses 2 ids "
            r"\('0001_4', '0001_5'\)"):
        align_streams([a, stream('b', ids[:4], probs[:4])])
    kept, stack, _ = align_streams([a, stream('b', ids[:4], probs[:4])],
                                   require_same_ids=False)
    assert kept == ids[:4] and stack.shape == (2, 4, 4)
    with pytest.raises(
            ScoreSourceError, match='c.pkl has 3 classes but '
            'a.pkl has 4'):
        align_streams([a, stream('c', ids, probs[:, :3])])
    flipped = labels.copy()
    flipped[[1, 3]] = 0
    with pytest.raises(
            ScoreSourceError,
            match=r"d.pkl and a.pkl disagree on "
            r"the labels of 2 samples \('0001_1', '0001_3'\)"):
        align_streams([a, stream('d', ids, probs, flipped)])
    with pytest.raises(ScoreSourceError, match=r"stream names \['a'\]"):
        align_streams([a, stream('a', ids, probs, source='x.pkl')])
    # A label known in one file only is taken from it.
    _, _, joined = align_streams([stream('e', ids, probs), a])
    assert joined.tolist() == labels.tolist()
