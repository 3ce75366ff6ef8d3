"""SkeletonDecorrelationPretrainer: modes, training, transfer to a
RecognizerGCN."""
import copy

import numpy as np
import pytest
import torch
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
from mmaction.utils import register_all_modules
from mmengine.optim import OptimWrapper

import mmmg  # noqa: F401
from mmmg.datasets.transforms import (FormatSkeletonSequence,
                                      NormalizeSkeleton, SkeletonViews)
from mmmg.keypoints import get_layout

BACKBONE = dict(
    type='DualStreamSkeletonTransformer',
    num_joints=59,
    seq_len=16,
    embed_dims=32,
    depth=1,
    num_heads=4,
    layout='upper_body59')
NUM_VIEWS = 3


def build(**kwargs):
    register_all_modules()
    cfg = dict(
        type='SkeletonDecorrelationPretrainer',
        backbone=copy.deepcopy(BACKBONE))
    cfg.update(kwargs)
    torch.manual_seed(0)
    model = MODELS.build(cfg)
    model.init_weights()
    return model


def _moving_skeleton(seed, frames=24):
    """A person in upper_body59 pixels, both arms waving, with a little
    detector noise and a few missed points."""
    rng = np.random.default_rng(seed)
    names = get_layout('upper_body59').names
    base = rng.uniform(150, 350, (59, 2))
    base[names.index('neck')] = (250, 200)
    base[names.index('left_shoulder')] = (300, 210)
    base[names.index('right_shoulder')] = (200, 210)
    t = np.linspace(0, 2 * np.pi, frames)
    kp = np.repeat(base[None], frames, 0)
    arm = [
        i for i, n in enumerate(names)
        if 'wrist' in n or 'hand' in n or 'elbow' in n
    ]
    phase = rng.uniform(0, np.pi)
    kp[:, arm, 1] += 40 * np.sin(t + phase)[:, None]
    kp[:, arm, 0] += 20 * np.cos(t + phase)[:, None]
    kp += rng.normal(0, 1, kp.shape)
    score = rng.uniform(0.5, 1, (frames, 59))
    score[rng.uniform(size=score.shape) < 0.05] = 0
    return dict(
        keypoint=kp[None].astype(np.float32),
        keypoint_score=score[None].astype(np.float32))


@pytest.fixture(scope='module')
def views():
    """Fixed views [N, V, T, J, 3] of 6 synthetic clips."""
    np.random.seed(0)
    pipeline = [
        NormalizeSkeleton(),
        SkeletonViews(num_views=NUM_VIEWS, length=16),
        FormatSkeletonSequence()
    ]
    clips = []
    for i in range(6):
        res = _moving_skeleton(i)
        for t in pipeline:
            res = t(res)
        clips.append(torch.from_numpy(res['keypoint']))
    out = torch.stack(clips)
    assert out.shape == (6, NUM_VIEWS, 16, 59, 3)
    return out


def test_modes(views):
    model = build().train()
    losses = model(views, mode='loss')
    assert set(losses) == {'loss_invariance', 'loss_varcov', 'loss_xcorr'}
    assert all(v.dim() == 0 and torch.isfinite(v) for v in losses.values())
    model.eval()
    feats = model(views, mode='tensor')
    assert feats.shape == (6, NUM_VIEWS, 64)
    # Features of one view do not depend on the rest of the batch.
    torch.testing.assert_close(
        model(views[:2, :1], mode='tensor')[:, 0],
        feats[:2, 0],
        rtol=1e-4,
        atol=1e-5)
    with pytest.raises(ValueError, match='SkeletonViews'):
        model(views[:, 0], mode='tensor')
    with pytest.raises(ValueError, match='invalid mode'):
        model(views, mode='nope')


def test_predict_sets_embedding(views):
    model = build().eval()
    feats = model(views, mode='tensor')
    samples = [ActionDataSample() for _ in range(6)]
    out = model(views, samples, mode='predict')
    assert out is samples
    for i, s in enumerate(out):
        torch.testing.assert_close(s.embedding, feats[i, 0])


def test_embeddings_per_domain(views):
    model = build().train()
    emb = model.embed(views)
    assert set(emb) == {'temporal', 'spatial', 'instance'}
    for key, width in (('temporal', 64), ('spatial', 64), ('instance', 128)):
        assert len(emb[key]) == NUM_VIEWS
        assert all(z.shape == (6, width) for z in emb[key])
    custom = build(projector_dims=16).train().embed(views)
    assert custom['temporal'][0].shape == (6, 16)
    assert custom['instance'][0].shape == (6, 32)


def test_projector_widths_follow_usdrl():
    # USDRL (per-stream width h): temporal/spatial h -> 2h -> 2h -> 2h,
    # instance 2h -> 2h -> 2h -> 4h.
    model = build()
    h = model.backbone.embed_dims

    def widths(proj):
        return [(m.in_features, m.out_features) for m in proj
                if isinstance(m, torch.nn.Linear)]

    for proj in (model.temporal_proj, model.spatial_proj):
        assert widths(proj) == [(h, 2 * h), (2 * h, 2 * h), (2 * h, 2 * h)]
    assert widths(model.instance_proj) == [(2 * h, 2 * h), (2 * h, 2 * h),
                                           (2 * h, 4 * h)]


def test_adam_steps_reduce_the_loss(views):
    model = build(backbone=dict(BACKBONE, dropout=0.0)).train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    def total():
        return sum(model(views, mode='loss').values())

    losses = []
    for _ in range(12):
        loss = total()
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    with torch.no_grad():
        final = total().item()
    assert np.isfinite(losses).all()
    assert final < 0.9 * losses[0], losses


def test_train_step_with_data_preprocessor(views):
    model = build().train()
    optim = OptimWrapper(torch.optim.Adam(model.parameters(), lr=1e-3))
    data = dict(
        inputs=list(views[:4]),
        data_samples=[ActionDataSample() for _ in range(4)])
    log = model.train_step(data, optim)
    assert {'loss', 'loss_invariance', 'loss_varcov', 'loss_xcorr'} <= set(log)
    with pytest.raises(ValueError, match='at least 2 clips'):
        model.train_step(
            dict(inputs=[views[0]], data_samples=[ActionDataSample()]), optim)


def test_backbone_weights_load_into_recognizer(views):
    model = build()
    # Move the weights away from their initialisation.
    with torch.no_grad():
        for p in model.backbone.parameters():
            p.add_(torch.randn_like(p) * 0.01)
    state = {
        k[len('backbone.'):]: v
        for k, v in model.state_dict().items() if k.startswith('backbone.')
    }
    assert state and all(not k.startswith('backbone.') for k in state)
    register_all_modules()
    recognizer = MODELS.build(
        dict(
            type='RecognizerGCN',
            backbone=copy.deepcopy(BACKBONE),
            cls_head=dict(
                type='I3DHead',
                num_classes=5,
                in_channels=64,
                spatial_type=None)))
    missing, unexpected = recognizer.backbone.load_state_dict(
        state, strict=True)
    assert not missing and not unexpected
    model.eval()
    recognizer.eval()
    x = views[:, 0]  # [N, T, J, 3]
    with torch.no_grad():
        expected = model.backbone(x)
        got, _ = recognizer.extract_feat(x[:, None])  # one clip each
        scores, _ = recognizer.extract_feat(x[:, None], stage='head')
    torch.testing.assert_close(got, expected)
    assert scores.shape == (6, 5)


def test_pretrained_init_cfg_loads_checkpoint(views, tmp_path):
    model = build()
    with torch.no_grad():
        for p in model.backbone.parameters():
            p.add_(0.01)
    ckpt = tmp_path / 'pretrain.pth'
    torch.save(dict(state_dict=model.state_dict()), ckpt)
    register_all_modules()
    backbone = dict(
        BACKBONE,
        init_cfg=dict(
            type='Pretrained', checkpoint=str(ckpt), prefix='backbone.'))
    recognizer = MODELS.build(
        dict(
            type='RecognizerGCN',
            backbone=backbone,
            cls_head=dict(
                type='I3DHead',
                num_classes=5,
                in_channels=64,
                spatial_type=None)))
    recognizer.init_weights()
    model.eval()
    recognizer.eval()
    with torch.no_grad():
        torch.testing.assert_close(
            recognizer.extract_feat(views[:, :1])[0],
            model.backbone(views[:, 0]))
