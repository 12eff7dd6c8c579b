"""LlamaIndex adapter for mastra-memory (install ``mastra-memory[llama-index]``).

Translation and wiring only: messages are converted here and every storage and recall call goes
to the ``mastra_memory`` core.

- :class:`MastraMemory` — the one memory object for agents and chat engines (``BaseMemory``).
- :class:`MastraContextBlock` — working memory + recall as a block of LlamaIndex's own ``Memory``.
- :class:`MastraChatStore` — Mastra threads as a ``BaseChatStore`` (``ChatMemoryBuffer`` and co.).
- :class:`MastraMessageRetriever` — semantic recall over past messages as a ``BaseRetriever``.
- :func:`to_mastra` / :func:`from_mastra` — LlamaIndex ``ChatMessage`` ↔ Mastra's format 2.
"""

from ._blocks import MastraContextBlock
from ._chat_store import MastraChatStore
from ._memory import MastraMemory
from ._messages import from_mastra, to_mastra
from ._retriever import MastraMessageRetriever

__all__ = [
    "MastraChatStore",
    "MastraContextBlock",
    "MastraMemory",
    "MastraMessageRetriever",
    "from_mastra",
    "to_mastra",
]
