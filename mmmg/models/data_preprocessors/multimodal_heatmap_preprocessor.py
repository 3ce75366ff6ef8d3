"""RGBPose inputs whose pose heatmaps are drawn on the model's device."""
from typing import Dict

from mmaction.models import MultiModalDataPreprocessor
from mmaction.registry import MODELS

from .heatmap_preprocessor import HeatmapDataPreprocessor

KEYPOINT_KEYS = ('keypoint', 'keypoint_score')


@MODELS.register_module()
class MultiModalHeatmapDataPreprocessor(MultiModalDataPreprocessor):
    """:class:`MultiModalDataPreprocessor` whose ``heatmap_imgs`` modality
    arrives as keypoints and is drawn by a :class:`HeatmapDataPreprocessor`.

    MMAction2's version handles each input key as its own modality; the
    loader of a device-rendering RGBPose config ships ``keypoint`` and
    ``keypoint_score`` (see :class:`~mmmg.utils.gpu_render.PackPoseKeypoints`),
    which together become the ``heatmap_imgs`` input of ``RGBPoseConv3D``.
    Batches already holding ``heatmap_imgs`` pass as in the parent.

    Args:
        preprocessors (dict): Per-modality preprocessor configs, as in the
            parent; ``heatmap_imgs`` must be a
            :class:`HeatmapDataPreprocessor`.
    """

    def __init__(self, preprocessors: Dict) -> None:
        super().__init__(preprocessors)
        if not isinstance(
                preprocessors.get('heatmap_imgs') and
                self.preprocessors['heatmap_imgs'], HeatmapDataPreprocessor):
            raise TypeError('the `heatmap_imgs` preprocessor must be a '
                            'HeatmapDataPreprocessor, got '
                            f'{preprocessors.get("heatmap_imgs")}')

    def forward(self, data: Dict, training: bool = False) -> Dict:
        inputs = data['inputs']
        if 'keypoint' in inputs:
            # Regroup before the parent casts and runs each modality.
            inputs = dict(inputs)
            inputs['heatmap_imgs'] = {
                key: inputs.pop(key)
                for key in KEYPOINT_KEYS if key in inputs
            }
            data = dict(data, inputs=inputs)
        return super().forward(data, training)
