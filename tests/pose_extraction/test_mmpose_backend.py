"""MMPoseBackend against mmmg's own top-down path on the same weights.

Runs only where mmpose and a compiled mmcv are installed (the ``mmpose``
extra's environment): mmpose's heads import ``mmcv.ops``, which MMCV-lite
lacks, so elsewhere the module is skipped and the install hint is tested
in ``test_backends.py`` instead.
"""
import importlib.util

import numpy as np
import pytest

from mmmg.pose_extraction.topdown import crop_inputs, decode_to_frame


def _mmpose_usable() -> bool:
    if importlib.util.find_spec('mmpose') is None:
        return False
    try:
        import mmcv.ops  # noqa: F401
    except ImportError:
        return False
    return True


pytestmark = pytest.mark.skipif(
    not _mmpose_usable(),
    reason='needs mmpose and a compiled mmcv (the mmpose extra)')

INPUT_SIZE = (192, 256)
SPLIT_RATIO = 2.0
# RTMPose-t's architecture for COCO-WholeBody (mmpose's
# rtmpose-t_8xb64-270e_coco-wholebody-256x192), random weights.
CONFIG = f"""
default_scope = 'mmpose'
codec = dict(type='SimCCLabel', input_size={INPUT_SIZE}, sigma=(4.9, 5.66),
             simcc_split_ratio={SPLIT_RATIO}, normalize=False, use_dark=False)
model = dict(
    type='TopdownPoseEstimator',
    data_preprocessor=dict(type='PoseDataPreprocessor',
                           mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375], bgr_to_rgb=True),
    backbone=dict(_scope_='mmdet', type='CSPNeXt', arch='P5',
                  expand_ratio=0.5, deepen_factor=0.167, widen_factor=0.375,
                  out_indices=(4, ), channel_attention=True,
                  norm_cfg=dict(type='BN'), act_cfg=dict(type='SiLU')),
    head=dict(type='RTMCCHead', in_channels=384, out_channels=133,
              input_size=codec['input_size'],
              in_featuremap_size=(6, 8),
              simcc_split_ratio=codec['simcc_split_ratio'],
              final_layer_kernel_size=7,
              gau_cfg=dict(hidden_dims=256, s=128, expansion_factor=2,
                           dropout_rate=0., drop_path=0., act_fn='SiLU',
                           use_rel_bias=False, pos_enc=False),
              loss=dict(type='KLDiscretLoss', use_target_weight=True,
                        beta=10., label_softmax=True),
              decoder=codec),
    test_cfg=dict(flip_test=False))
test_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='TopdownAffine', input_size=codec['input_size']),
    dict(type='PackPoseInputs')
]
test_dataloader = dict(dataset=dict(type='CocoWholeBodyDataset',
                                    data_mode='topdown',
                                    pipeline=test_pipeline))
"""


@pytest.fixture(scope='module')
def model_files(tmp_path_factory):
    import torch
    from mmpose.apis import init_model
    root = tmp_path_factory.mktemp('mmpose')
    config = str(root / 'rtmpose_t_wholebody.py')
    with open(config, 'w') as f:
        f.write(CONFIG)
    torch.manual_seed(0)
    model = init_model(config, None, device='cpu')
    checkpoint = str(root / 'rtmpose_t_random.pth')
    # Tensors only: torch >= 2.6 loads checkpoints with weights_only.
    torch.save({'state_dict': model.state_dict()}, checkpoint)
    return config, checkpoint


def test_mmpose_backend_equals_the_onnx_path_decoding(model_files):
    import torch

    from mmmg.pose_extraction.backends import MMPoseBackend
    backend = MMPoseBackend(*model_files)
    assert backend.num_keypoints == 133
    rng = np.random.default_rng(0)
    # A smooth RGB frame, so crops differ from box to box.
    frame = np.clip(
        np.cumsum(rng.normal(0, 6, (240, 320, 3)), axis=1) + 128, 0,
        255).astype(np.uint8)
    boxes = np.array([[40, 30, 200, 220], [150, 60, 260, 230]], np.float32)
    keypoints, scores = backend.estimate([frame, frame], boxes)
    assert keypoints.shape == (2, 133, 2) and scores.shape == (2, 133)

    # mmmg's own path (crop, normalise, SimCC decode, back to the frame) on
    # the same network: equal up to float rounding in the crops.
    crops, center, size = crop_inputs(frame, boxes, INPUT_SIZE)
    with torch.no_grad():
        simcc_x, simcc_y = backend._model(
            torch.from_numpy(crops), mode='tensor')
    ref_keypoints, ref_scores = decode_to_frame(simcc_x.numpy(),
                                                simcc_y.numpy(), SPLIT_RATIO,
                                                center, size, INPUT_SIZE)
    valid = ref_scores > 0
    assert valid.mean() > 0.2
    # One SimCC bin in frame pixels is the tolerance: a near tie may flip.
    tolerance = (size / np.array(INPUT_SIZE) / SPLIT_RATIO).max() + 1e-3
    close = (np.abs(keypoints - ref_keypoints).max(-1) <= tolerance)[valid]
    assert close.mean() > 0.95
    np.testing.assert_allclose(
        scores[valid], ref_scores[valid], rtol=1e-3, atol=1e-3)
