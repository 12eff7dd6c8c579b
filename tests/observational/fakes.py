"""Scripted chat models for observational-memory mechanics (fakes named as such, no network)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from mastra_memory.models import ChatTurn

Reply = str | BaseException | Callable[[Sequence[ChatTurn]], str]


def observer_reply(lines: Sequence[str], *, task: str = "Primary: planning a trip", suggested: str = "Ask about dates",
                   title: str | None = None, day: str = "May 1, 2025") -> str:
    """A well-formed Observer reply."""
    body = "\n".join(f"* {line}" for line in lines)
    out = f"<observations>\nDate: {day}\n{body}\n</observations>\n<current-task>\n{task}\n</current-task>\n"
    out += f"<suggested-response>\n{suggested}\n</suggested-response>\n"
    if title:
        out += f"<thread-title>\n{title}\n</thread-title>\n"
    return out


class ScriptedChatModel:
    """A fake ChatModel/AsyncChatModel: answers from a script (strings, exceptions to raise, or
    functions of the prompt), then repeats its default; records every prompt it was given."""

    def __init__(self, *replies: Reply, default: Reply | None = None, model_id: str = "scripted-model") -> None:
        self.replies = list(replies)
        self.default = default
        self.calls: list[list[ChatTurn]] = []
        self.max_tokens: list[int | None] = []
        self._id = model_id

    @property
    def model_id(self) -> str:
        return self._id

    def _next(self, messages: Sequence[ChatTurn], max_tokens: int | None) -> str:
        self.calls.append(list(messages))
        self.max_tokens.append(max_tokens)
        reply = self.replies.pop(0) if self.replies else self.default
        if reply is None:
            raise AssertionError("ScriptedChatModel ran out of replies")
        if isinstance(reply, BaseException):
            raise reply
        return reply(messages) if callable(reply) else reply

    def complete(self, messages: Sequence[ChatTurn], *, max_tokens: int | None = None) -> str:
        return self._next(messages, max_tokens)

    async def acomplete(self, messages: Sequence[ChatTurn], *, max_tokens: int | None = None) -> str:
        return self._next(messages, max_tokens)


def echo_observer(messages: Sequence[ChatTurn]) -> str:
    """An Observer that notes each message's first line of text (deterministic, for long runs)."""
    history = messages[-1].content
    notes = []
    for block in history.split("\n\n---\n\n"):
        lines = block.splitlines()
        if len(lines) >= 2:
            header, text = lines[0], lines[1]
            notes.append(f"🟡 (09:00) {header.strip('*:').split(' (')[0]} said: {text[:60]}")
    return observer_reply(notes or ["nothing"])


