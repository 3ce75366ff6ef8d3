from .class_embedding_head import ClassEmbeddingHead  # noqa: F401
from .embedding_head import EmbeddingHead  # noqa: F401
from .label_embedding_head import LabelEmbeddingHead  # noqa: F401
from .prototype_head import PrototypeHead  # noqa: F401
from .semantic_embedding_head import SemanticEmbeddingHead  # noqa: F401
