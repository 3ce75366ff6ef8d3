"""Per-video functions whose model is built where it runs."""


class LazyModel:
    """Mixin for a batch job's per-item function that holds a model.

    The model is built on first use (or by :meth:`load`, to fail early on a
    bad model file) and never pickled: each worker process builds its own,
    so a function sent to spawned workers carries only its settings.
    Subclasses implement :meth:`build_model`.
    """
    _model = None

    def build_model(self):
        raise NotImplementedError

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state.pop('_model', None)
        return state

    def load(self):
        """Build the model now, if it is not built yet; returns ``self``."""
        if self._model is None:
            self._model = self.build_model()
        return self

    def release(self) -> None:
        """Drop the model (it is rebuilt on next use)."""
        self._model = None
