"""``__repr__`` of the mmmg transforms, in one format."""
from typing import Any, Optional


def transform_repr(transform: Any,
                   *names: str,
                   source: Optional[Any] = None) -> str:
    """``Name(a=1, b=x)``: the class name of ``transform`` and the
    attributes ``names`` of ``source`` (the transform itself by default),
    written with ``str``."""
    source = transform if source is None else source
    args = ', '.join(f'{name}={getattr(source, name)}' for name in names)
    return f'{type(transform).__name__}({args})'
