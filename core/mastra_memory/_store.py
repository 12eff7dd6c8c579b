"""What every plan is given: where the tables are and how memory is configured."""

from __future__ import annotations

from dataclasses import dataclass, field

from ._config import MemoryConfig
from .storage._tables import Tables, tables


@dataclass(frozen=True, slots=True)
class Store:
    """Immutable per-``Memory`` settings passed as the first argument of every plan."""

    tables: Tables
    config: MemoryConfig = field(default_factory=MemoryConfig)

    @classmethod
    def of(cls, schema: str, config: MemoryConfig | None) -> Store:
        return cls(tables(schema), config or MemoryConfig())
