"""tools/convert_checkpoint.py: released checkpoints (as their code bases
save them) into loadable checkpoints for our configs; bad inputs refused in
one line, with nothing written. Source layouts: see
tests/models/utils/released_layouts.py."""
import argparse
import os.path as osp
import runpy

import pytest
import torch
from mmaction.registry import MODELS
from mmaction.utils import register_all_modules

import mmmg
from mmmg.utils.config import read_config
from ..cli_helpers import assert_known_error, run_cli
from ..conftest import REPO
from ..models.utils import released_layouts as released

TOOL = 'tools/convert_checkpoint.py'
POSEC3D_TOY = osp.join(REPO, 'configs', 'skeleton', 'posec3d',
                       'posec3d_slowonly_mg36_joint_toy.py')
VIT_TOY = osp.join(REPO, 'configs', 'ssl', 'videomae',
                   'vit_base_p16_16x4_imigue_finetune_toy.py')


def convert(argv, capsys) -> str:
    """Run the tool's ``main`` (a success returns); its stdout."""
    main = runpy.run_path(osp.join(REPO, TOOL), run_name='tool_under_test')
    capsys.readouterr()
    assert main['main']([str(a) for a in argv]) == 0
    return capsys.readouterr().out


def build(config, seed=0):
    register_all_modules()
    mmmg.register_all_modules()
    torch.manual_seed(seed)
    return MODELS.build(read_config(config).model).eval()


@pytest.fixture(scope='module')
def pyskl_ckpt(tmp_path_factory):
    """A toy PoseConv3D saved as PYSKL (MMCV 1.x runner) saves it."""
    model = build(POSEC3D_TOY)
    path = str(tmp_path_factory.mktemp('pyskl') / 'joint.pth')
    torch.save(
        dict(
            meta=dict(
                mmcv_version='1.5.0',
                epoch=24,
                iter=9600,
                config="model = dict(type='Recognizer3D')"),
            state_dict=model.state_dict(),
            optimizer=dict(state={}, param_groups=[])), path)
    return path, model


def test_pyskl_checkpoint_converts_and_keeps_logits(pyskl_ckpt, tmp_path,
                                                    capsys, monkeypatch):
    path, original = pyskl_ckpt
    out = tmp_path / 'converted.pth'
    stdout = convert([path, out, '--config', POSEC3D_TOY], capsys)
    assert 'layout: pyskl-posec3d' in stdout
    assert f'kept: {len(original.state_dict())} keys' in stdout
    assert 'renamed: 0 keys' in stdout
    assert 'newly initialised: 0 keys' in stdout
    ckpt = torch.load(out, weights_only=True)
    assert ckpt['meta']['source'] == osp.abspath(path)
    assert ckpt['meta']['mapping']['layout'] == 'pyskl-posec3d'
    model = build(POSEC3D_TOY, seed=1)
    model.load_state_dict(ckpt['state_dict'], strict=True)
    heat = torch.rand(1, 36, 8, 16, 16)
    with torch.no_grad():
        torch.testing.assert_close(
            model.cls_head(model.backbone(heat)),
            original.cls_head(original.backbone(heat)))


@pytest.fixture(scope='module')
def videomae_ckpt(tmp_path_factory):
    """A toy-width VideoMAE fine-tuned checkpoint as its run_class_finetuning
    saves it (weights under 'module', the argparse namespace beside), with
    a 400-class head."""
    state = released.random_state(
        released.videomae_finetune(
            dim=32, depth=2, tubelet=2, patch=16, num_classes=400))
    path = str(tmp_path_factory.mktemp('videomae') / 'k400.pth')
    torch.save(
        dict(module=state, epoch=34, args=argparse.Namespace(lr=1e-3)), path)
    return path


def test_videomae_head_mismatch_refused_then_reinitialised(
        videomae_ckpt, tmp_path, capsys, monkeypatch):
    out = tmp_path / 'vit.pth'
    result = run_cli(TOOL, [videomae_ckpt, out, '--config', VIT_TOY], capsys,
                     monkeypatch)
    assert_known_error(
        result, TOOL, videomae_ckpt, 'videomae-finetune layout',
        'cls_head.fc_cls.weight (400, 32) in the checkpoint vs (32, 32) in '
        'the model', '--reinit')
    assert not out.exists()
    lines = convert(
        [videomae_ckpt, out, '--config', VIT_TOY, '--reinit', 'cls_head.*'],
        capsys).splitlines()
    # Grouped by rule, with counts, then every key.
    assert 'renamed: 30 keys' in lines
    assert '  [2] * -> backbone.*; patch_embed.proj -> ' \
        'patch_embed.projection' in lines
    assert '  [4] * -> backbone.*; mlp.fc1 -> mlp.layers.0.0' in lines
    assert ('    blocks.1.mlp.fc2.weight -> '
            'backbone.blocks.1.mlp.layers.1.weight') in lines
    assert 'newly initialised: 3 keys' in lines
    assert '  [1] fixed sinusoid, computed by the model' in lines
    assert '  [2] restarted (--reinit)' in lines
    assert '    cls_head.fc_cls.weight' in lines
    state = torch.load(out, weights_only=True)['state_dict']
    build(VIT_TOY).load_state_dict(state, strict=True)


@pytest.mark.parametrize('case', ['garbage', 'unknown', 'missing', 'tensor'])
def test_bad_checkpoints_refused_in_one_line(case, pyskl_ckpt, tmp_path,
                                             capsys, monkeypatch):
    src = tmp_path / f'{case}.pth'
    if case == 'garbage':
        src.write_bytes(b'not a checkpoint')
        names = ['not a PyTorch checkpoint']
    elif case == 'unknown':
        torch.save(dict(state_dict={'stem.weight': torch.zeros(1)}), src)
        names = ['unknown checkpoint layout', 'stem', 'pyskl-posec3d']
    elif case == 'missing':
        state = torch.load(pyskl_ckpt[0], weights_only=True)['state_dict']
        del state['cls_head.fc_cls.bias']
        torch.save(dict(state_dict=state), src)
        names = [
            'does not fit the model of', 'missing from the checkpoint: '
            'cls_head.fc_cls.bias'
        ]
    else:
        torch.save(torch.zeros(3), src)
        names = ['no weights found']
    out = tmp_path / 'out.pth'
    result = run_cli(TOOL, [src, out, '--config', POSEC3D_TOY], capsys,
                     monkeypatch)
    line = assert_known_error(result, TOOL, src, *names)
    assert 'Traceback' not in line
    assert not out.exists()


def test_bad_options_refused(pyskl_ckpt, tmp_path, capsys, monkeypatch):
    path, _ = pyskl_ckpt
    (tmp_path / 'file').write_text('')
    out = tmp_path / 'file' / 'x.pth'
    assert_known_error(
        run_cli(TOOL, [path, out, '--config', POSEC3D_TOY], capsys,
                monkeypatch), TOOL, 'x.pth', 'is a file')
    assert_known_error(
        run_cli(TOOL, [path, tmp_path / 'o.pth', '--config', 'nope.py'],
                capsys, monkeypatch), TOOL, 'nope.py', 'not found')
    # The wrong layout, named explicitly.
    assert_known_error(
        run_cli(TOOL, [
            path, tmp_path / 'o.pth', '--config', POSEC3D_TOY, '--layout',
            'videomae-finetune'
        ], capsys, monkeypatch), TOOL, 'videomae-finetune layout',
        'with no place in the model')
    assert sorted(p.name for p in tmp_path.iterdir()) == ['file']


def test_list_layouts(capsys):
    stdout = convert(['--list-layouts'], capsys)
    for name in ('pyskl-posec3d', 'pyskl-rgbposeconv3d', 'mmaction0x-swin',
                 'mmaction1x-swin', 'videomae-finetune', 'videomae-pretrain',
                 'mmmg-videomae'):
        assert f'{name}: ' in stdout
    assert 'modeling_finetune.py' in stdout
