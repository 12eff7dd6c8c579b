"""What every plan is given: where the tables are, how memory is configured, what embeds."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ._config import MemoryConfig
from .storage._tables import Tables, tables
from .storage._vectors import VectorTable


@dataclass(slots=True)
class VectorState:
    """The vector table, once a plan has found (or created) it; shared by a Memory's plans."""

    table: VectorTable | None = None


@dataclass(frozen=True, slots=True)
class Store:
    """Per-``Memory`` settings passed as the first argument of every plan."""

    tables: Tables
    config: MemoryConfig = field(default_factory=MemoryConfig)
    embedder: Any = None  # an Embedder and/or AsyncEmbedder; None until semantic recall needs one
    vectors: VectorState = field(default_factory=VectorState)

    @classmethod
    def of(cls, schema: str, config: MemoryConfig | None, embedder: Any = None) -> Store:
        config = config or MemoryConfig()
        if embedder is None and config.recall is not None:
            from .embedding import LocalEmbedder  # the offline default (DESIGN §6)

            embedder = LocalEmbedder()
        return cls(tables(schema), config, embedder)
