from .checkpoint import (check_checkpoint_fits, checkpoint_safe_globals,
                         latest_complete_checkpoint, read_checkpoint)
from .clip_iod_hook import ClipIoDHook
from .random_state import (RandomStateHook, capture_random_state,
                           restore_random_state)
from .runner import MGRunner, init_cpu_dist, shutdown_dist

__all__ = [
    'ClipIoDHook', 'MGRunner', 'RandomStateHook', 'capture_random_state',
    'check_checkpoint_fits', 'checkpoint_safe_globals', 'init_cpu_dist',
    'latest_complete_checkpoint', 'read_checkpoint', 'restore_random_state',
    'shutdown_dist'
]
