"""Class weights of the loss from the labels of the training set."""
from mmaction.registry import HOOKS
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper


@HOOKS.register_module()
class ClassBalanceHook(Hook):
    r"""Before training, sets the model's cross-entropy class weights to
    :math:`w_c = N / (C \max(n_c, 1))` from the :math:`n_c` samples of each
    class in the training set (the outcomes are rarely balanced).

    The training dataset needs ``class_counts()`` (as
    :class:`~mmmg.emotion.VideoBagDataset`) and the model
    ``set_class_weight()`` (as :class:`~mmmg.emotion.AttentionMILAggregator`).
    """

    priority = 'NORMAL'

    def before_train(self, runner) -> None:
        counts = runner.train_dataloader.dataset.class_counts()
        weight = counts.sum() / (len(counts) * counts.clip(min=1))
        model = runner.model.module if is_model_wrapper(runner.model) \
            else runner.model
        model.set_class_weight(weight.tolist())
        runner.logger.info(f'class counts {counts.tolist()}, loss weights '
                           f'{[round(w, 4) for w in weight.tolist()]}')


__all__ = ['ClassBalanceHook']
