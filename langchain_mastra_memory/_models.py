"""``LangChainChatModel``: any LangChain chat model as a mastra-memory ``ChatModel``/``AsyncChatModel``.

Title generation and observational memory ask a model for text; this adapter lets them use the
model an agent already has (``ChatOpenAI``, ``ChatAnthropic``, ``init_chat_model(...)``…).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_core.runnables import Runnable

from mastra_memory import InvalidInputError, ProviderError
from mastra_memory.integration import check_call_limits, within
from mastra_memory.models import ChatTurn

__all__ = ["LangChainChatModel"]


def _model_name(chat_model: BaseChatModel) -> str:
    for attr in ("model_name", "model", "model_id"):  # ChatOpenAI, ChatAnthropic/ChatOllama, Bedrock
        value = getattr(chat_model, attr, None)
        if isinstance(value, str) and value:
            return value
    return str(getattr(chat_model, "_llm_type", type(chat_model).__name__))


def _lc_message(turn: ChatTurn) -> BaseMessage:
    if turn.role == "system":
        return SystemMessage(content=turn.content)
    if turn.role == "assistant":
        return AIMessage(content=turn.content)
    return HumanMessage(content=turn.content)


class LangChainChatModel:
    """A LangChain ``BaseChatModel`` seen as mastra-memory's ``ChatModel`` and ``AsyncChatModel``.

    ``complete`` calls ``invoke`` and ``acomplete`` calls ``ainvoke``; the reply's text (text
    blocks joined) is returned. Any failure becomes :class:`~mastra_memory.ProviderError`.

    Args:
        chat_model: the model, e.g. ``ChatOpenAI(model="gpt-4o-mini", timeout=20, max_retries=2)``.
        timeout: seconds an ``acomplete`` call may take, retries included, before it is cancelled
            and reported as ``ProviderError`` (None: no limit of ours). A blocking ``complete``
            cannot be interrupted from Python: it relies on the wrapped model's own ``timeout``.
        max_retries: extra attempts after a failure, through LangChain's ``with_retry`` (exponential
            backoff with jitter from ``retry_delay`` seconds). Provider clients usually retry
            transient HTTP errors themselves (``max_retries`` on ``ChatOpenAI``); this adds
            retries for models that do not.
        retry_delay: first backoff in seconds (0: retry at once).
        model_id: the name recorded with what the model produced (default: the model's name).
        forward_max_tokens: pass the caller's ``max_tokens`` to ``invoke`` as a keyword, which
            provider models put in the request; set False for a model that rejects it.

    Raises:
        InvalidInputError: ``chat_model`` is not a ``BaseChatModel``, or a bad timeout/retry value.
    """

    def __init__(
        self,
        chat_model: BaseChatModel,
        *,
        timeout: float | None = None,
        max_retries: int = 0,
        retry_delay: float = 0.5,
        model_id: str | None = None,
        forward_max_tokens: bool = True,
    ) -> None:
        if not isinstance(chat_model, BaseChatModel):
            raise InvalidInputError(
                f"LangChainChatModel wraps a langchain_core BaseChatModel, got {type(chat_model).__name__}"
            )
        check_call_limits(timeout, max_retries, retry_delay)
        self.chat_model = chat_model
        self.timeout = timeout
        self.forward_max_tokens = forward_max_tokens
        self._model_id = model_id or _model_name(chat_model)
        self._runnable: Runnable[Any, BaseMessage] = chat_model
        if max_retries:
            self._runnable = chat_model.with_retry(
                stop_after_attempt=max_retries + 1,
                wait_exponential_jitter=retry_delay > 0,
                exponential_jitter_params={"initial": retry_delay, "max": 30.0, "jitter": retry_delay},
            )

    def __repr__(self) -> str:
        return f"LangChainChatModel({self._model_id!r})"

    @property
    def model_id(self) -> str:
        """The wrapped model's name."""
        return self._model_id

    def _kwargs(self, max_tokens: int | None) -> dict[str, Any]:
        return {"max_tokens": max_tokens} if max_tokens is not None and self.forward_max_tokens else {}

    def _text(self, reply: Any) -> str:
        if not isinstance(reply, BaseMessage):
            raise ProviderError(f"chat model {self._model_id!r} returned {type(reply).__name__}, not a message")
        return reply.text

    def _failed(self, exc: Exception) -> ProviderError:
        return ProviderError(f"chat model {self._model_id!r} failed: {exc!r}; check its credentials and limits")

    def complete(self, messages: Sequence[ChatTurn], *, max_tokens: int | None = None) -> str:
        """The model's reply to ``messages``.

        Raises:
            ProviderError: the call failed (after any retries) or returned no message.
        """
        try:
            reply = self._runnable.invoke([_lc_message(t) for t in messages], **self._kwargs(max_tokens))
        except ProviderError:
            raise
        except Exception as exc:  # any failure of a third-party model becomes ProviderError
            raise self._failed(exc) from exc
        return self._text(reply)

    async def acomplete(self, messages: Sequence[ChatTurn], *, max_tokens: int | None = None) -> str:
        """The model's reply to ``messages``, without blocking the event loop.

        Raises:
            ProviderError: the call failed (after any retries), timed out, or returned no message.
        """
        call = self._runnable.ainvoke([_lc_message(t) for t in messages], **self._kwargs(max_tokens))
        try:
            reply = await within(call, self.timeout, f"chat model {self._model_id!r}")
        except ProviderError:
            raise
        except Exception as exc:  # any failure of a third-party model becomes ProviderError
            raise self._failed(exc) from exc
        return self._text(reply)
