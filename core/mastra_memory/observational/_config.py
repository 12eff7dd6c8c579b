"""Options of observational memory (Mastra's ``observationalMemory``), with Mastra's defaults."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from .._errors import InvalidInputError

__all__ = ["ObservationalMemory"]


def _positive(value: object, what: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidInputError(f"observational_memory.{what} must be an integer >= 1, got {value!r}")


def _is_model(model: object) -> bool:
    return hasattr(model, "complete") or hasattr(model, "acomplete")


@dataclass(frozen=True, slots=True)
class ObservationalMemory:
    """Observational memory: an Observer model turns old messages into dated, prioritised notes
    and a Reflector condenses the notes when they grow, so a long conversation costs a bounded
    context instead of its whole history.

    Attributes:
        model: the chat model for both Observer and Reflector (a ``ChatModel`` and/or
            ``AsyncChatModel``, e.g. :class:`~mastra_memory.models.OpenAIChatModel`). Mastra has
            no default model in Python terms, so one is required.
        observation_tokens: observe once the thread's unobserved messages reach this many tokens
            (Mastra's ``observation.messageTokens``, 30 000).
        reflection_tokens: reflect once the observations exceed this many tokens (Mastra's
            ``reflection.observationTokens``, 40 000).
        scope: ``"thread"`` (Mastra's default): one record per thread; ``"resource"``: one
            record shared by every thread of the resource, each thread in its own section.
        shared_budget: Mastra's ``shareTokenBudget``: the observation threshold grows by what
            the observations leave unused of ``reflection_tokens``.
        observer_model / reflector_model: override ``model`` for one role.
        previous_observer_tokens: how much of the existing observations the Observer sees
            (Mastra: 2000; 0 means none, None means all).
        instruction / reflection_instruction: appended to the Observer / Reflector prompt.
        thread_title: ask the Observer for a short thread title and set it.
        background: observe without blocking: ``context()`` returns the raw history at once and
            the observation runs as an asyncio task (``AsyncMemory``) or a thread (``Memory``).
        max_output_tokens: cap on each model reply (None: the model's own limit).
        retries: extra attempts when the model returns degenerate output (Mastra: 1).
        read_only: read the observations but never run the Observer or Reflector, so
            ``context()`` writes nothing (Mastra's ``readOnly`` memory; the middleware's
            ``read_only=True`` sets it). A reached threshold is reported in ``observations.due``.

    Raises:
        InvalidInputError: no usable model, or a bad threshold, scope or count.
    """

    model: Any = None
    observation_tokens: int = 30_000
    reflection_tokens: int = 40_000
    scope: Literal["thread", "resource"] = "thread"
    shared_budget: bool = False
    observer_model: Any = None
    reflector_model: Any = None
    previous_observer_tokens: int | None = 2000
    instruction: str | None = None
    reflection_instruction: str | None = None
    thread_title: bool = False
    background: bool = False
    max_output_tokens: int | None = None
    retries: int = 1
    read_only: bool = False

    def __post_init__(self) -> None:
        for role in ("observer", "reflector"):
            if not _is_model(self.model_for(role)):
                raise InvalidInputError(
                    f"observational_memory needs a chat model for the {role} (model=..., e.g. "
                    "OpenAIChatModel('gpt-4o-mini')): an object with complete() and/or acomplete()"
                )
        _positive(self.observation_tokens, "observation_tokens")
        _positive(self.reflection_tokens, "reflection_tokens")
        if self.scope not in ("thread", "resource"):
            raise InvalidInputError(f"observational_memory.scope must be 'thread' or 'resource', got {self.scope!r}")
        prev = self.previous_observer_tokens
        if prev is not None and (isinstance(prev, bool) or not isinstance(prev, int) or prev < 0):
            raise InvalidInputError(f"observational_memory.previous_observer_tokens must be >= 0 or None, got {prev!r}")
        if self.max_output_tokens is not None:
            _positive(self.max_output_tokens, "max_output_tokens")
        if isinstance(self.retries, bool) or not isinstance(self.retries, int) or not 0 <= self.retries <= 5:
            raise InvalidInputError(f"observational_memory.retries must be an integer in 0..5, got {self.retries!r}")

    def model_for(self, role: Literal["observer", "reflector"]) -> Any:
        """The model of one role (each falls back to ``model``, then to the other, as in Mastra)."""
        own = self.observer_model if role == "observer" else self.reflector_model
        other = self.reflector_model if role == "observer" else self.observer_model
        return own or self.model or other

    def threshold(self, observation_tokens_now: int) -> int:
        """Unobserved message tokens that trigger the Observer, given the current observations."""
        if not self.shared_budget:
            return self.observation_tokens
        return max(self.observation_tokens + self.reflection_tokens - observation_tokens_now, self.observation_tokens)

    def lookup_key(self, thread_id: str, resource_id: str) -> str:
        """Mastra's ``lookupKey``: ``thread:<id>`` or ``resource:<id>``."""
        return f"thread:{thread_id}" if self.scope == "thread" else f"resource:{resource_id}"

    def stored_config(self) -> dict[str, Any]:
        """The ``config`` column, shaped like Mastra's (observation, reflection, scope)."""
        return {
            "observation": {
                "model": _model_id(self.model_for("observer")),
                "messageTokens": self.observation_tokens,
                "previousObserverTokens": self.previous_observer_tokens,
                "threadTitle": self.thread_title,
            },
            "reflection": {
                "model": _model_id(self.model_for("reflector")),
                "observationTokens": self.reflection_tokens,
            },
            "scope": self.scope,
            "shareTokenBudget": self.shared_budget,
        }


def _model_id(model: Any) -> str:
    return str(getattr(model, "model_id", type(model).__name__))
