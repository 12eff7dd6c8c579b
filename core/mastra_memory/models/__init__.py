"""Chat models: what observational memory and title generation ask of an LLM.

:class:`ChatModel` / :class:`AsyncChatModel` are structural protocols (messages in, text out).
:class:`OpenAIChatModel` implements both for any OpenAI-compatible server (extra ``openai``).
LangChain chat models and LlamaIndex LLMs are adapted in their integration packages.
"""

from ._openai import OpenAIChatModel
from ._protocol import AsyncChatModel, ChatModel, ChatTurn

__all__ = ["AsyncChatModel", "ChatModel", "ChatTurn", "OpenAIChatModel"]
