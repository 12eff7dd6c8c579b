"""Memory options: Mastra's ``MemoryConfig`` in snake_case, with Mastra's defaults."""

from __future__ import annotations

from dataclasses import dataclass

from ._errors import InvalidInputError

__all__ = ["MemoryConfig"]


@dataclass(frozen=True, slots=True)
class MemoryConfig:
    """How much memory an agent gets.

    Attributes:
        last_messages: how many of the thread's newest messages history recall returns
            (Mastra's ``lastMessages``, default 10); ``None`` turns history off.
    """

    last_messages: int | None = 10

    def __post_init__(self) -> None:
        n = self.last_messages
        if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 0):
            raise InvalidInputError(f"last_messages must be an integer >= 0 or None, got {n!r}")
