"""VideoMAEPretrainer: visible-only encoder, masked-only loss, gradient
checkpointing, teacher targets, AMP and checkpoint keys."""
import copy

import pytest
import torch
import torch.nn.functional as F
from mmaction.registry import MODELS
from mmaction.utils import register_all_modules

import mmmg  # noqa: F401
from mmmg.models.ssl import (embed_tokens, teacher_feature_targets,
                             tubelet_pixel_targets)

MEAN, STD = [123.675, 116.28, 103.53], [58.395, 57.12, 57.375]
VIT = dict(
    type='VisionTransformer',
    img_size=64,
    patch_size=16,
    embed_dims=32,
    depth=2,
    num_heads=2,
    num_frames=4,
    tubelet_size=2,
    norm_cfg=dict(type='LN', eps=1e-6))
# 2 x 4 x 4 = 32 tokens; ratio 0.75 -> 12 masked per slice, 8 visible.
NUM_TOKENS, NUM_VISIBLE = 32, 8


def build(**kwargs):
    register_all_modules()
    cfg = dict(
        type='VideoMAEPretrainer',
        backbone=copy.deepcopy(VIT),
        decoder=dict(embed_dims=16, depth=1, num_heads=2),
        masking=dict(type='TubeMaskGenerator', ratio=0.75, seed=0),
        data_preprocessor=dict(
            type='ActionDataPreprocessor',
            mean=MEAN,
            std=STD,
            format_shape='NCTHW'))
    cfg.update(kwargs)
    torch.manual_seed(0)
    model = MODELS.build(cfg)
    model.init_weights()
    return model.train()


@pytest.fixture(scope='module')
def clips():
    torch.manual_seed(1)
    return torch.randn(2, 3, 4, 64, 64)


def _tubelet_region(mask_row, token):
    """Slices of the clip covered by ``token`` on the 2x4x4 grid."""
    t, rest = divmod(token, 16)
    h, w = divmod(rest, 4)
    return (slice(2 * t,
                  2 * t + 2), slice(16 * h,
                                    16 * h + 16), slice(16 * w, 16 * w + 16))


def test_encoder_runs_on_visible_tokens_only(clips):
    model = build()
    mask = model.make_mask(clips)
    assert mask.shape == (2, NUM_TOKENS)
    assert (mask.sum(1) == NUM_TOKENS - NUM_VISIBLE).all()
    seen = []
    model.backbone.blocks[0].register_forward_hook(
        lambda m, args, out: seen.append(args[0].shape))
    with torch.no_grad():
        visible = model.encode(clips, mask)
        pred, _ = model(clips, mask=mask)
    assert visible.shape == (2, NUM_VISIBLE, 32)
    assert seen[0] == (2, NUM_VISIBLE, 32)
    assert pred.shape == (2, NUM_TOKENS - NUM_VISIBLE, 2 * 16 * 16 * 3)
    # Scrambling the pixels of masked tubelets changes neither the encoder
    # output nor the prediction, only the target.
    changed = clips.clone()
    for b in range(2):
        for token in mask[b].nonzero().flatten().tolist():
            ts, hs, ws = _tubelet_region(mask[b], token)
            changed[b, :, ts, hs, ws] = torch.randn_like(changed[b, :, ts, hs,
                                                                 ws])
    with torch.no_grad():
        assert torch.allclose(model.encode(changed, mask), visible)
        assert torch.allclose(model(changed, mask=mask)[0], pred)
        assert not torch.allclose(
            model(changed, mode='loss', mask=mask)['loss_mae'],
            model(clips, mode='loss', mask=mask)['loss_mae'])


def test_loss_is_mse_on_masked_tokens_only(clips):
    model = build()
    mask = model.make_mask(clips)
    with torch.no_grad():
        loss = model(clips, mode='loss', mask=mask)['loss_mae']
        pred, _ = model(clips, mask=mask)
    target = tubelet_pixel_targets(clips, MEAN, STD, 16, 2)
    assert torch.allclose(loss,
                          F.mse_loss(pred, target[mask].reshape(pred.shape)))
    # Garbage targets on visible tokens leave the loss unchanged.
    garbage = target.clone()
    garbage[~mask] = 1e3
    model.targets = lambda inputs: garbage
    with torch.no_grad():
        assert torch.equal(
            model(clips, mode='loss', mask=mask)['loss_mae'], loss)


def test_gradient_checkpointing_gives_same_loss_and_grads(clips):
    plain, cp = build(), build(with_cp=True)
    cp.load_state_dict(plain.state_dict())
    mask = plain.make_mask(clips)
    calls = {'plain': 0, 'cp': 0}
    for name, model in (('plain', plain), ('cp', cp)):
        block = model.backbone.blocks[0]

        def counted(x, name=name, forward=block.forward):
            calls[name] += 1
            return forward(x)

        block.forward = counted
    losses = []
    for model in (plain, cp):
        loss = model(clips, mode='loss', mask=mask)['loss_mae']
        loss.backward()
        losses.append(loss.detach())
    assert torch.allclose(losses[0], losses[1], atol=1e-6)
    for (name, p), q in zip(plain.named_parameters(), cp.parameters()):
        if p.grad is None:
            assert q.grad is None, name
            continue
        assert torch.allclose(p.grad, q.grad, atol=1e-6), name
    # The checkpointed block ran again in the backward pass.
    assert calls == {'plain': 1, 'cp': 2}


def test_vit_with_cp_matches_stock_vit():
    register_all_modules()
    torch.manual_seed(0)
    stock = MODELS.build(dict(VIT, drop_path_rate=0.1)).train()
    cp = MODELS.build(
        dict(
            VIT, type='VisionTransformerCP', with_cp=True,
            drop_path_rate=0.1)).train()
    assert cp.state_dict().keys() == stock.state_dict().keys()
    cp.load_state_dict(stock.state_dict())
    x = torch.randn(2, 3, 4, 64, 64)
    outs = []
    for model in (stock, cp):
        torch.manual_seed(5)  # same drop-path draws
        out = model(x)
        out.square().sum().backward()
        outs.append(out)
    assert torch.allclose(outs[0], outs[1], atol=1e-6)
    for p, q in zip(stock.parameters(), cp.parameters()):
        assert torch.allclose(p.grad, q.grad, atol=1e-5)


def test_loss_is_float32_under_autocast(clips):
    model = build()
    with torch.autocast('cpu', dtype=torch.bfloat16):
        losses = model(clips, mode='loss')
    loss = losses['loss_mae']
    assert loss.dtype == torch.float32 and torch.isfinite(loss)
    loss.backward()
    assert all(
        torch.isfinite(p.grad).all() for p in model.parameters()
        if p.grad is not None)


def test_predict_and_several_clips_per_sample(clips):
    model = build().eval()
    with torch.no_grad():
        samples = model(clips.reshape(1, 2, 3, 4, 64, 64), mode='predict')
    assert len(samples) == 1 and samples[0].mae_loss.ndim == 0
    with pytest.raises(RuntimeError):
        model(clips, mode='nonsense')


TEACHER = dict(
    type='VisionTransformer',
    img_size=64,
    patch_size=16,
    embed_dims=24,
    depth=2,
    num_heads=2,
    num_frames=2,
    tubelet_size=1)


def _teacher_target(**kwargs):
    return dict(
        type='teacher',
        teacher=copy.deepcopy(TEACHER),
        frame_stride=2,
        **kwargs)


def test_teacher_target_regresses_frozen_features(clips, tmp_path):
    register_all_modules()
    torch.manual_seed(7)
    reference = MODELS.build(copy.deepcopy(TEACHER))
    path = str(tmp_path / 'teacher.pth')
    torch.save(
        dict(state_dict={
            f'backbone.{k}': v
            for k, v in reference.state_dict().items()
        }), path)
    model = build(target=_teacher_target(checkpoint=path, layer=0))
    teacher = model.teacher
    for k, v in reference.state_dict().items():
        assert torch.equal(teacher.state_dict()[k], v), k
    # Frozen, outside the optimizer and the checkpoint, always in eval mode.
    assert not any(p.requires_grad for p in teacher.parameters())
    assert all(
        id(p) not in {id(q)
                      for q in model.parameters()}
        for p in teacher.parameters())
    assert not any('teacher' in k for k in model.state_dict())
    model.train()
    assert not teacher.training

    mask = model.make_mask(clips)
    loss = model(clips, mode='loss', mask=mask)['loss_mae']
    with torch.no_grad():
        pred, _ = model(clips, mask=mask)
        tokens, _ = embed_tokens(reference.eval(), clips[:, :, ::2])
        feats = teacher_feature_targets(reference.blocks[0](tokens))
    assert pred.shape[-1] == 24
    assert torch.allclose(
        loss, F.mse_loss(pred, feats[mask].reshape(pred.shape)), atol=1e-6)
    loss.backward()
    assert model.backbone.blocks[0].attn.qkv.weight.grad is not None
    assert all(p.grad is None for p in teacher.parameters())


def test_teacher_grid_must_match():
    model = build(target=dict(_teacher_target(), frame_stride=1))
    with pytest.warns(UserWarning, match='no checkpoint'):
        model.load_teacher()
    with pytest.raises(ValueError, match='token grid'):
        model(torch.randn(1, 3, 4, 64, 64), mode='loss')


def test_encoder_keys_load_into_mmaction_vit_and_recognizer():
    from mmaction.models.backbones.vit_mae import VisionTransformer
    model = build()
    state = model.state_dict()
    encoder = {
        k[len('backbone.'):]: v
        for k, v in state.items() if k.startswith('backbone.')
    }
    vit = MODELS.build(copy.deepcopy(VIT))
    assert type(vit) is VisionTransformer
    vit.load_state_dict(encoder, strict=True)  # nothing missing or extra
    recognizer = MODELS.build(
        dict(
            type='Recognizer3D',
            backbone=copy.deepcopy(VIT),
            cls_head=dict(
                type='TimeSformerHead', num_classes=4, in_channels=32)))
    result = recognizer.load_state_dict(state, strict=False)
    assert sorted(result.missing_keys) == [
        'cls_head.fc_cls.bias', 'cls_head.fc_cls.weight'
    ]
    assert {k.split('.')[0]
            for k in result.unexpected_keys} == {'decoder', 'encoder_norm'}
