"""``with_observational_memory``: the same memory (pool, schema, embedder) with OM switched on."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, overload

from .._errors import InvalidInputError
from ._config import ObservationalMemory

if TYPE_CHECKING:
    from .._memory import AsyncMemory, Memory


@overload
def with_observational_memory(memory: Memory, options: ObservationalMemory) -> Memory: ...
@overload
def with_observational_memory(memory: AsyncMemory, options: ObservationalMemory) -> AsyncMemory: ...
@overload
def with_observational_memory(
    memory: Memory | AsyncMemory, options: ObservationalMemory
) -> Memory | AsyncMemory: ...
def with_observational_memory(memory: Memory | AsyncMemory, options: ObservationalMemory) -> Memory | AsyncMemory:
    """A sibling of ``memory`` sharing its pool, schema and embedder, with observational memory on.

    For integrations that turn OM on per agent (``MastraMemoryMiddleware(observational_memory=...)``,
    ``ObservationsBlock``). The sibling never closes the pool; the original still owns it. No I/O.

    Raises:
        InvalidInputError: ``options`` is not an :class:`ObservationalMemory`.
    """
    if not isinstance(options, ObservationalMemory):
        raise InvalidInputError("observational_memory must be an ObservationalMemory(model=...)")
    config = replace(memory.config, observational_memory=options)
    from .._memory import AsyncMemory, Memory  # at call time: the shells import this package

    embedder = memory._store.embedder
    if isinstance(memory, AsyncMemory):
        return AsyncMemory(memory.pool, config=config, schema=memory.schema, embedder=embedder)
    return Memory(memory.pool, config=config, schema=memory.schema, embedder=embedder)
