"""tools/merge_rgbpose_checkpoint.py: RGB-only + pose-only -> RGBPose."""
import json
import os.path as osp

import pytest
import torch
from mmaction.registry import MODELS
from mmaction.utils import register_all_modules

import mmmg  # noqa: F401
from mmmg.utils.config import read_config
from ..cli_helpers import assert_known_error, run_cli
from ..conftest import REPO, TOY_CONFIG, run_tool

RGBPOSE_DIR = osp.join(REPO, 'configs', 'multimodal', 'rgbposec3d')
RGBPOSE_TOY = osp.join(RGBPOSE_DIR, 'rgbposec3d_mg36_joint_toy.py')
RGB_ONLY_TOY = osp.join(RGBPOSE_DIR, 'slowonly_r50_rgb_only_toy.py')


@pytest.fixture(scope='module')
def sources(tmp_path_factory):
    register_all_modules()
    tmp = tmp_path_factory.mktemp('merge')
    torch.manual_seed(0)
    paths = {}
    for name, config in (('rgb', RGB_ONLY_TOY), ('pose', TOY_CONFIG)):
        model_cfg = read_config(config).model
        model = MODELS.build(model_cfg)
        paths[name] = str(tmp / f'{name}.pth')
        torch.save(dict(state_dict=model.state_dict(), meta={}), paths[name])
    paths['out'] = str(tmp / 'init.pth')
    proc = run_tool([
        'tools/merge_rgbpose_checkpoint.py', RGBPOSE_TOY, paths['rgb'],
        paths['pose'], '--out', paths['out']
    ])
    assert proc.returncode == 0, proc.stderr[-3000:]
    paths['stdout'] = proc.stdout
    return paths


def _state(path):
    return torch.load(path, map_location='cpu', weights_only=True)


def test_loads_with_only_reported_keys_missing(sources):
    with open(osp.splitext(sources['out'])[0] + '.json') as f:
        report = json.load(f)
    model = MODELS.build(read_config(RGBPOSE_TOY).model)
    result = model.load_state_dict(
        _state(sources['out'])['state_dict'], strict=False)
    assert not result.unexpected_keys
    # torch does not count a BatchNorm's step counter as missing.
    assert sorted(result.missing_keys) == sorted(
        k for k in report['new'] if not k.endswith('num_batches_tracked'))
    # New keys are the lateral connections only; both heads were copied.
    assert report['new'] and all('_lateral.' in k for k in report['new'])
    assert 'cls_head.fc_rgb.weight' in report['copied']
    assert 'cls_head.fc_pose.weight' in report['copied']
    assert not report['unused']['rgb'] and not report['unused']['pose']
    assert f"newly initialised: {len(report['new'])}" in sources['stdout']


def test_copied_and_padded_weights(sources):
    merged = _state(sources['out'])['state_dict']
    rgb = _state(sources['rgb'])['state_dict']
    pose = _state(sources['pose'])['state_dict']
    torch.testing.assert_close(merged['backbone.rgb_path.conv1.conv.weight'],
                               rgb['backbone.conv1.conv.weight'])
    torch.testing.assert_close(merged['cls_head.fc_pose.weight'],
                               pose['cls_head.fc_cls.weight'])
    padded = merged['backbone.pose_path.layer2.0.conv1.conv.weight']
    source = pose['backbone.layer2.0.conv1.conv.weight']
    assert padded.shape[1] > source.shape[1]
    torch.testing.assert_close(padded[:, :source.shape[1]], source)
    assert not padded[:, source.shape[1]:].any()


def test_head_class_mismatch_is_reported_new(sources, tmp_path):
    state = _state(sources['rgb'])
    state['state_dict']['cls_head.fc_cls.weight'] = torch.zeros(52, 512)
    state['state_dict']['cls_head.fc_cls.bias'] = torch.zeros(52)
    rgb52 = str(tmp_path / 'rgb52.pth')
    torch.save(state, rgb52)
    out = str(tmp_path / 'init.pth')
    proc = run_tool([
        'tools/merge_rgbpose_checkpoint.py', RGBPOSE_TOY, rgb52,
        sources['pose'], '--out', out
    ])
    assert proc.returncode == 0, proc.stderr[-3000:]
    with open(str(tmp_path / 'init.json')) as f:
        new = json.load(f)['new']
    assert 'shape (52, 512) in the rgb checkpoint' in new[
        'cls_head.fc_rgb.weight']


def test_bad_inputs(sources, tmp_path):
    junk = tmp_path / 'junk.pth'
    torch.save({'a': 1}, str(junk))
    proc = run_tool([
        'tools/merge_rgbpose_checkpoint.py', RGBPOSE_TOY,
        str(junk), sources['pose'], '--out',
        str(tmp_path / 'x.pth')
    ])
    assert proc.returncode != 0 and 'junk.pth' in proc.stderr
    proc = run_tool([
        'tools/merge_rgbpose_checkpoint.py', TOY_CONFIG, sources['rgb'],
        sources['pose'], '--out',
        str(tmp_path / 'x.pth')
    ])
    assert proc.returncode != 0 and 'not an RGBPoseConv3D' in proc.stderr
    assert not osp.exists(tmp_path / 'x.pth')


def test_checkpoint_tools_refuse_garbage_in_one_line(tmp_path, capsys,
                                                     monkeypatch):
    """Both checkpoint tools name a garbage checkpoint (not torch's advice
    to unpickle it) and an output below a file, and write nothing."""
    junk = tmp_path / 'junk.pth'
    junk.write_bytes(b'garbage')
    (tmp_path / 'file').write_text('')
    out = tmp_path / 'out.pth'
    for tool, argv in (('tools/convert_checkpoint.py',
                        [junk, out, '--config', RGBPOSE_TOY]),
                       ('tools/merge_rgbpose_checkpoint.py',
                        [RGBPOSE_TOY, junk, junk, '--out', out])):
        line = assert_known_error(
            run_cli(tool, argv, capsys, monkeypatch), tool, junk,
            'not a PyTorch checkpoint')
        assert 'weights_only' not in line
        below_file = [
            a if a != out else tmp_path / 'file' / 'x.pth' for a in argv
        ]
        assert_known_error(
            run_cli(tool, below_file, capsys, monkeypatch), tool, 'x.pth',
            'is a file, so nothing can be made')
    assert sorted(p.name for p in tmp_path.iterdir()) == ['file', 'junk.pth']
