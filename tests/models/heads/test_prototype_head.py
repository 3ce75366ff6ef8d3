"""PrototypeHead: calibration loss and momentum update against plain numpy,
state dict, prediction blending, DDP sync and a tiny training run."""
import os.path as osp

import numpy as np
import pytest
import torch
import torch.multiprocessing as mp
from mmaction.structures import ActionDataSample

from mmmg.models.heads import PrototypeHead
from mmmg.models.heads.prototype_head import calibration_loss


def np_calibration_loss(emb, protos, labels, preds, valid, tau):
    """The docstring's formula, one sample at a time."""
    z = emb / np.linalg.norm(emb, axis=1, keepdims=True)
    p = protos / np.maximum(
        np.linalg.norm(protos, axis=1, keepdims=True), 1e-12)
    total, mask = 0., []
    for i, (y, y_hat) in enumerate(zip(labels, preds)):
        wrong = y != y_hat and valid[y] and valid[y_hat]
        mask.append(wrong)
        if not wrong:
            continue
        s = np.array([z[i] @ p[k] / tau for k in range(len(p)) if valid[k]])
        ks = [k for k in range(len(p)) if valid[k]]
        q = np.exp(s - s.max())
        q /= q.sum()
        q_y, q_hat = q[ks.index(y)], q[ks.index(y_hat)]
        total += -np.log(q_y) - np.log(1 - q_hat)
    return total / len(labels), np.array(mask)


def np_momentum_update(protos, valid, emb, labels, m):
    protos, valid = protos.copy(), valid.copy()
    z = emb / np.linalg.norm(emb, axis=1, keepdims=True)
    for k in np.unique(labels):
        mean = z[labels == k].mean(axis=0)
        protos[k] = m * protos[k] + (1 - m) * mean if valid[k] else mean
        valid[k] = True
    return protos, valid


def _samples(labels):
    return [
        ActionDataSample().set_gt_labels(torch.tensor([int(y)]))
        for y in labels
    ]


def _head(**kwargs):
    cfg = dict(
        num_classes=5,
        in_channels=8,
        proj_channels=6,
        dropout_ratio=0.,
        temperature=0.2,
        loss_proto_weight=0.5)
    cfg.update(kwargs)
    head = PrototypeHead(**cfg)
    head.init_weights()
    return head


def test_calibration_loss_matches_numpy():
    rng = np.random.default_rng(0)
    emb = rng.normal(size=(12, 6)).astype(np.float32)
    protos = rng.normal(size=(5, 6)).astype(np.float32)
    protos[3] = 0  # never seen
    valid = np.array([True, True, True, False, True])
    labels = rng.integers(0, 5, 12)
    preds = rng.integers(0, 5, 12)
    labels[:3], preds[:3] = [0, 1, 3], [2, 1, 0]  # FN, right, no prototype
    emb_t = torch.tensor(emb, dtype=torch.float64, requires_grad=True)
    loss, mask = calibration_loss(emb_t,
                                  torch.tensor(protos, dtype=torch.float64),
                                  torch.tensor(labels), torch.tensor(preds),
                                  torch.tensor(valid), 0.2)
    ref, ref_mask = np_calibration_loss(emb, protos, labels, preds, valid, 0.2)
    assert ref_mask[:3].tolist() == [True, False, False]
    assert mask.numpy().tolist() == ref_mask.tolist()
    assert loss.item() == pytest.approx(ref, rel=1e-6)
    loss.backward()
    assert torch.isfinite(emb_t.grad).all()
    # Samples outside M get no gradient.
    assert (emb_t.grad[~torch.tensor(ref_mask)] == 0).all()


def test_calibration_loss_pulls_and_pushes():
    # A sample of class 0 taken for class 1: a step down the loss moves it
    # toward prototype 0 and away from prototype 1.
    protos = torch.eye(3)
    valid = torch.ones(3, dtype=torch.bool)
    z = torch.tensor([[0.2, 1.0, 0.3]], requires_grad=True)
    loss, _ = calibration_loss(z, protos, torch.tensor([0]), torch.tensor([1]),
                               valid, 0.1)
    loss.backward()
    moved = (z - 0.01 * z.grad).detach()
    cos = torch.nn.functional.cosine_similarity
    assert cos(moved, protos[:1]) > cos(z.detach(), protos[:1])
    assert cos(moved, protos[1:2]) < cos(z.detach(), protos[1:2])


def test_no_mistakes_or_no_prototypes_gives_zero_with_graph():
    z = torch.randn(4, 3, requires_grad=True)
    labels = torch.tensor([0, 1, 2, 0])
    for preds, valid in [(labels, torch.ones(3, dtype=torch.bool)),
                         (torch.tensor([1, 2, 0,
                                        1]), torch.zeros(3,
                                                         dtype=torch.bool))]:
        loss, mask = calibration_loss(z, torch.zeros(3, 3), labels, preds,
                                      valid, 0.1)
        assert loss.item() == 0 and not mask.any()
        loss.backward()  # still attached to z, so DDP sees the projector
        assert torch.equal(z.grad, torch.zeros_like(z))


def test_momentum_update_matches_numpy():
    head = _head(momentum=0.9)
    rng = np.random.default_rng(1)
    protos = np.zeros((5, 6), np.float32)
    valid = np.zeros(5, bool)
    for labels in ([0, 0, 2, 4], [0, 2, 2, 1], [4, 4, 4, 0]):
        labels = np.array(labels)
        emb = rng.normal(size=(4, 6)).astype(np.float32)
        head.update_prototypes(torch.tensor(emb), torch.tensor(labels))
        protos, valid = np_momentum_update(protos, valid, emb, labels, 0.9)
        np.testing.assert_allclose(
            head.prototypes.numpy(), protos, rtol=1e-5, atol=1e-6)
        assert head.proto_valid.numpy().tolist() == valid.tolist()
    assert not valid[3] and not head.prototypes[3].any()


def test_loss_uses_prototypes_before_update_and_updates_in_train_mode():
    torch.manual_seed(0)
    head = _head()
    feats = torch.randn(6, 8, 2, 2, 2)
    labels = [0, 1, 2, 3, 4, 0]
    head.train()
    first = head.loss(feats, _samples(labels))
    # No prototype yet: only the classification loss counts.
    assert first['loss_proto'].item() == 0
    assert head.proto_valid.all()
    before = head.prototypes.clone()

    labels2 = [1, 1, 0, 2, 3, 4]
    losses = head.loss(feats, _samples(labels2))
    assert set(losses) >= {
        'loss_cls', 'loss_proto', 'top1_acc', 'proto_fn_ratio'
    }
    with torch.no_grad():
        logits, emb = head.forward_with_embedding(feats)
    ref, mask = np_calibration_loss(emb.numpy(), before.numpy(),
                                    np.array(labels2),
                                    logits.argmax(1).numpy(), np.ones(5, bool),
                                    0.2)
    assert losses['loss_proto'].item() == pytest.approx(0.5 * ref, rel=1e-5)
    assert losses['proto_fn_ratio'].item() == pytest.approx(mask.mean())
    expected, _ = np_momentum_update(before.numpy(), np.ones(5, bool),
                                     emb.numpy(), np.array(labels2), 0.9)
    np.testing.assert_allclose(
        head.prototypes.numpy(), expected, rtol=1e-5, atol=1e-6)

    # Evaluation mode computes the loss but leaves the prototypes alone.
    head.eval()
    frozen = head.prototypes.clone()
    head.loss(feats, _samples(labels))
    assert torch.equal(head.prototypes, frozen)


def test_soft_labels_and_shape_errors():
    head = _head(spatial_type='none')
    feats = torch.randn(2, 8)
    soft = [
        ActionDataSample().set_gt_labels(torch.tensor(v))
        for v in ([0.1, 0.7, 0.1, 0.05, 0.05], [0.6, 0.1, 0.1, 0.1, 0.1])
    ]
    losses = head.loss(feats, soft)
    assert torch.isfinite(losses['loss_cls'])
    assert head.proto_valid.tolist() == [True, True, False, False, False]
    logits, emb = head.forward_with_embedding(feats)
    with pytest.raises(ValueError, match='one clip per sample'):
        head.loss_by_feat(
            torch.cat([logits, logits]),
            _samples([0, 1]),
            embeddings=torch.cat([emb, emb]))
    with pytest.raises(ValueError, match='momentum'):
        _head(momentum=1.0)
    with pytest.raises(ValueError, match='temperature'):
        _head(temperature=0)
    with pytest.raises(ValueError, match='proto_blend'):
        _head(proto_blend=1.5)


def test_state_dict_round_trip_and_no_projector():
    head = _head()
    head.train()
    head.loss(torch.randn(4, 8, 1, 2, 2), _samples([0, 1, 1, 3]))
    state = head.state_dict()
    assert {'prototypes', 'proto_valid'} <= set(state)
    fresh = _head()
    fresh.load_state_dict(state)
    assert torch.equal(fresh.prototypes, head.prototypes)
    assert fresh.proto_valid.tolist() == [True, True, False, True, False]

    plain = _head(proj_channels=None)
    assert plain.projector is None and plain.prototypes.shape == (5, 8)


def test_bad_label_raises_before_any_loss():
    head = _head(spatial_type='none')

    def no_loss(*args):
        raise AssertionError('a loss ran before the label check')

    head.loss_cls.forward = no_loss
    with pytest.raises(
            ValueError,
            match=r'\[0, 5\) for 5 classes, got '
            r'label 7 \(sample 1'):
        head.loss(torch.randn(2, 8), _samples([0, 7]))
    assert not head.proto_valid.any()


def test_old_checkpoint_keys_still_load():
    """The keys (and shapes) of a PrototypeHead saved before the head was
    built on I3DHead load strictly."""
    old = {
        'fc_cls.weight': torch.randn(5, 8),
        'fc_cls.bias': torch.randn(5),
        'projector.weight': torch.randn(6, 8),
        'projector.bias': torch.randn(6),
        'prototypes': torch.randn(5, 6),
        'proto_valid': torch.tensor([True, False, True, False, True])
    }
    head = _head()
    head.load_state_dict(old, strict=True)
    assert torch.equal(head.prototypes, old['prototypes'])


def test_predict_logits_and_blend():
    torch.manual_seed(0)
    feats = torch.randn(6, 8, 1, 2, 2)  # 3 samples x 2 clips
    samples = _samples([0, 1, 2])
    head = _head(average_clips='score')
    head.train()
    head.loss(feats, _samples([0, 1, 2, 0, 1, 2]))
    head.eval()
    logits, emb = head.forward_with_embedding(feats)
    out = head.predict(feats, samples)
    expected = logits.view(3, 2, 5).mean(1)
    torch.testing.assert_close(out[0].pred_scores.item, expected[0])

    blend = _head(average_clips='score', proto_blend=0.25)
    blend.load_state_dict(head.state_dict())
    blend.eval()
    out = blend.predict(feats, _samples([0, 1, 2]))
    z = emb.detach().numpy()
    z /= np.linalg.norm(z, axis=1, keepdims=True)
    p = head.prototypes.numpy()
    p = p / np.maximum(np.linalg.norm(p, axis=1, keepdims=True), 1e-12)
    sim = z @ p.T / 0.2
    sim[:, ~head.proto_valid.numpy()] = -1 / 0.2
    ref = (0.75 * logits.detach().numpy() + 0.25 * sim).reshape(3, 2, 5)
    np.testing.assert_allclose(
        out[2].pred_scores.item.detach().numpy(),
        ref.mean(1)[2],
        rtol=1e-5,
        atol=1e-5)
    assert out[2].pred_labels.item.item() == ref.mean(1)[2].argmax()


def _ddp_worker(rank, world_size, init_file, out_dir):
    import torch.distributed as dist
    dist.init_process_group(
        'gloo',
        init_method=f'file://{init_file}',
        rank=rank,
        world_size=world_size)
    try:
        gen = torch.Generator().manual_seed(rank)
        emb = torch.randn(4, 6, generator=gen)
        labels = torch.tensor([[0, 0, 1, 2], [0, 3, 3, 2]][rank])
        result = dict(emb=emb, labels=labels)
        for sync in (True, False):
            head = _head(sync_prototypes=sync)
            head.update_prototypes(emb, labels)
            result[sync] = (head.prototypes.clone(), head.proto_valid.clone())
        torch.save(result, osp.join(out_dir, f'rank{rank}.pt'))
    finally:
        dist.destroy_process_group()


def test_prototypes_under_ddp(tmp_path):
    # One spawn (each costs seconds of imports) checks both settings.
    mp.spawn(
        _ddp_worker,
        args=(2, str(tmp_path / 'init'), str(tmp_path)),
        nprocs=2,
        join=True)
    ranks = [torch.load(tmp_path / f'rank{r}.pt') for r in range(2)]
    emb = np.concatenate([r['emb'].numpy() for r in ranks])
    labels = np.concatenate([r['labels'].numpy() for r in ranks])
    zeros, none = np.zeros((5, 6), np.float32), np.zeros(5, bool)
    # Synced: both ranks hold the prototypes of the global batch.
    expected, valid = np_momentum_update(zeros, none, emb, labels, 0.9)
    for r in ranks:
        protos, got_valid = r[True]
        np.testing.assert_allclose(
            protos.numpy(), expected, rtol=1e-5, atol=1e-6)
        assert got_valid.numpy().tolist() == valid.tolist()
    # Not synced: each rank holds the prototypes of its own batch.
    for rank, r in enumerate(ranks):
        own, _ = np_momentum_update(zeros, none, emb[4 * rank:4 * rank + 4],
                                    labels[4 * rank:4 * rank + 4], 0.9)
        np.testing.assert_allclose(
            r[False][0].numpy(), own, rtol=1e-5, atol=1e-6)
    assert not torch.equal(ranks[0][False][0], ranks[1][False][0])


def test_tiny_training_run_loss_falls():
    # Four overlapping Gaussian classes, a linear "backbone" and the head.
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(4, 16)) * 1.2
    labels = np.repeat(np.arange(4), 40)
    x = centres[labels] + rng.normal(size=(160, 16))
    x, y = torch.tensor(x, dtype=torch.float32), torch.tensor(labels)
    backbone = torch.nn.Linear(16, 8)
    head = PrototypeHead(
        num_classes=4,
        in_channels=8,
        spatial_type='none',
        proj_channels=8,
        dropout_ratio=0.,
        loss_proto_weight=0.5,
        init_std=0.1)
    head.init_weights()
    head.train()
    params = list(backbone.parameters()) + list(head.parameters())
    opt = torch.optim.SGD(params, lr=0.2, momentum=0.9)
    totals, protos = [], []
    for step in range(60):
        idx = torch.from_numpy(rng.choice(160, 32, replace=False))
        losses = head.loss(backbone(x[idx]), _samples(y[idx]))
        loss = losses['loss_cls'] + losses['loss_proto']
        assert torch.isfinite(loss)
        opt.zero_grad()
        loss.backward()
        opt.step()
        totals.append(loss.item())
        protos.append(losses['loss_proto'].item())
    assert np.mean(totals[-10:]) < 0.7 * np.mean(totals[:10]), totals
    assert max(protos) > 0  # the calibration term did act
    assert head.proto_valid.all()


# Toy configs with the prototype head: config -> (data kind, epochs). The
# toy video split has 5 training clips (one iteration per epoch), and the
# calibration term only starts once prototypes exist (it is 0 at the first
# iteration), so the video run needs more epochs to show a falling total.
TOY_CONFIGS = {
    'posec3d_mg36_joint_toy_prototype.py': ('pose', 4),
    'swin_tiny_rgb_toy_prototype.py': ('video', 10),
}


def _toy_options(data, toy_imigue, tiny_pose_ann, epochs):
    opts = [
        f'train_cfg.max_epochs={epochs}', f'train_cfg.val_interval={epochs}',
        'train_dataloader.batch_size=6', 'default_hooks.logger.interval=1',
        'param_scheduler=[]', 'default_hooks.checkpoint.save_best=None'
    ]
    for loader in ('train', 'val', 'test'):
        if data == 'pose':
            ann = tiny_pose_ann
        else:
            ann = osp.join(toy_imigue['annotations'], f'rgb_{loader}.txt')
            opts.append(f'{loader}_dataloader.dataset.data_prefix.video='
                        f'{toy_imigue["release"]}')
        opts += [
            f'{loader}_dataloader.dataset.ann_file={ann}',
            f'{loader}_dataloader.num_workers=0',
            f'{loader}_dataloader.persistent_workers=False'
        ]
    return opts


@pytest.mark.slow
@pytest.mark.parametrize('config', sorted(TOY_CONFIGS))
def test_toy_config_trains(config, tiny_pose_ann, toy_imigue, tmp_path):
    """tools/train.py on tiny data: the total loss (CE + calibration) falls,
    the calibration term acts, the prototypes reach the checkpoint and the
    final validation writes the MGClassificationMetric files."""
    import glob
    import json

    from mmmg.engine import checkpoint_safe_globals
    from ...conftest import REPO, run_tool

    data, epochs = TOY_CONFIGS[config]
    path = osp.join(REPO, 'configs', 'long_tail', config)
    proc = run_tool(
        ['tools/train.py', path, '--work-dir',
         str(tmp_path), '--cfg-options'] +
        _toy_options(data, toy_imigue, tiny_pose_ann, epochs))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-4000:]
    [log_dir] = [d for d in glob.glob(str(tmp_path / '*')) if osp.isdir(d)]
    with open(osp.join(log_dir, 'vis_data', 'scalars.json')) as f:
        rows = [json.loads(line) for line in f]
    train = [r for r in rows if 'loss' in r]
    losses = [r['loss'] for r in train]
    assert np.mean(losses[-2:]) < np.mean(losses[:2]), losses
    proto = [r['loss_proto'] for r in train]
    assert all(np.isfinite(proto)) and max(proto) > 0
    assert any('mg/macro_f1' in r for r in rows)
    assert osp.isfile(osp.join(log_dir, 'mg_confusion_matrix.png'))
    with checkpoint_safe_globals():
        state = torch.load(
            tmp_path / f'epoch_{epochs}.pth', map_location='cpu')['state_dict']
    assert state['cls_head.proto_valid'].any()
    assert state['cls_head.prototypes'].shape == (32, 64)
