"""Pose heatmaps drawn on the model's device instead of in the loader."""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
from mmaction.models import ActionDataPreprocessor
from mmaction.registry import MODELS
from mmaction.utils import SampleList
from torch import Tensor

from mmmg.datasets.transforms.heatmaps import (flip_channel_index,
                                               resolve_skeleton)
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
    ``clip_len`` default to one clip of all frames when absent from the
    metainfo.

    Args:
        sigma (float): The sigma of the Gaussian maps. Defaults to 0.6.
        use_score (bool): Use keypoint scores as the peaks of the maps.
            Defaults to True.
        with_kp (bool): Generate one map per keypoint. Defaults to True.
        with_limb (bool): Generate one map per limb. Defaults to False.
        layout (str, optional): Keypoint layout giving limbs and left/right
            pairs. Defaults to None.
        skeletons (Sequence[Sequence[int]], optional): Limbs as point pairs.
            Defaults to None.
        double (bool): Append the horizontally flipped maps as extra clips.
            Defaults to False.
        left_kp (Sequence[int], optional): Left keypoints. Defaults to None.
        right_kp (Sequence[int], optional): Right keypoints.
            Defaults to None.
        left_limb (Sequence[int], optional): Left limbs. Defaults to None.
        right_limb (Sequence[int], optional): Right limbs. Defaults to None.
        scaling (float): The ratio to scale the maps and coordinates by.
            Defaults to 1.
        mean (Sequence[float], optional): Per-channel mean to subtract.
            Defaults to None.
        std (Sequence[float], optional): Per-channel std to divide by.
            Defaults to None.
        blending (dict, optional): Config for batch blending.
            Defaults to None.
    """

    def __init__(self,
                 sigma: float = 0.6,
                 use_score: bool = True,
                 with_kp: bool = True,
                 with_limb: bool = False,
                 layout: Optional[str] = None,
                 skeletons: Optional[Sequence[Sequence[int]]] = None,
                 double: bool = False,
                 left_kp: Optional[Sequence[int]] = None,
                 right_kp: Optional[Sequence[int]] = None,
                 left_limb: Optional[Sequence[int]] = None,
                 right_limb: Optional[Sequence[int]] = None,
                 scaling: float = 1.,
                 mean: Optional[Sequence[float]] = None,
                 std: Optional[Sequence[float]] = None,
                 blending: Optional[dict] = None) -> None:
        super().__init__(
            mean=mean, std=std, blending=blending, format_shape='NCTHW')
        self.skeletons, self.kp_pairs, self.limb_pairs = resolve_skeleton(
            with_kp, with_limb, double, layout, skeletons, left_kp, right_kp,
            left_limb, right_limb)
        self.sigma = sigma
        self.use_score = use_score
        self.with_kp = with_kp
        self.with_limb = with_limb
        self.double = double
        self.scaling = scaling

    def preprocess(self,
                   inputs: Union[Dict[str, List[Tensor]], List[Tensor]],
                   data_samples: SampleList,
                   training: bool = False) -> Tuple:
        if not isinstance(inputs, dict):
            return super().preprocess(inputs, data_samples, training)
        batch_inputs = self.draw_heatmaps(inputs, data_samples)
        if self._enable_normalize:
            batch_inputs = (batch_inputs - self.mean) / self.std
        if training and self.blending is not None:
            batch_inputs, data_samples = self.blending(batch_inputs,
                                                       data_samples)
        return batch_inputs, data_samples

    def draw_heatmaps(self, inputs: Dict[str, List[Tensor]],
                      data_samples: SampleList) -> Tensor:
        """Render a batch of keypoints to ``[B, N_crops x N_clips, C, T, H,
        W]`` heatmaps."""
        keypoints = inputs['keypoint']
        scores = inputs.get('keypoint_score') if self.use_score else None
        metainfo = data_samples[0].metainfo
        img_shape = tuple(metainfo['img_shape'])
        if any(tuple(s.metainfo['img_shape']) != img_shape
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

        img_h, img_w = img_shape
        if self.scaling != 1:
            keypoint *= self.scaling
            img_h = int(img_h * self.scaling + 0.5)
            img_w = int(img_w * self.scaling + 0.5)
        skeletons = self.skeletons if self.with_limb else ()
        heatmap = render_heatmaps(keypoint, value, (img_h, img_w),
                                  self.sigma, self.with_kp, skeletons)
        if self.double:
            index = flip_channel_index(num_kp if self.with_kp else 0,
                                       len(skeletons), self.kp_pairs,
                                       self.limb_pairs)
            index = torch.from_numpy(index).to(heatmap.device)
            heatmap = torch.cat([heatmap, heatmap[:, :, index].flip(-1)], 1)

        # The per-sample layout of FormatShape('NCTHW_Heatmap'):
        # [N_crops x N_clips x T, C, H, W] -> [N_crops x N_clips, C, T, H, W]
        num_clips = metainfo.get('num_clips', 1)
        clip_len = metainfo.get('clip_len', num_frame // num_clips)
        heatmap = heatmap.view(batch, -1, num_clips, clip_len,
                               *heatmap.shape[2:])
        heatmap = heatmap.permute(0, 1, 2, 4, 3, 5, 6)
        return heatmap.reshape(batch, -1, *heatmap.shape[3:])
