"""Small streams for the inference tests: CPU-sized configs derived from the
toy configs, checkpoints saved as tools/train.py saves them, and pose files
of ground-truth keypoints."""
import os.path as osp

import numpy as np
import torch

from ..conftest import REPO

POSE_CONFIG = '''_base_ = [{base!r}]
from mmmg.utils.pipelines import update_transforms

train_dataloader = dict(dataset=dict(pipeline=update_transforms(
    _base_.train_dataloader.dataset.pipeline,
    UniformSampleFrames=dict(clip_len={clip_len}))))
test_dataloader = dict(dataset=dict(pipeline=update_transforms(
    _base_.test_dataloader.dataset.pipeline,
    UniformSampleFrames=dict(clip_len={clip_len}),
    Resize=dict(scale=({size}, {size})))))
'''

# The same stream with heatmaps drawn on the model's device: the pipeline
# packs keypoints, HeatmapDataPreprocessor renders them.
RENDERED_CONFIG = '''_base_ = [{base!r}]
from mmmg.utils.pipelines import update_transforms

model = dict(data_preprocessor=dict(
    type='HeatmapDataPreprocessor', sigma=0.6, layout='mg36', double=True))
test_dataloader = dict(dataset=dict(pipeline=update_transforms(
    _base_.test_dataloader.dataset.pipeline,
    GeneratePoseHeatmaps=None,
    FormatShape=None,
    PackMGInputs=dict(
        _delete_=True,
        type='PackActionInputs',
        collect_keys=('keypoint', 'keypoint_score'),
        meta_keys=('img_shape', 'num_clips', 'clip_len')))))
'''


def write_rendered_config(pose_config):
    """``pose_config`` with its heatmaps drawn by the data preprocessor."""
    path = pose_config[:-3] + '_rendered.py'
    with open(path, 'w') as f:
        f.write(RENDERED_CONFIG.format(base=pose_config))
    return path


def write_pose_config(folder, clip_len=8, size=16):
    """The toy joint PoseConv3D at ``clip_len`` frames and ``size`` pixel
    test heatmaps (a config file inheriting the repository's)."""
    base = osp.join(REPO, 'configs', 'skeleton', 'posec3d',
                    'posec3d_slowonly_mg36_joint_toy.py')
    path = osp.join(str(folder), f'pose_{clip_len}x{size}.py')
    with open(path, 'w') as f:
        f.write(POSE_CONFIG.format(base=base, clip_len=clip_len, size=size))
    return path


def repo_config(*parts):
    return osp.join(REPO, 'configs', *parts)


def save_checkpoint(config, path, classes=None, favour=None, seed=0):
    """Build the config's model (seeded), optionally make its head favour
    class index ``favour`` by a large bias, and save it with the class list
    in ``meta.dataset_meta`` as the runner does."""
    from mmaction.registry import MODELS
    from mmengine.registry import init_default_scope

    from mmmg.utils.config import read_config
    init_default_scope('mmaction')
    torch.manual_seed(seed)
    model = MODELS.build(read_config(config).model)
    state = model.state_dict()
    if favour is not None:
        for key in state:
            if key.startswith('cls_head.') and key.endswith('bias'):
                state[key] = torch.zeros_like(state[key])
                state[key][favour] = 50.
    meta = {}
    if classes is not None:
        meta['dataset_meta'] = dict(classes=list(classes))
    torch.save(dict(state_dict=state, meta=meta), str(path))
    return str(path)


def ground_truth_pose(xlsx, video, out):
    """A pose file (extractor format, OpenPose-137 layout) of a toy video's
    ground-truth keypoint sheet."""
    from mmmg.data_prep.imigue_release import probe_video, read_openpose_xlsx
    from mmmg.pose_extraction.extractor import save_pose_file
    table, _ = read_openpose_xlsx(xlsx, osp.basename(xlsx))
    height, width, _ = probe_video(video, osp.basename(video))
    score = table[..., 2]
    save_pose_file(
        str(out),
        dict(
            keypoint=table[..., :2],
            keypoint_score=score,
            person_found=score.max(-1) > 0,
            img_shape=np.array([height, width]),
            fps=25.0,
            total_frames=len(table),
            layout='openpose137'))
    return str(out)
