"""OpenAI chat completions (``pip install 'mastra-memory[openai]'``), sync and async in one class.

Works with any OpenAI-compatible server (``base_url``, or ``OPENAI_BASE_URL``): OpenAI, Azure's
compatible endpoint, vLLM, Ollama, LM Studio, OpenRouter… The key comes from ``api_key`` or
``OPENAI_API_KEY``. Timeouts and retries with exponential backoff are the SDK's own; whatever
still fails becomes :class:`~mastra_memory.ProviderError`, so observational memory can keep the
raw history and try again later.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .._errors import ProviderError
from ._protocol import ChatTurn

__all__ = ["OpenAIChatModel"]


class OpenAIChatModel:
    """A chat model on OpenAI's ``/chat/completions`` (implements ``ChatModel`` and ``AsyncChatModel``).

    The constructor does no I/O; clients are made on first use. ``temperature`` defaults to 0.3,
    Mastra's setting for the Observer. ``extra`` is passed to every request as is (e.g.
    ``{"reasoning_effort": "low"}``).

    Raises:
        ImportError: on first use, when the ``openai`` package is not installed (extra ``openai``).
    """

    def __init__(
        self,
        model: str = "gpt-4o-mini",
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float = 60.0,
        max_retries: int = 2,
        temperature: float | None = 0.3,
        extra: dict[str, Any] | None = None,
    ) -> None:
        self._model = model
        self._client_options: dict[str, Any] = {
            "api_key": api_key,
            "base_url": base_url,
            "timeout": timeout,
            "max_retries": max_retries,
        }
        self._temperature = temperature
        self._extra = dict(extra or {})
        self._sync: Any = None
        self._async: Any = None

    def __repr__(self) -> str:
        return f"OpenAIChatModel(model={self._model!r})"

    @property
    def model_id(self) -> str:
        return self._model

    def _request(self, messages: Sequence[ChatTurn], max_tokens: int | None) -> dict[str, Any]:
        request: dict[str, Any] = {
            "model": self._model,
            "messages": [{"role": m.role, "content": m.content} for m in messages],
            **self._extra,
        }
        if self._temperature is not None:
            request["temperature"] = self._temperature
        if max_tokens is not None:
            request["max_completion_tokens"] = max_tokens
        return request

    def _text(self, response: Any) -> str:
        choices = getattr(response, "choices", None) or []
        if not choices:
            raise ProviderError(f"chat model {self._model!r} returned no choices")
        content = choices[0].message.content
        return content if isinstance(content, str) else ""

    def _failed(self, exc: Exception) -> ProviderError:
        return ProviderError(f"chat model {self._model!r} failed: {type(exc).__name__}: {exc}")

    def complete(self, messages: Sequence[ChatTurn], *, max_tokens: int | None = None) -> str:
        """The model's reply (blocking).

        Raises:
            ProviderError: the request failed or timed out after the retries.
        """
        if self._sync is None:
            import openai

            self._sync = openai.OpenAI(**self._client_options)
        try:
            response = self._sync.chat.completions.create(**self._request(messages, max_tokens))
        except Exception as exc:  # the SDK's errors (timeouts, HTTP, connection) all become ProviderError
            raise self._failed(exc) from exc
        return self._text(response)

    async def acomplete(self, messages: Sequence[ChatTurn], *, max_tokens: int | None = None) -> str:
        """The model's reply, without blocking the event loop.

        Raises:
            ProviderError: the request failed or timed out after the retries.
        """
        if self._async is None:
            import openai

            self._async = openai.AsyncOpenAI(**self._client_options)
        try:
            response = await self._async.chat.completions.create(**self._request(messages, max_tokens))
        except Exception as exc:  # the SDK's errors (timeouts, HTTP, connection) all become ProviderError
            raise self._failed(exc) from exc
        return self._text(response)
