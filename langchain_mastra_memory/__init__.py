"""LangChain / LangGraph adapter for mastra-memory (install ``mastra-memory[langchain]``).

Translation and wiring only: messages are converted here and every storage and recall call goes
to the ``mastra_memory`` core.

- :class:`MastraMemoryMiddleware` — memory for ``langchain.agents.create_agent`` (the main path).
- :class:`MastraMemoryRetriever` — semantic recall as a ``BaseRetriever``.
- :func:`create_search_memory_tool` — a ``search_memory`` tool for any agent;
  :func:`create_update_working_memory_tool` — Mastra's ``updateWorkingMemory`` tool.
- :class:`MastraChatMessageHistory` — the legacy ``BaseChatMessageHistory`` surface.
- :class:`LangChainChatModel` — a LangChain chat model as the model for title generation and observations.
- :func:`to_mastra` / :func:`from_mastra` — LangChain messages ↔ Mastra's format 2.
"""

from ._history import MastraChatMessageHistory
from ._messages import from_mastra, to_mastra
from ._middleware import MastraMemoryMiddleware, MastraMemoryState
from ._models import LangChainChatModel
from ._retriever import MastraMemoryRetriever
from ._tools import create_search_memory_tool, create_update_working_memory_tool

__all__ = [
    "LangChainChatModel",
    "MastraChatMessageHistory",
    "MastraMemoryMiddleware",
    "MastraMemoryRetriever",
    "MastraMemoryState",
    "create_search_memory_tool",
    "create_update_working_memory_tool",
    "from_mastra",
    "to_mastra",
]
