"""SemanticEmbeddingHead and LabelEmbeddingHead: orthogonal anchors, the
.npy loader, losses against plain numpy, prediction, state dict and a tiny
3D-conv model trained a few steps with each head."""
import numpy as np
import pytest
import torch
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
from mmaction.utils import register_all_modules

import mmmg  # noqa: F401  (registers heads and losses)
from mmmg.models.heads import LabelEmbeddingHead, SemanticEmbeddingHead
from mmmg.models.heads.label_embedding_head import load_label_embeddings
from mmmg.models.heads.semantic_embedding_head import orthogonal_anchors

C, IN = 4, 8


def np_log_softmax(s):
    s = s - s.max(axis=1, keepdims=True)
    return s - np.log(np.exp(s).sum(axis=1, keepdims=True))


def np_ce(s, y):
    return -np_log_softmax(s)[np.arange(len(y)), y].mean()


def np_cosine_loss(z, t):
    cos = (z * t).sum(1) / (
        np.linalg.norm(z, axis=1) * np.linalg.norm(t, axis=1))
    return (1 - cos).mean()


def _samples(labels):
    return [
        ActionDataSample().set_gt_labels(torch.tensor([int(y)]))
        for y in labels
    ]


def _soft_samples(q):
    return [
        ActionDataSample().set_gt_labels(torch.tensor(row).float())
        for row in q
    ]


@pytest.fixture
def npy(tmp_path):
    table = np.random.default_rng(3).normal(size=(C, 6)).astype(np.float32)
    path = str(tmp_path / 'class_vectors.npy')
    np.save(path, table)
    return path, table


def _np_head_outputs(head, feats):
    """Logits and embeddings recomputed in numpy from the head's weights
    (average pooling, no dropout)."""
    f = feats.mean(axis=(2, 3, 4))
    p = {
        k: v.detach().numpy().astype(np.float64)
        for k, v in head.state_dict().items()
    }
    return (f @ p['fc_cls.weight'].T + p['fc_cls.bias'],
            f @ p['fc_embed.weight'].T + p['fc_embed.bias'])


# ---- anchors and embedding files -------------------------------------------


@pytest.mark.parametrize('anchor_type', ['identity', 'random_orthogonal'])
@pytest.mark.parametrize('dim', [C, 10])
def test_anchors_are_orthonormal(anchor_type, dim):
    a = orthogonal_anchors(C, dim, anchor_type).numpy().astype(np.float64)
    assert a.shape == (C, dim)
    np.testing.assert_allclose(a @ a.T, np.eye(C), atol=1e-6)


def test_anchor_construction_is_deterministic():
    np.testing.assert_array_equal(orthogonal_anchors(C, 6), np.eye(C, 6))
    a = orthogonal_anchors(C, 6, 'random_orthogonal', seed=1)
    b = orthogonal_anchors(C, 6, 'random_orthogonal', seed=1)
    c = orthogonal_anchors(C, 6, 'random_orthogonal', seed=2)
    assert torch.equal(a, b) and not torch.allclose(a, c)
    with pytest.raises(
            ValueError, match=r'embed_dim \(3\) must be >= '
            r'num_classes \(4\)'):
        orthogonal_anchors(C, 3)
    with pytest.raises(ValueError, match='anchor_type must be one of'):
        orthogonal_anchors(C, 6, 'hadamard')


def test_load_label_embeddings(npy, tmp_path):
    path, table = npy
    np.testing.assert_array_equal(load_label_embeddings(path, C), table)
    with pytest.raises(FileNotFoundError, match='missing.npy'):
        load_label_embeddings(str(tmp_path / 'missing.npy'), C)
    bad = {
        'rows.npy': (np.zeros((C + 1, 6)), r'rows.npy: label embeddings '
                     r'must have shape \(4, D\), one row per class, got '
                     r'\(5, 6\)'),
        'flat.npy': (np.zeros(C * 6), r'flat.npy: .*got \(24,\)'),
        'nan.npy': (np.where(np.eye(C, 6) > 0, np.nan, 0.), r'nan.npy: rows '
                    r'\[0, 1, 2, 3\] hold NaN'),
        'text.npy': (np.array([['a'] * 6] * C), 'text.npy: expected a '
                     'numeric array'),
    }
    for name, (array, match) in bad.items():
        np.save(str(tmp_path / name), array)
        with pytest.raises(ValueError, match=match):
            load_label_embeddings(str(tmp_path / name), C)
    (tmp_path / 'junk.npy').write_bytes(b'not numpy')
    with pytest.raises(ValueError, match='junk.npy: not a readable .npy'):
        load_label_embeddings(str(tmp_path / 'junk.npy'), C)


# ---- losses of the heads against numpy -------------------------------------


def test_semantic_head_losses_match_numpy():
    torch.manual_seed(0)
    head = SemanticEmbeddingHead(
        num_classes=C,
        in_channels=IN,
        embed_dim=6,
        anchor_type='random_orthogonal',
        dropout_ratio=0.,
        loss_embed=dict(type='SemanticEmbeddingLoss', loss_weight=0.7))
    head.init_weights()
    feats = torch.randn(5, IN, 2, 3, 3)
    y = np.array([0, 1, 2, 3, 1])
    losses = head.loss(feats, _samples(y))
    logits, z = _np_head_outputs(head, feats.double().numpy())
    anchors = orthogonal_anchors(C, 6, 'random_orthogonal').double().numpy()
    assert losses['loss_cls'].item() == pytest.approx(
        np_ce(logits, y), rel=1e-5)
    assert losses['loss_embed'].item() == pytest.approx(
        0.7 * np_cosine_loss(z, anchors[y]), rel=1e-5)
    assert 'top1_acc' in losses
    # Soft labels: the target is the label-weighted mix of anchors.
    q = np.random.default_rng(0).dirichlet(np.ones(C), size=5)
    losses = head.loss(feats, _soft_samples(q))
    assert losses['loss_embed'].item() == pytest.approx(
        0.7 * np_cosine_loss(z, q @ anchors), rel=1e-5)


def test_label_head_losses_match_numpy(npy):
    path, table = npy
    torch.manual_seed(0)
    head = MODELS.build(
        dict(
            type='LabelEmbeddingHead',
            num_classes=C,
            in_channels=IN,
            embedding_file=path,
            dropout_ratio=0.,
            label_smooth_eps=0.1))
    head.init_weights()
    assert head.embed_dim == 6 and head.loss_embed.loss_weight == 20
    feats = torch.randn(6, IN, 2, 3, 3)
    y = np.array([3, 2, 1, 0, 0, 2])
    losses = head.loss(feats, _samples(y))
    logits, e_hat = _np_head_outputs(head, feats.double().numpy())
    # CE + 20 * MSE(linear(feature), e_y); label smoothing acts on CE only.
    mse = ((e_hat - table[y])**2).mean()
    assert losses['loss_embed'].item() == pytest.approx(20 * mse, rel=1e-5)
    q = np.full((6, C), 0.1 / C)
    q[np.arange(6), y] += 0.9
    ce_smooth = -(q * np_log_softmax(logits)).sum(1).mean()
    assert losses['loss_cls'].item() == pytest.approx(ce_smooth, rel=1e-5)


def test_heads_accept_pooled_features_and_weighted_ce():
    head = SemanticEmbeddingHead(
        num_classes=C,
        in_channels=IN,
        spatial_type=None,
        dropout_ratio=0.,
        loss_cls=dict(
            type='MGCrossEntropyLoss', class_weight=[1., 2., 3., 4.]))
    head.init_weights()
    assert head.embed_dim == C
    losses = head.loss(torch.randn(3, IN), _samples([0, 3, 3]))
    assert set(losses) >= {'loss_cls', 'loss_embed'}
    assert torch.isfinite(losses['loss_cls'] + losses['loss_embed'])


def test_label_and_clip_count_errors():
    head = SemanticEmbeddingHead(num_classes=C, in_channels=IN)
    with pytest.raises(
            ValueError, match=r'training labels must be in '
            r'\[0, 4\)'):
        head.loss(torch.randn(2, IN, 1, 1, 1), _samples([0, 4]))
    with pytest.raises(ValueError, match='4 embeddings for 2 labels'):
        head.loss_by_feat(
            torch.randn(2, C), _samples([0, 1]), embeddings=torch.randn(4, C))


# ---- prediction and checkpoints --------------------------------------------


def test_prediction_is_the_fc_logits(npy):
    head = LabelEmbeddingHead(
        num_classes=C,
        in_channels=IN,
        embedding_file=npy[0],
        average_clips='prob')
    head.init_weights()
    head.eval()
    feats = torch.randn(6, IN, 1, 2, 2)  # 2 samples x 3 clips
    logits = head(feats)
    assert logits.shape == (6, C)
    samples = head.predict(feats, _samples([0, 1]))
    expected = logits.view(2, 3, C).softmax(-1).mean(1)
    for s, e in zip(samples, expected):
        torch.testing.assert_close(s.pred_scores.item, e)


def test_state_dict_carries_the_class_table(npy):
    head = LabelEmbeddingHead(
        num_classes=C, in_channels=IN, embedding_file=npy[0])
    state = head.state_dict()
    np.testing.assert_array_equal(state['class_embeddings'], npy[1])
    assert {'fc_cls.weight', 'fc_embed.weight'} <= set(state)
    assert not any(p is head.class_embeddings for p in head.parameters())
    sem = SemanticEmbeddingHead(num_classes=C, in_channels=IN, embed_dim=5)
    np.testing.assert_array_equal(sem.state_dict()['class_embeddings'],
                                  np.eye(C, 5))


def test_old_checkpoint_keys_still_load():
    """The keys (and shapes) of a head saved before the embedding heads
    shared a base load strictly."""
    old = {
        'class_embeddings': torch.eye(C),
        'fc_cls.weight': torch.randn(C, IN),
        'fc_cls.bias': torch.randn(C),
        'fc_embed.weight': torch.randn(C, IN),
        'fc_embed.bias': torch.randn(C)
    }
    head = SemanticEmbeddingHead(num_classes=C, in_channels=IN)
    head.load_state_dict(old, strict=True)
    assert torch.equal(head.fc_embed.bias, old['fc_embed.bias'])


# ---- a tiny model learns ---------------------------------------------------


def _tiny_recognizer(head):
    register_all_modules()  # the recognizer's default data preprocessor
    return MODELS.build(
        dict(
            type='Recognizer3D',
            backbone=dict(
                type='ResNet3dSlowOnly',
                depth=50,
                pretrained=None,
                in_channels=3,
                base_channels=4,
                num_stages=1,
                out_indices=(0, ),
                stage_blocks=(1, ),
                conv1_stride_s=1,
                pool1_stride_s=1,
                inflate=(1, ),
                spatial_strides=(1, ),
                temporal_strides=(1, ),
                dilations=(1, )),
            cls_head=dict(
                head, num_classes=C, in_channels=16, dropout_ratio=0.)))


# The label loss carries lambda = 20, hence the smaller step.
@pytest.mark.parametrize('kind, lr', [('semantic', 0.05), ('label', 0.01)])
def test_tiny_model_trains_with_falling_losses(kind, lr, npy):
    head = dict(type='SemanticEmbeddingHead') if kind == 'semantic' else \
        dict(type='LabelEmbeddingHead', embedding_file=npy[0])
    torch.manual_seed(0)
    model = _tiny_recognizer(head)
    model.init_weights()
    # Each class is a brightness pattern in one colour channel.
    y = torch.arange(8) % C
    x = torch.randn(8, 1, 3, 4, 8, 8) * 0.1
    for i, label in enumerate(y):
        x[i, 0, label % 3] += 1. + label // 3
    samples = _samples(y.tolist())
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    history = []
    for _ in range(15):
        losses = model(x, samples, mode='loss')
        total = losses['loss_cls'] + losses['loss_embed']
        opt.zero_grad()
        total.backward()
        opt.step()
        history.append((total.item(), losses['loss_embed'].item()))
    (first, first_embed), (last, last_embed) = history[0], history[-1]
    assert last < 0.7 * first, history
    assert last_embed < first_embed, history
