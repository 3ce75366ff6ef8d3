"""GCN input features (joint, bone and their motions) for any layout."""
from typing import List, Sequence

from mmaction.datasets.transforms import GenSkeFeat, JointToBone
from mmaction.registry import TRANSFORMS

from mmmg.keypoints.layouts import bone_parents


@TRANSFORMS.register_module()
class LayoutJointToBone(JointToBone):
    """MMAction2's ``JointToBone`` with the bones of a keypoint layout.

    A point's bone is its offset from its parent towards the neck
    (:func:`mmmg.keypoints.layouts.bone_parents`); with a score channel the
    bone's score is the mean of its two points' (as stock does for 2D
    datasets). The root's bone is zero.

    Required Keys:
        - keypoint

    Added Keys:
        - ``target`` (defaults to keypoint)

    Args:
        layout (str): Layout name. Defaults to 'mg36'.
        target (str): Key of the bones. Defaults to 'keypoint'.
    """

    def __init__(self, layout: str = 'mg36', target: str = 'keypoint') -> None:
        # 'coco' selects stock's 2D behaviour: bone scores are averaged.
        super().__init__(dataset='coco', target=target)
        self.layout = layout
        self.pairs = tuple(enumerate(bone_parents(layout)))

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(layout={self.layout!r}, '
                f'target={self.target!r})')


@TRANSFORMS.register_module()
class LayoutSkeletonFeatures(GenSkeFeat):
    """MMAction2's ``GenSkeFeat`` (joint ``j``, bone ``b``, joint motion
    ``jm``, bone motion ``bm``) with the bones of a keypoint layout.

    Required Keys:
        - keypoint
        - keypoint_score (optional; becomes the third channel)

    Modified Keys:
        - keypoint

    Args:
        layout (str): Layout name. Defaults to 'mg36'.
        feats (Sequence[str]): Features to concatenate on ``axis``.
            Defaults to ``('j', )``.
        axis (int): Defaults to -1.
    """

    def __init__(self,
                 layout: str = 'mg36',
                 feats: Sequence[str] = ('j', ),
                 axis: int = -1) -> None:
        feats: List[str] = list(feats)
        super().__init__(dataset='coco', feats=feats, axis=axis)
        self.layout = layout
        self.ops.transforms = [
            LayoutJointToBone(layout, op.target) if isinstance(
                op, JointToBone) else op for op in self.ops.transforms
        ]

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(layout={self.layout!r}, '
                f'feats={self.feats}, axis={self.axis})')
