"""LlamaIndex adapter for mastra-memory (install ``mastra-memory[llama-index]``).

Translation and wiring only: messages are converted here and every storage and recall call goes
to the ``mastra_memory`` core.

- :class:`MastraMemory` — the one memory object for agents and chat engines (``BaseMemory``).
- :class:`WorkingMemoryBlock`, :class:`SemanticRecallBlock`, :class:`MastraContextBlock` (both in
  one) — Mastra's memory as blocks of LlamaIndex's own ``Memory``.
- :class:`ObservationsBlock` — Mastra's observational memory of flushed messages as a ``Memory`` block.
- :class:`WorkingMemoryToolSpec` — Mastra's ``updateWorkingMemory`` tool for agents.
- :class:`MastraChatStore` — Mastra threads as a ``BaseChatStore`` (``ChatMemoryBuffer`` and co.).
- :class:`MastraDBChatStore` — Mastra threads as the ``AsyncDBChatStore`` behind LlamaIndex's ``Memory``.
- :class:`MastraMessageRetriever` — semantic recall over past messages as a ``BaseRetriever``.
- :class:`LlamaIndexLLM` — a LlamaIndex LLM as the chat model for title generation and observations.
- :func:`to_mastra` / :func:`from_mastra` — LlamaIndex ``ChatMessage`` ↔ Mastra's format 2.
"""

from ._blocks import MastraContextBlock, SemanticRecallBlock, WorkingMemoryBlock
from ._chat_store import MastraChatStore
from ._db_chat_store import MastraDBChatStore
from ._memory import MastraMemory
from ._messages import from_mastra, to_mastra
from ._models import LlamaIndexLLM
from ._observations import ObservationsBlock
from ._retriever import MastraMessageRetriever
from ._tools import WorkingMemoryToolSpec

__all__ = [
    "LlamaIndexLLM",
    "MastraChatStore",
    "MastraContextBlock",
    "MastraDBChatStore",
    "MastraMemory",
    "MastraMessageRetriever",
    "ObservationsBlock",
    "SemanticRecallBlock",
    "WorkingMemoryBlock",
    "WorkingMemoryToolSpec",
    "from_mastra",
    "to_mastra",
]
