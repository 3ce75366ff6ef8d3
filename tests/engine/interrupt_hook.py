"""A hook that kills its own process mid-epoch, as a crash or an
out-of-memory kill would (imported by the runs of test_resume.py)."""
import os
import signal

from mmaction.registry import HOOKS
from mmengine.hooks import Hook


@HOOKS.register_module()
class KillMidEpochHook(Hook):
    """SIGKILL after training iteration ``iter_in_epoch`` of ``epoch``
    (both 0-based)."""

    def __init__(self, epoch: int, iter_in_epoch: int) -> None:
        self.epoch = epoch
        self.iter_in_epoch = iter_in_epoch

    def after_train_iter(self,
                         runner,
                         batch_idx,
                         data_batch=None,
                         outputs=None) -> None:
        if (runner.epoch, batch_idx) == (self.epoch, self.iter_in_epoch):
            os.kill(os.getpid(), signal.SIGKILL)
