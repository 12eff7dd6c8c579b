"""``LlamaIndexLLM``: any LlamaIndex LLM as a mastra-memory ``ChatModel``/``AsyncChatModel``.

Title generation and observational memory ask a model for text; this adapter lets them use the
LLM an agent already has (``OpenAI``, ``Anthropic``, ``Ollama``, ``Settings.llm``…).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any

from llama_index.core.base.llms.types import ChatMessage, ChatResponse, MessageRole
from llama_index.core.llms import LLM

from mastra_memory import InvalidInputError, ProviderError
from mastra_memory.integration import check_call_limits, within
from mastra_memory.models import ChatTurn

__all__ = ["LlamaIndexLLM"]

_ROLES = {"system": MessageRole.SYSTEM, "user": MessageRole.USER, "assistant": MessageRole.ASSISTANT}


def _model_name(llm: LLM) -> str:
    try:
        name = llm.metadata.model_name
    except Exception:  # metadata is a property some LLMs compute; a name is not worth failing for
        name = None
    if isinstance(name, str) and name and name != "unknown":
        return name
    return llm.class_name()


class LlamaIndexLLM:
    """A LlamaIndex ``LLM`` seen as mastra-memory's ``ChatModel`` and ``AsyncChatModel``.

    ``complete`` calls ``llm.chat`` and ``acomplete`` calls ``llm.achat``; the reply message's
    text is returned. Any failure becomes :class:`~mastra_memory.ProviderError`.

    Args:
        llm: the LLM, e.g. ``OpenAI(model="gpt-4o-mini", timeout=20, max_retries=2)``.
        timeout: seconds an ``acomplete`` call may take, retries included, before it is cancelled
            and reported as ``ProviderError`` (None: no limit of ours). A blocking ``complete``
            cannot be interrupted from Python: it relies on the LLM's own ``timeout``.
        max_retries: extra attempts after a failure, waiting ``retry_delay`` seconds, doubled each
            time. LlamaIndex's provider LLMs retry transient HTTP errors themselves
            (``max_retries``); this adds retries for LLMs that do not.
        retry_delay: first wait in seconds (0: retry at once).
        model_id: the name recorded with what the model produced (default: ``metadata.model_name``).
        forward_max_tokens: pass the caller's ``max_tokens`` to ``chat`` as a keyword, which
            provider LLMs put in the request; set False for an LLM that rejects it.

    Raises:
        InvalidInputError: ``llm`` is not a LlamaIndex ``LLM``, or a bad timeout/retry value.
    """

    def __init__(
        self,
        llm: LLM,
        *,
        timeout: float | None = None,
        max_retries: int = 0,
        retry_delay: float = 0.5,
        model_id: str | None = None,
        forward_max_tokens: bool = True,
    ) -> None:
        if not isinstance(llm, LLM):
            raise InvalidInputError(f"LlamaIndexLLM wraps a llama_index.core.llms.LLM, got {type(llm).__name__}")
        check_call_limits(timeout, max_retries, retry_delay)
        self.llm = llm
        self.timeout = timeout
        self.max_retries = max_retries
        self.retry_delay = float(retry_delay)
        self.forward_max_tokens = forward_max_tokens
        self._model_id = model_id or _model_name(llm)

    def __repr__(self) -> str:
        return f"LlamaIndexLLM({self._model_id!r})"

    @property
    def model_id(self) -> str:
        """The wrapped LLM's name."""
        return self._model_id

    def _request(
        self, messages: Sequence[ChatTurn], max_tokens: int | None
    ) -> tuple[list[ChatMessage], dict[str, Any]]:
        chat = [ChatMessage(role=_ROLES[t.role], content=t.content) for t in messages]
        return chat, ({"max_tokens": max_tokens} if max_tokens is not None and self.forward_max_tokens else {})

    def _text(self, response: Any) -> str:
        if not isinstance(response, ChatResponse):
            raise ProviderError(f"LLM {self._model_id!r} returned {type(response).__name__}, not a ChatResponse")
        return response.message.content or ""

    def _failed(self, exc: Exception, attempts: int) -> ProviderError:
        tries = f" after {attempts} attempts" if attempts > 1 else ""
        return ProviderError(f"LLM {self._model_id!r} failed{tries}: {exc!r}; check its credentials and limits")

    def complete(self, messages: Sequence[ChatTurn], *, max_tokens: int | None = None) -> str:
        """The LLM's reply to ``messages``.

        Raises:
            ProviderError: the call failed after its retries, or returned no chat response.
        """
        chat, kwargs = self._request(messages, max_tokens)
        for attempt in range(self.max_retries + 1):
            try:
                return self._text(self.llm.chat(chat, **kwargs))
            except ProviderError:
                raise
            except Exception as exc:  # any failure of a third-party LLM becomes ProviderError
                if attempt == self.max_retries:
                    raise self._failed(exc, attempt + 1) from exc
            time.sleep(self.retry_delay * 2**attempt)
        raise AssertionError("unreachable")

    async def _attempts(self, chat: list[ChatMessage], kwargs: dict[str, Any]) -> str:
        for attempt in range(self.max_retries + 1):
            try:
                return self._text(await self.llm.achat(chat, **kwargs))
            except ProviderError:
                raise
            except Exception as exc:  # any failure of a third-party LLM becomes ProviderError
                if attempt == self.max_retries:
                    raise self._failed(exc, attempt + 1) from exc
            await asyncio.sleep(self.retry_delay * 2**attempt)
        raise AssertionError("unreachable")

    async def acomplete(self, messages: Sequence[ChatTurn], *, max_tokens: int | None = None) -> str:
        """The LLM's reply to ``messages``, without blocking the event loop.

        Raises:
            ProviderError: the call failed after its retries, timed out, or returned no chat response.
        """
        chat, kwargs = self._request(messages, max_tokens)
        return await within(self._attempts(chat, kwargs), self.timeout, f"LLM {self._model_id!r}")
