"""mastra-memory: Mastra's agent memory for Python, in the PostgreSQL tables Mastra itself uses.

Threads, messages, resources and working memory live in ``mastra_threads``, ``mastra_messages``
and ``mastra_resources`` exactly as ``@mastra/pg`` writes them, so Mastra (TypeScript) agents and
Python agents share one memory. Start with :meth:`Memory.connect` or :meth:`AsyncMemory.connect`.
"""

import contextlib

from ._auth import AuthContext
from ._config import MemoryConfig, SemanticRecall, TitleGeneration
from ._content import MessageContent, Part
from ._errors import (
    AuthError,
    ConflictError,
    ExtensionMissingError,
    InvalidInputError,
    MastraMemoryError,
    NotFoundError,
    OwnershipError,
    PermissionDeniedError,
    PoolTimeoutError,
    ProviderError,
    SchemaError,
    StorageError,
)
from ._memory import AsyncMemory, Memory
from ._types import (
    CloneInfo,
    CloneResult,
    DateRange,
    Include,
    Message,
    MessagePage,
    MessageUpdate,
    Resource,
    ResourceDeletion,
    Role,
    SweepResult,
    Thread,
    ThreadPage,
)
from .observational import ObservationalMemory, ObservationRecord, Observations, ObserveResult
from .processors import BackgroundTitles, filter_tool_calls, limit_tokens
from .recall import ContextDiagnostics, MemoryContext, RecallHit
from .working_memory import (
    WorkingMemory,
    WorkingMemoryTemplate,
    WorkingMemoryTool,
    WorkingMemoryUpdate,
    working_memory_tool,
)

__version__ = "0.1.0"

__all__ = [
    "AsyncMemory",
    "AuthContext",
    "AuthError",
    "BackgroundTitles",
    "CloneInfo",
    "CloneResult",
    "ConflictError",
    "ContextDiagnostics",
    "DateRange",
    "ExtensionMissingError",
    "Include",
    "InvalidInputError",
    "MastraMemoryError",
    "Memory",
    "MemoryConfig",
    "MemoryContext",
    "Message",
    "MessageContent",
    "MessagePage",
    "MessageUpdate",
    "NotFoundError",
    "ObservationRecord",
    "ObservationalMemory",
    "Observations",
    "ObserveResult",
    "OwnershipError",
    "Part",
    "PermissionDeniedError",
    "PoolTimeoutError",
    "ProviderError",
    "RecallHit",
    "Resource",
    "ResourceDeletion",
    "Role",
    "SchemaError",
    "SemanticRecall",
    "StorageError",
    "SweepResult",
    "Thread",
    "ThreadPage",
    "TitleGeneration",
    "WorkingMemory",
    "WorkingMemoryTemplate",
    "WorkingMemoryTool",
    "WorkingMemoryUpdate",
    "filter_tool_calls",
    "limit_tokens",
    "working_memory_tool",
]

for _name in __all__:
    _obj = globals()[_name]
    if hasattr(_obj, "__module__") and _obj.__module__.startswith("mastra_memory."):
        with contextlib.suppress(AttributeError, TypeError):
            _obj.__module__ = __name__
