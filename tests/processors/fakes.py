"""Fake chat models for mechanics tests of title generation (named as fakes: no model runs here)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence

from mastra_memory.models import ChatTurn


class ScriptedChatModel:
    """A chat model that replies from a script (text, or an exception to raise) and records each prompt.

    With ``gate`` it waits until the event is set before answering: a slow model the test controls.
    """

    def __init__(self, *replies: str | BaseException, gate: threading.Event | None = None) -> None:
        self.replies = list(replies)
        self.prompts: list[list[ChatTurn]] = []
        self.max_tokens: list[int | None] = []
        self.gate = gate
        self.started = threading.Event()

    @property
    def model_id(self) -> str:
        return "scripted-fake"

    def _answer(self, messages: Sequence[ChatTurn], max_tokens: int | None) -> str:
        self.prompts.append(list(messages))
        self.max_tokens.append(max_tokens)
        reply = self.replies.pop(0) if self.replies else "Untitled fake reply"
        if isinstance(reply, BaseException):
            raise reply
        return reply

    def complete(self, messages: Sequence[ChatTurn], *, max_tokens: int | None = None) -> str:
        self.started.set()
        if self.gate is not None:
            self.gate.wait(60)  # bounded, so a failing test cannot hang the run
        return self._answer(messages, max_tokens)

    async def acomplete(self, messages: Sequence[ChatTurn], *, max_tokens: int | None = None) -> str:
        self.started.set()
        if self.gate is not None:  # a threading.Event, shared with blocking callers
            await asyncio.to_thread(self.gate.wait, 60)
        return self._answer(messages, max_tokens)
