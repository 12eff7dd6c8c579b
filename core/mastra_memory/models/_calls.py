"""The limits a framework adapter puts around a third-party model's call: a deadline and retries.

The LangChain and LlamaIndex adapters take the same ``timeout`` / ``max_retries`` /
``retry_delay`` options and report a missed deadline the same way; both come from here so the
options mean one thing whichever framework's model is wrapped. How a failed call is retried stays
with each adapter (LangChain's ``with_retry``; a loop in the LlamaIndex adapter).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

from .._errors import InvalidInputError, ProviderError

__all__ = ["check_call_limits", "within"]

T = TypeVar("T")


def check_call_limits(timeout: float | None, max_retries: int, retry_delay: float) -> None:
    """Refuse limits that cannot mean anything, before a model is ever called.

    Raises:
        InvalidInputError: ``timeout`` is not > 0 (nor None), ``max_retries`` not an integer >= 0,
            or ``retry_delay`` not >= 0 (bools are refused: ``True`` is no number of seconds).
    """
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0):
        raise InvalidInputError(f"timeout must be a number of seconds > 0 or None, got {timeout!r}")
    if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
        raise InvalidInputError(f"max_retries must be an integer >= 0, got {max_retries!r}")
    if isinstance(retry_delay, bool) or not isinstance(retry_delay, int | float) or retry_delay < 0:
        raise InvalidInputError(f"retry_delay must be a number of seconds >= 0, got {retry_delay!r}")


async def within(call: Awaitable[T], timeout: float | None, model: str) -> T:
    """Await ``call`` for at most ``timeout`` seconds (None: no limit), then cancel it.

    ``model`` names the model in the error, e.g. ``"LLM 'gpt-4o-mini'"``.

    Raises:
        ProviderError: the deadline passed.
    """
    try:
        return await asyncio.wait_for(call, timeout)
    except (TimeoutError, asyncio.TimeoutError) as exc:  # distinct classes before Python 3.11
        raise ProviderError(f"{model} did not answer within {timeout} s") from exc
