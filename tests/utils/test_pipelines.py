"""update_transforms: change, replace and drop transforms by type;
update_stream: the same change on a config's three pipelines and loaders."""
import pytest

from mmmg.utils.pipelines import update_stream, update_transforms

PIPELINE = [
    dict(type='Resize', scale=(64, 64)),
    dict(type='Flip', flip_ratio=0.5, left_kp=[1], right_kp=[2]),
    dict(type='GeneratePoseHeatmaps', with_kp=True, with_limb=False),
    dict(type='Resize', scale=(32, 32)),
]


def test_update_replace_drop():
    out = update_transforms(
        PIPELINE,
        Resize=dict(keep_ratio=False),
        Flip=dict(_delete_=True, flip_ratio=0.5),
        GeneratePoseHeatmaps=None)
    assert out == [
        dict(type='Resize', scale=(64, 64), keep_ratio=False),
        dict(type='Flip', flip_ratio=0.5),
        dict(type='Resize', scale=(32, 32), keep_ratio=False),
    ]
    # The input, and the changes, stay as they were.
    assert PIPELINE[1]['left_kp'] == [1] and 'keep_ratio' not in PIPELINE[0]
    assert update_transforms(PIPELINE) == PIPELINE


def test_types_in_no_transform():
    # A type missing from this pipeline is fine while another one applies
    # (val pipelines have no Flip); none applying is a mistake.
    assert update_transforms(
        PIPELINE[2:], Flip=None,
        Resize=dict(scale=(8, 8)))[-1]['scale'] == (8, 8)
    with pytest.raises(ValueError, match="'Flipp'.*'Resize'"):
        update_transforms(PIPELINE, Flipp=None)


def test_update_stream_reaches_the_innermost_dataset():
    base = dict(
        train_pipeline=PIPELINE,
        val_pipeline=PIPELINE[:3],
        test_pipeline=PIPELINE[2:],
        train_dataloader=dict(
            dataset=dict(
                type='RepeatDataset',
                times=10,
                dataset=dict(type='PoseDataset', pipeline=PIPELINE))),
        val_dataloader=dict(dataset=dict(pipeline=PIPELINE[:3])),
        test_dataloader=dict(dataset=dict(pipeline=PIPELINE[2:])))
    limb = dict(with_kp=False, with_limb=True)
    train, val, test, train_loader, val_loader, test_loader = update_stream(
        base, GeneratePoseHeatmaps=limb)
    for new, old in ((train, PIPELINE), (val, PIPELINE[:3]), (test,
                                                              PIPELINE[2:])):
        assert new == update_transforms(old, GeneratePoseHeatmaps=limb)
    # Merged by MMEngine into the base: only the pipelines change.
    assert train_loader == dict(dataset=dict(dataset=dict(pipeline=train)))
    assert val_loader == dict(dataset=dict(pipeline=val))
    assert test_loader == dict(dataset=dict(pipeline=test))
    assert base['train_pipeline'] == PIPELINE
