"""Packing that keeps the sample id and shared-memory inputs."""
from typing import Dict, Optional, Sequence

import numpy as np
import torch
from mmaction.datasets.transforms import PackActionInputs
from mmaction.registry import TRANSFORMS


def shared_tensor(array: np.ndarray) -> Optional[torch.Tensor]:
    """A tensor on the same shared-memory torch storage as ``array`` (a
    view of a ``torch.Tensor`` in shared memory, such as
    :func:`~mmmg.datasets.transforms.heatmaps.shared_zeros` makes), or
    None when ``array`` is not one. ``torch.from_numpy`` would wrap the
    memory in a new storage that a loader worker copies again."""
    owner = array
    while isinstance(owner, np.ndarray):
        owner = owner.base
    if not isinstance(owner, torch.Tensor) or not owner.is_shared():
        return None
    storage = owner.untyped_storage()
    item = array.itemsize
    offset, rest = divmod(array.ctypes.data - storage.data_ptr(), item)
    if rest or any(s % item for s in array.strides):
        return None
    dtype = torch.from_numpy(np.empty(0, array.dtype)).dtype
    return torch.empty(
        0, dtype=dtype).set_(storage, offset, array.shape,
                             [s // item for s in array.strides])


@TRANSFORMS.register_module()
class PackMGInputs(PackActionInputs):
    """``PackActionInputs`` that always carries ``sample_id`` into the data
    sample's metainfo (when the dataset provides it), and packs ``imgs``
    or ``heatmap_imgs`` in shared memory (as ``GeneratePoseHeatmaps``
    draws them in a loader worker) as a tensor on that memory, which the
    worker hands to the main process without a copy.

    Required Keys:
        - As :class:`PackActionInputs`
        - sample_id (optional)

    Added Keys:
        - inputs
        - data_samples

    Args:
        meta_keys (Sequence[str]): Extra meta keys; ``sample_id`` is added.
        **kwargs: Passed to :class:`PackActionInputs`.
    """

    def __init__(self,
                 meta_keys: Sequence[str] = ('img_shape', 'img_key',
                                             'video_id', 'timestamp'),
                 **kwargs) -> None:
        meta_keys = tuple(meta_keys)
        if 'sample_id' not in meta_keys:
            meta_keys += ('sample_id', )
        super().__init__(meta_keys=meta_keys, **kwargs)

    def transform(self, results: Dict) -> Dict:
        """Pack ``results`` as :class:`PackActionInputs` does.

        Args:
            results (dict): The result dict.
        """
        for key in ('imgs', 'heatmap_imgs'):
            if isinstance(results.get(key), np.ndarray):
                tensor = shared_tensor(results[key])
                if tensor is not None:
                    results[key] = tensor
        return super().transform(results)
