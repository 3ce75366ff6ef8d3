"""Tiny upper-body annotation pickles and skeleton encoder checkpoints."""
import pickle

import numpy as np
import torch

TOY_BACKBONE = dict(
    type='DualStreamSkeletonTransformer',
    num_joints=59,
    seq_len=32,
    embed_dims=64,
    depth=1,
    num_heads=4,
    dropout=0.,
    layout='upper_body59',
    stream='joint')
TOY_CONFIG = 'configs/ssl/skeleton/linear_probe_upper59_joint_toy.py'


def write_upper_body_ann(path,
                         splits=dict(train=3, test=2),
                         clips=4,
                         frames=40,
                         num_classes=3,
                         seed=0):
    """``splits`` maps a split to its number of videos; every video has
    ``clips`` clips ``<video>_<k>`` of a moving upper-body skeleton."""
    rng = np.random.default_rng(seed)
    anns, split_ids = [], {}
    for split, videos in splits.items():
        split_ids[split] = []
        for v in range(videos):
            video = f'{split[:2]}{v:02d}'
            for k in range(clips):
                label = (v + k) % num_classes
                t = np.arange(frames)[:, None]
                base = rng.uniform(100, 200, size=(1, 59, 2))
                wave = np.sin(t / (3 + label))[..., None] * 10
                kp = (base + wave).astype(np.float32)[None]
                score = rng.uniform(0.5, 1, size=(1, frames, 59))
                sid = f'{video}_{k}'
                split_ids[split].append(sid)
                anns.append(
                    dict(
                        frame_dir=sid,
                        label=label,
                        total_frames=frames,
                        img_shape=(360, 640),
                        original_shape=(360, 640),
                        keypoint=kp,
                        keypoint_score=score.astype(np.float32),
                        video=video))
    with open(path, 'wb') as f:
        pickle.dump(dict(split=split_ids, annotations=anns), f)
    return anns


def save_pretrainer_checkpoint(path, seed=0):
    """A randomly initialised pre-trainer with the toy config's encoder,
    saved as mmengine does (``state_dict``); returns the model."""
    from mmaction.registry import MODELS
    from mmengine.registry import init_default_scope
    init_default_scope('mmaction')
    torch.manual_seed(seed)
    model = MODELS.build(
        dict(type='SkeletonDecorrelationPretrainer',
             backbone=TOY_BACKBONE)).eval()
    torch.save({'state_dict': model.state_dict()}, path)
    return model
