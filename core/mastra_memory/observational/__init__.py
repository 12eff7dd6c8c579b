"""Observational memory: an Observer model turns old messages into dated notes, a Reflector
condenses the notes, and ``context()`` carries the notes instead of the messages they replace.

Configure it with ``MemoryConfig(observational_memory=ObservationalMemory(model=...))``; see
docs/observational-memory.md.
"""

from ._attach import with_observational_memory
from ._config import ObservationalMemory
from ._inject import observation_blocks
from ._record import ObservationRecord, Observations, ObserveResult

__all__ = [
    "ObservationRecord",
    "ObservationalMemory",
    "Observations",
    "ObserveResult",
    "observation_blocks",
    "with_observational_memory",
]
