from .runner import (MGRunner, checkpoint_safe_globals, init_cpu_dist,
                     shutdown_dist)

__all__ = [
    'MGRunner', 'checkpoint_safe_globals', 'init_cpu_dist', 'shutdown_dist'
]
