"""What mastra-memory asks of a chat model.

Like the embedder protocols, two structural protocols: :class:`ChatModel` with a plain method for
scripts, :class:`AsyncChatModel` with a coroutine for servers; a class may implement both. The
core never calls a model inside a database transaction, so a slow model holds no locks.
Implementations own their timeouts and retries and raise :class:`~mastra_memory.ProviderError`
when they give up.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

__all__ = ["AsyncChatModel", "ChatModel", "ChatTurn"]


@dataclass(frozen=True, slots=True)
class ChatTurn:
    """One message of a prompt: who says it and the text."""

    role: Literal["system", "user", "assistant"]
    content: str


@runtime_checkable
class ChatModel(Protocol):
    """A synchronous chat model: prompt messages in, the reply's text out."""

    @property
    def model_id(self) -> str:
        """Name of the model, e.g. ``"gpt-4o-mini"`` (recorded with what it produced)."""
        ...

    def complete(self, messages: Sequence[ChatTurn], *, max_tokens: int | None = None) -> str:
        """The model's reply to ``messages``.

        Raises:
            ProviderError: the call failed or timed out after the implementation's retries.
        """
        ...


@runtime_checkable
class AsyncChatModel(Protocol):
    """The coroutine twin of :class:`ChatModel`."""

    @property
    def model_id(self) -> str:
        """Name of the model, e.g. ``"gpt-4o-mini"``."""
        ...

    async def acomplete(self, messages: Sequence[ChatTurn], *, max_tokens: int | None = None) -> str:
        """The model's reply to ``messages``.

        Raises:
            ProviderError: the call failed or timed out after the implementation's retries.
        """
        ...
