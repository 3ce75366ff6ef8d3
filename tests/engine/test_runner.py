"""MGRunner: checkpoints load under torch.load(weights_only=True)."""
import pickle

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer

from mmmg.engine import checkpoint_safe_globals


def _runner_like_checkpoint(path):
    buf = HistoryBuffer()
    buf.update(1.5)
    buf.update(0.5)
    torch.save(
        dict(
            meta=dict(
                epoch=3,
                seed=np.int64(7),
                scale=np.float32(2.0),
                hist=np.arange(4)),
            message_hub=dict(log_scalars={'train/loss': buf}),
            state_dict={'w': torch.ones(2)}), path)


def test_plain_weights_only_load_rejects_runner_checkpoint(tmp_path):
    path = tmp_path / 'ckpt.pth'
    _runner_like_checkpoint(path)
    with pytest.raises(pickle.UnpicklingError):
        torch.load(path)


def test_safe_globals_load_runner_checkpoint(tmp_path):
    path = tmp_path / 'ckpt.pth'
    _runner_like_checkpoint(path)
    with checkpoint_safe_globals():
        ckpt = torch.load(path)
    assert ckpt['meta']['epoch'] == 3
    assert ckpt['meta']['seed'] == 7
    np.testing.assert_array_equal(ckpt['meta']['hist'], np.arange(4))
    assert ckpt['message_hub']['log_scalars']['train/loss'].mean() == 1.0


class _Evil:

    def __reduce__(self):
        # getattr on anything but HistoryBuffer's methods must stay blocked.
        return getattr, (np.ndarray, 'tofile')


def test_safe_globals_still_reject_arbitrary_getattr(tmp_path):
    path = tmp_path / 'evil.pth'
    torch.save({'x': _Evil()}, path)
    with checkpoint_safe_globals(), pytest.raises(pickle.UnpicklingError):
        torch.load(path)
