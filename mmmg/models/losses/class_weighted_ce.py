"""Cross-entropy with class weights computed from the training labels."""
from typing import Dict, Optional, Sequence, Union

from mmaction.models.losses import CrossEntropyLoss
from mmaction.registry import MODELS

from .class_weights import resolve_class_weight


@MODELS.register_module()
class MGCrossEntropyLoss(CrossEntropyLoss):
    r"""MMAction2 ``CrossEntropyLoss`` whose class weights can be computed
    from the training annotations when the model is built.

    With logits :math:`s_i`, :math:`p_i = \mathrm{softmax}(s_i)` and class
    weights :math:`w_c`, the loss of a batch of :math:`N` hard labels
    :math:`y_i` is the weighted mean (PyTorch's ``cross_entropy`` with
    ``weight``, as in the stock loss)

    .. math::

        L = \frac{\sum_i w_{y_i} \, (-\log p_{i y_i})}{\sum_i w_{y_i}}

    and for soft labels :math:`q_{ic}` (label smoothing, MixUp)

    .. math::

        L = \frac{-\sum_i \sum_c w_c \, q_{ic} \log p_{ic}}
                 {\sum_i \sum_c w_c \, q_{ic}}

    times ``loss_weight``. Without class weights both are plain means over
    the batch. Weights per mode (``'none'``, ``'inverse'``,
    ``'sqrt_inverse'``, ``'effective_number'``; mean 1 over classes) and
    the handling of classes without training samples are those of
    :mod:`mmmg.models.losses.class_weights`.

    Example:
        >>> loss_cls = dict(
        ...     type='MGCrossEntropyLoss',
        ...     class_weight=dict(mode='sqrt_inverse', ann_file=ann_file,
        ...                       split='train', num_classes=32))

    Args:
        loss_weight (float): Factor on the loss. Defaults to 1.0.
        class_weight (None | list[float] | dict): None, explicit weights
            (used as given), or a spec ``dict(mode, ann_file, num_classes,
            split=None, beta=0.999, absent='max')`` resolved here, at build
            time, by :func:`~mmmg.models.losses.class_weights.
            resolve_class_weight` (which logs the counts and weights).
            Defaults to None.
    """

    def __init__(self,
                 loss_weight: float = 1.0,
                 class_weight: Union[None, Sequence[float],
                                     Dict] = None) -> None:
        weights: Optional[list] = resolve_class_weight(
            class_weight, owner=type(self).__name__)
        super().__init__(loss_weight=loss_weight, class_weight=weights)

    def extra_repr(self) -> str:
        if self.class_weight is None:
            return f'loss_weight={self.loss_weight}, class_weight=None'
        weights = ', '.join(f'{w:.3f}' for w in self.class_weight.tolist())
        return f'loss_weight={self.loss_weight}, class_weight=[{weights}]'


__all__ = ['MGCrossEntropyLoss']
