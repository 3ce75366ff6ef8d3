"""Packing that keeps the sample id."""
from typing import Sequence

from mmaction.datasets.transforms import PackActionInputs
from mmaction.registry import TRANSFORMS


@TRANSFORMS.register_module()
class PackMGInputs(PackActionInputs):
    """``PackActionInputs`` that always carries ``sample_id`` into the data
    sample's metainfo (when the dataset provides it).

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
