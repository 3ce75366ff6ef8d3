"""Pose heatmaps drawn on the model's device instead of in the loader."""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
from mmaction.models import ActionDataPreprocessor
from mmaction.registry import MODELS
from mmaction.utils import SampleList
from torch import Tensor

from mmmg.datasets.transforms.heatmap_spec import HeatmapSpec
from .heatmap_renderer import render_heatmaps


@MODELS.register_module()
class HeatmapDataPreprocessor(ActionDataPreprocessor):
    """Draw pose heatmaps in batch on the model's device.

    The loader ships keypoints instead of heatmaps: end the pipeline with
    ``PackActionInputs(collect_keys=('keypoint', 'keypoint_score'),
    meta_keys=('img_shape', 'num_clips', 'clip_len'))`` in place of
    ``GeneratePoseHeatmaps`` + ``FormatShape('NCTHW_Heatmap')`` +
    ``PackActionInputs``. The maps equal those of
    :class:`GeneratePoseHeatmaps` with the same arguments, laid out as
    ``FormatShape('NCTHW_Heatmap')`` does; then normalisation and blending
    follow :class:`ActionDataPreprocessor` with ``format_shape='NCTHW'``.
    Inputs that are already heatmaps (a list of tensors) are only stacked.

    All samples of a batch must share ``img_shape``, frame and keypoint
    counts; persons are padded with zero scores. ``num_clips`` and
    ``clip_len`` (``clip_len['Pose']`` of RGBPose samples) default to one
    clip of all frames when absent from the metainfo.

    Flip doubling is test-time augmentation: training batches are never
    doubled. In inference, a batch is doubled when its samples' metainfo
    says ``heatmap_double=True`` (set by the loader's
    :class:`~mmmg.utils.gpu_render.PackPoseKeypoints`, so one config can
    double its test clips and not its validation clips), else when
    ``double`` is set.

    Args:
        mean (Sequence[float], optional): Per-channel mean to subtract.
            Defaults to None.
        std (Sequence[float], optional): Per-channel std to divide by.
            Defaults to None.
        blending (dict, optional): Config for batch blending.
            Defaults to None.
        **kwargs: The heatmap options of :class:`GeneratePoseHeatmaps` (see
            :class:`HeatmapSpec`); ``double`` appends the flipped maps as
            extra clips in inference, unless the samples say otherwise.
    """

    def __init__(self,
                 mean: Optional[Sequence[float]] = None,
                 std: Optional[Sequence[float]] = None,
                 blending: Optional[dict] = None,
                 **kwargs) -> None:
        super().__init__(
            mean=mean, std=std, blending=blending, format_shape='NCTHW')
        self.spec = HeatmapSpec(**kwargs)

    def preprocess(self,
                   inputs: Union[Dict[str, List[Tensor]], List[Tensor]],
                   data_samples: SampleList,
                   training: bool = False) -> Tuple:
        if not isinstance(inputs, dict):
            return super().preprocess(inputs, data_samples, training)
        batch_inputs = self.draw_heatmaps(inputs, data_samples, not training)
        if self._enable_normalize:
            batch_inputs = (batch_inputs - self.mean) / self.std
        if training and self.blending is not None:
            batch_inputs, data_samples = self.blending(batch_inputs,
                                                       data_samples)
        return batch_inputs, data_samples

    def draw_heatmaps(self,
                      inputs: Dict[str, List[Tensor]],
                      data_samples: SampleList,
                      inference: bool = True) -> Tensor:
        """Render a batch of keypoints to ``[B, N_crops x N_clips, C, T, H,
        W]`` heatmaps; ``inference`` allows flip doubling."""
        spec = self.spec
        keypoints = inputs['keypoint']
        scores = inputs.get('keypoint_score') if spec.use_score else None
        metainfo = data_samples[0].metainfo
        img_shape = tuple(metainfo['img_shape'])
        if any(
                tuple(s.metainfo['img_shape']) != img_shape
                for s in data_samples):
            raise ValueError('all samples of a batch must share img_shape')

        batch = len(keypoints)
        _, num_frame, num_kp = keypoints[0].shape[:3]
        num_person = max(kp.shape[0] for kp in keypoints)
        keypoint = keypoints[0].new_zeros(
            (batch, num_person, num_frame, num_kp, 2), dtype=torch.float32)
        value = keypoint.new_zeros((batch, num_person, num_frame, num_kp))
        for i, kp in enumerate(keypoints):
            keypoint[i, :kp.shape[0]] = kp[..., :2]
            value[i, :kp.shape[0]] = 1 if scores is None else scores[i]

        if spec.scaling != 1:
            keypoint *= spec.scaling
        heatmap = render_heatmaps(keypoint, value,
                                  spec.output_shape(img_shape), spec.sigma,
                                  spec.with_kp, spec.limbs)
        if inference and self._double(data_samples):
            index = torch.from_numpy(spec.flip_index(num_kp)).to(
                heatmap.device)
            heatmap = torch.cat([heatmap, heatmap[:, :, index].flip(-1)], 1)

        # The per-sample layout of FormatShape('NCTHW_Heatmap'):
        # [N_crops x N_clips x T, C, H, W] -> [N_crops x N_clips, C, T, H, W]
        num_clips = metainfo.get('num_clips', 1)
        clip_len = metainfo.get('clip_len', num_frame // num_clips)
        if isinstance(clip_len, dict):
            clip_len = clip_len['Pose']
        heatmap = heatmap.view(batch, -1, num_clips, clip_len,
                               *heatmap.shape[2:])
        heatmap = heatmap.permute(0, 1, 2, 4, 3, 5, 6)
        return heatmap.reshape(batch, -1, *heatmap.shape[3:])

    def _double(self, data_samples: SampleList) -> bool:
        doubles = {
            bool(s.metainfo.get('heatmap_double', self.spec.double))
            for s in data_samples
        }
        if len(doubles) > 1:
            raise ValueError('all samples of a batch must agree on '
                             '`heatmap_double`')
        return doubles.pop()
