"""Memory options: Mastra's ``MemoryConfig`` in snake_case, with Mastra's defaults."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ._errors import InvalidInputError
from ._plan import DEFAULT_EMBED_TIMEOUT, DEFAULT_MODEL_TIMEOUT
from .models import AsyncChatModel, ChatModel
from .observational._config import ObservationalMemory
from .working_memory._config import WorkingMemory

__all__ = ["MemoryConfig", "SemanticRecall", "TitleGeneration"]


def _count(value: object, what: str, *, minimum: int = 0) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InvalidInputError(f"{what} must be an integer >= {minimum}, got {value!r}")


@dataclass(frozen=True, slots=True)
class SemanticRecall:
    """Recall of older messages that resemble the current query (Mastra's ``semanticRecall``).

    Attributes:
        top_k: how many matching messages to bring back (Mastra: 4).
        message_range: neighbours fetched around each hit, from the hit's own thread: one number
            for both sides, or ``(before, after)`` (Mastra: 1).
        scope: ``"resource"`` searches every thread of the resource (Mastra's default);
            ``"thread"`` only the current one.
        threshold: drop hits whose cosine similarity is below this (None: keep all with
            similarity above 0, as Mastra does).
        hybrid: fuse PostgreSQL full-text search with vector search (reciprocal-rank fusion).
            Measured on LoCoMo it finds more of the facts asked about than vectors alone; see
            docs/benchmarks.md. Mastra has vectors only.
        vector_weight: with ``hybrid``, how much the vector ranking counts in the fusion
            against the keyword ranking (which counts 1). 0.1 measured best on LoCoMo with the
            offline 256-d embedder (keywords decide, vectors break ties and fill gaps); raise it
            for a stronger embedder.
    """

    top_k: int = 4
    message_range: int | tuple[int, int] = 1
    scope: Literal["resource", "thread"] = "resource"
    threshold: float | None = None
    hybrid: bool = True
    vector_weight: float = 0.1

    def __post_init__(self) -> None:
        _count(self.top_k, "semantic_recall.top_k", minimum=1)
        before, after = self.window
        _count(before, "semantic_recall.message_range (before)")
        _count(after, "semantic_recall.message_range (after)")
        if self.scope not in ("resource", "thread"):
            raise InvalidInputError(f"semantic_recall.scope must be 'resource' or 'thread', got {self.scope!r}")
        if self.threshold is not None and not (isinstance(self.threshold, int | float) and -1 <= self.threshold <= 1):
            raise InvalidInputError(
                f"semantic_recall.threshold must be a cosine similarity in [-1, 1], got {self.threshold!r}"
            )

    @property
    def window(self) -> tuple[int, int]:
        """``(before, after)`` neighbours around each hit."""
        if isinstance(self.message_range, tuple):
            return self.message_range
        return self.message_range, self.message_range


@dataclass(frozen=True, slots=True)
class TitleGeneration:
    """Naming new threads from their first user message (Mastra's ``generateTitle``).

    Attributes:
        model: the chat model that writes titles; None means the agent's own model (as in Mastra),
            which the framework adapters supply.
        instructions: a system prompt replacing ours (keep "reply with the title only" in it).
        enabled: False keeps the settings but generates nothing.
    """

    model: ChatModel | AsyncChatModel | None = None
    instructions: str | None = None
    enabled: bool = True

    def __post_init__(self) -> None:
        if self.instructions is not None and (not isinstance(self.instructions, str) or not self.instructions.strip()):
            raise InvalidInputError("generate_title.instructions must be a non-empty string or None")
        if self.model is not None and not hasattr(self.model, "complete") and not hasattr(self.model, "acomplete"):
            raise InvalidInputError(
                "generate_title.model must be a mastra_memory ChatModel/AsyncChatModel (wrap a LangChain model "
                "in LangChainChatModel, a LlamaIndex LLM in LlamaIndexLLM)"
            )


@dataclass(frozen=True, slots=True)
class MemoryConfig:
    """How much memory an agent gets.

    Attributes:
        last_messages: how many of the thread's newest messages the context carries (Mastra's
            ``lastMessages``, default 10); ``None`` turns history off.
        semantic_recall: a :class:`SemanticRecall`, ``True`` for its defaults, or ``None``
            (Mastra's default: off).
        working_memory: a :class:`~mastra_memory.WorkingMemory` (Mastra's default: None, off).
        generate_title: a :class:`TitleGeneration`, ``True`` for its defaults, or ``None``
            (Mastra's default: off). Adapters then title new threads in the background.
        observational_memory: an :class:`~mastra_memory.ObservationalMemory` (Mastra's default:
            None, off). When on, ``context()`` carries observations plus the unobserved messages
            instead of the last ``last_messages``.
        embed_timeout: seconds an embedder call may take (default 30; None: no limit). A late
            call is a ProviderError like any embedder failure: saves keep the messages and queue
            them for backfill, recall goes on without the vector search. A blocking embedder
            cannot be interrupted: its call is abandoned on a daemon thread.
        model_timeout: the same for chat model calls (titles, observational memory; default 300).
    """

    last_messages: int | None = 10
    semantic_recall: SemanticRecall | bool | None = None
    working_memory: WorkingMemory | None = None
    generate_title: TitleGeneration | bool | None = None
    observational_memory: ObservationalMemory | None = None
    embed_timeout: float | None = DEFAULT_EMBED_TIMEOUT
    model_timeout: float | None = DEFAULT_MODEL_TIMEOUT

    def __post_init__(self) -> None:
        if self.last_messages is not None:
            _count(self.last_messages, "last_messages")
        for name in ("embed_timeout", "model_timeout"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int | float) or value <= 0):
                raise InvalidInputError(f"{name} must be a number of seconds > 0, or None for no limit; got {value!r}")
        recall = self.semantic_recall
        if recall is True:
            object.__setattr__(self, "semantic_recall", SemanticRecall())
        elif recall is False:
            object.__setattr__(self, "semantic_recall", None)
        elif recall is not None and not isinstance(recall, SemanticRecall):
            raise InvalidInputError("semantic_recall must be a SemanticRecall, True, False or None")
        if self.working_memory is not None and not isinstance(self.working_memory, WorkingMemory):
            raise InvalidInputError("working_memory must be a WorkingMemory or None")
        if self.observational_memory is not None and not isinstance(self.observational_memory, ObservationalMemory):
            raise InvalidInputError("observational_memory must be an ObservationalMemory or None")
        title = self.generate_title
        if title is True:
            object.__setattr__(self, "generate_title", TitleGeneration())
        elif title is False:
            object.__setattr__(self, "generate_title", None)
        elif title is not None and not isinstance(title, TitleGeneration):
            raise InvalidInputError("generate_title must be a TitleGeneration, True, False or None")

    @property
    def recall(self) -> SemanticRecall | None:
        """The semantic-recall settings, or None when it is off."""
        return self.semantic_recall if isinstance(self.semantic_recall, SemanticRecall) else None

    @property
    def title_generation(self) -> TitleGeneration | None:
        """The title-generation settings, or None when it is off (or disabled)."""
        title = self.generate_title
        return title if isinstance(title, TitleGeneration) and title.enabled else None
