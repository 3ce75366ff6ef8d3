"""mmmg.apis: streams load from config + checkpoint, score clips exactly as
their stock test pipelines do, and score long videos window by window."""
import pickle

import numpy as np
import pytest
import torch

from mmmg.apis import (StreamError, load_stream, load_streams, plan_windows,
                       score_clip, score_video, to_frames)
from mmmg.apis.streams import split_pipeline
from mmmg.classes import IMIGUE_CLASSES
from mmmg.fusion import Ensemble
from ..conftest import make_tiny_pose_ann
from ..video_helpers import write_index_video
from .stream_helpers import (repo_config, save_checkpoint, write_pose_config,
                             write_rendered_config)

SWIN = repo_config('recognition', 'swin', 'swin_tiny_rgb_toy.py')
RGBPOSE = repo_config('multimodal', 'rgbposec3d',
                      'rgbposec3d_mg36_joint_toy.py')


@pytest.fixture(scope='module')
def pose_files(tmp_path_factory):
    """A small pose config and two checkpoints of it (other seeds)."""
    tmp = tmp_path_factory.mktemp('pose_stream')
    config = write_pose_config(tmp)
    return dict(
        config=config,
        a=save_checkpoint(config, tmp / 'a.pth', IMIGUE_CLASSES, seed=0),
        b=save_checkpoint(config, tmp / 'b.pth', IMIGUE_CLASSES, seed=1),
        tmp=tmp)


@pytest.fixture(scope='module')
def pose_stream(pose_files):
    return load_stream(pose_files['config'], pose_files['a'], name='joint')


@pytest.fixture(scope='module')
def clip(tmp_path_factory):
    """One 20-frame clip of the tiny learnable pose set (36 points)."""
    path = make_tiny_pose_ann(
        str(tmp_path_factory.mktemp('ann') / 'tiny.pkl'), per_class=(1, 0, 0))
    with open(path, 'rb') as f:
        return pickle.load(f)['annotations'][0]


def long_pose(clip, repeats=4, absent=()):
    """A pose record of ``repeats`` copies of the clip; frames ``absent``
    without the subject (zeros, as the extractor marks them)."""
    kp = np.concatenate([clip['keypoint'][0]] * repeats)
    score = np.concatenate([clip['keypoint_score'][0]] * repeats)
    found = np.ones(len(kp), bool)
    found[list(absent)] = False
    kp[~found], score[~found] = 0, 0
    return dict(
        keypoint=kp,
        keypoint_score=score,
        person_found=found,
        img_shape=np.array([64, 64]),
        fps=25.0,
        layout='mg36')


def test_durations_are_frames_or_seconds():
    assert to_frames(48, 25) == 48
    assert to_frames('48', 25) == to_frames('48f', 25) == 48
    assert to_frames('2s', 25) == 50
    assert to_frames('1.5s', 30) == 45
    for bad in ('two', '-1', '0', '0.01s'):
        with pytest.raises(StreamError, match='window'):
            to_frames(bad, 25)


@pytest.mark.parametrize('frames,window,stride', [(100, 32, 16), (100, 30, 7),
                                                  (64, 64, 8), (33, 8, 8)])
def test_windows_cover_every_frame_once_started(frames, window, stride):
    starts, ends = plan_windows(frames, window, stride)
    assert (ends - starts == window).all()
    assert starts[0] == 0 and ends[-1] == frames
    covered = np.zeros(frames, int)
    for s, e in zip(starts, ends):
        covered[s:e] += 1
    assert (covered > 0).all()
    # Regular starts, plus one last window flush with the end.
    np.testing.assert_array_equal(starts[:-1],
                                  np.arange(len(starts) - 1) * stride)


def test_a_video_shorter_than_the_window_is_one_window():
    starts, ends = plan_windows(10, 32, 16)
    assert starts.tolist() == [0] and ends.tolist() == [10]


def test_test_pipelines_are_cut_at_decoding():
    from mmmg.utils.config import read_config
    pipelines = {
        path: read_config(path).test_dataloader.dataset.pipeline
        for path in (SWIN, RGBPOSE)
    }
    sample, rest = split_pipeline(pipelines[SWIN])
    assert sample['type'] == 'SampleFrames'
    assert sample['num_clips'] == 1 and sample['test_mode']
    assert [t['type'] for t in rest
            ] == ['Resize', 'ThreeCrop', 'FormatShape', 'PackMGInputs']
    sample, rest = split_pipeline(pipelines[RGBPOSE], num_clips=None)
    assert sample['type'] == 'MMUniformSampleFrames'
    assert sample['num_clips'] == 2  # the config's own
    assert rest[0]['type'] == 'MGMMCompact'


def test_pose_stream_reads_layout_classes_and_clip_length(pose_stream):
    assert pose_stream.kind == 'pose'
    assert pose_stream.layout == 'mg36'
    assert pose_stream.clip_frames == 8
    assert pose_stream.classes == IMIGUE_CLASSES
    assert pose_stream.outputs == ('joint', )


def test_clip_scores_equal_the_stock_test_pipeline(pose_stream, pose_files,
                                                   clip):
    """The window feed replaces only loading: the probabilities equal those
    of the config's own pipeline (one clip) run on the annotation."""
    from mmengine.dataset import Compose, pseudo_collate

    from mmmg.utils.config import read_config
    pipeline = read_config(pose_files['config']).test_dataloader.dataset.\
        pipeline
    pipeline[0] = dict(pipeline[0], num_clips=1)
    sample = Compose(pipeline)(dict(clip, start_index=0, modality='Pose'))
    with torch.no_grad():
        [stock] = pose_stream.model.test_step(pseudo_collate([sample]))
    ours = score_clip(
        pose_stream,
        dict(
            keypoint=clip['keypoint'][0],
            keypoint_score=clip['keypoint_score'][0],
            img_shape=clip['img_shape']))['joint']
    np.testing.assert_allclose(ours, stock.pred_scores.item.numpy(), atol=1e-6)
    assert ours.sum() == pytest.approx(1, abs=1e-5)


def test_heatmaps_drawn_on_the_device_score_the_same(pose_files, pose_stream,
                                                     clip):
    """A config whose HeatmapDataPreprocessor draws the heatmaps (on the
    GPU where the model runs there) scores as the loader-drawn one."""
    rendered = load_stream(
        write_rendered_config(pose_files['config']), pose_files['a'])
    assert rendered.kind == 'pose' and rendered.layout == 'mg36'
    sample = dict(
        keypoint=clip['keypoint'][0],
        keypoint_score=clip['keypoint_score'][0],
        img_shape=clip['img_shape'])
    np.testing.assert_allclose(
        score_clip(rendered, sample)[rendered.name],
        score_clip(pose_stream, sample)['joint'],
        atol=1e-5)


def test_video_windows_without_the_subject_are_not_scored(
        pose_files, pose_stream, clip):
    record = long_pose(clip, repeats=3, absent=range(16, 40))
    streams = load_streams({'joint': (pose_files['config'], pose_files['a'])})
    scores = score_video(streams, pose=record, window=8, stride=6)
    assert scores.num_frames == 60 and scores.window == 8
    present = [
        record['person_found'][s:e].mean() >= 0.5
        for s, e in zip(scores.starts, scores.ends)
    ]
    np.testing.assert_array_equal(scores.scored, present)
    assert np.isnan(scores.fused[~scores.scored]).all()
    for w in np.flatnonzero(scores.scored)[:3]:
        s, e = scores.starts[w], scores.ends[w]
        window = score_clip(
            pose_stream,
            dict(
                keypoint=record['keypoint'][s:e],
                keypoint_score=record['keypoint_score'][s:e],
                img_shape=(64, 64)))['joint']
        np.testing.assert_allclose(
            scores.scores['joint'][w], window, atol=1e-6)
    # Batching changes nothing.
    one = score_video(streams, pose=record, window=8, stride=6, batch_size=1)
    np.testing.assert_allclose(one.fused, scores.fused, atol=1e-6)


def test_fusion_json_weights_the_streams(pose_files, clip):
    ensemble = Ensemble(['a', 'b'], [0.75, 0.25], [1., 1.], 'mean')
    path = str(pose_files['tmp'] / 'fusion.json')
    ensemble.save(path)
    specs = {
        'a': (pose_files['config'], pose_files['a']),
        'b': (pose_files['config'], pose_files['b'])
    }
    streams = load_streams(specs, fusion=path)
    scores = score_video(
        streams, pose=long_pose(clip, 2), window='0.4s', stride='0.4s')
    assert (scores.window, scores.stride) == (10, 10)
    expected = 0.75 * scores.scores['a'] + 0.25 * scores.scores['b']
    np.testing.assert_allclose(scores.fused, expected, atol=1e-6)
    assert not np.allclose(scores.scores['a'], scores.scores['b'])


def test_streams_with_other_classes_are_refused(pose_files):
    renamed = list(IMIGUE_CLASSES)
    renamed[3] = 'touch cheek'
    other = save_checkpoint(pose_files['config'],
                            pose_files['tmp'] / 'other.pth', renamed)
    with pytest.raises(StreamError, match="'joint' and 'other'.*class 3"):
        load_streams({
            'joint': (pose_files['config'], pose_files['a']),
            'other': (pose_files['config'], other)
        })
    short = save_checkpoint(pose_files['config'],
                            pose_files['tmp'] / 'short.pth', renamed[:5])
    with pytest.raises(StreamError, match='5 class names for a head of 32'):
        load_stream(pose_files['config'], short)


def test_a_fusion_of_other_streams_or_classes_is_refused(pose_files):
    specs = {'joint': (pose_files['config'], pose_files['a'])}
    path = str(pose_files['tmp'] / 'other_streams.json')
    Ensemble(['joint', 'limb'], [0.5, 0.5], [1., 1.], 'mean').save(path)
    with pytest.raises(StreamError, match=r"missing: \['limb'\]"):
        load_streams(specs, fusion=path)
    path = str(pose_files['tmp'] / 'other_classes.json')
    Ensemble(['joint'], [1.], [1.],
             'mean',
             meta=dict(provenance=dict(joint=dict(num_classes=17)))).save(path)
    with pytest.raises(StreamError, match='fitted on 17 classes'):
        load_streams(specs, fusion=path)


@pytest.fixture(scope='module')
def index_video(tmp_path_factory):
    """A 40-frame mp4 (64x48) whose frames tell their index."""
    return write_index_video(
        str(tmp_path_factory.mktemp('video') / 'index.mp4'), 40)


def test_video_stream_equals_stock_decoding(index_video, tmp_path):
    """Video Swin: frames put in by the window feed score as the config's
    own DecordInit -> SampleFrames -> DecordDecode pipeline does."""
    import decord
    from mmengine.dataset import Compose, pseudo_collate

    from mmmg.utils.config import read_config
    ckpt = save_checkpoint(SWIN, tmp_path / 'swin.pth', IMIGUE_CLASSES)
    stream = load_stream(SWIN, ckpt, name='rgb')
    assert (stream.kind, stream.clip_frames) == ('video', 8)
    pipeline = read_config(SWIN).test_dataloader.dataset.pipeline
    pipeline[1] = dict(pipeline[1], num_clips=1)
    sample = Compose(pipeline)(
        dict(filename=index_video, start_index=0, modality='RGB'))
    with torch.no_grad():
        [stock] = stream.model.test_step(pseudo_collate([sample]))
    frames = decord.VideoReader(index_video)[:].asnumpy()
    ours = score_clip(stream, dict(imgs=frames))['rgb']
    np.testing.assert_allclose(ours, stock.pred_scores.item.numpy(), atol=1e-5)

    streams = load_streams({'rgb': (SWIN, ckpt)})
    seen = []
    scores = score_video(
        streams, index_video, window=16, stride=16, on_frames=seen.append)
    assert scores.starts.tolist() == [0, 16, 24]
    assert scores.scored.all() and sum(seen) == 40
    window = score_clip(stream, dict(imgs=frames[16:32]))['rgb']
    np.testing.assert_allclose(scores.scores['rgb'][1], window, atol=1e-5)


def test_rgbpose_stream_scores_both_heads(index_video, clip, tmp_path):
    ckpt = save_checkpoint(RGBPOSE, tmp_path / 'rgbpose.pth', IMIGUE_CLASSES)
    streams = load_streams({'rgbpose': (RGBPOSE, ckpt)})
    assert streams.streams[0].kind == 'rgbpose'
    assert streams.outputs == ['rgbpose.rgb', 'rgbpose.pose']
    record = long_pose(clip, repeats=2)  # 40 frames, as the video
    scores = score_video(streams, index_video, pose=record, stride=12)
    assert scores.window == 16  # the longest modality of the training clip
    for name in streams.outputs:
        np.testing.assert_allclose(scores.scores[name].sum(1), 1, atol=1e-5)
    np.testing.assert_allclose(
        scores.fused,
        (scores.scores['rgbpose.rgb'] + scores.scores['rgbpose.pose']) / 2,
        atol=1e-6)
    with pytest.raises(StreamError, match='has 80 frames but .*has 40'):
        score_video(streams, index_video, pose=long_pose(clip, repeats=4))
