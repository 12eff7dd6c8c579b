"""LlamaIndexLLM: a LlamaIndex LLM as mastra-memory's ChatModel/AsyncChatModel.

Driven with llama_index.core.llms.MockLLM (it echoes the prompt, or answers "text text …" with
max_tokens) and small subclasses that fail, stall or record; one test titles a thread on the real database.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import pytest

pytest.importorskip("llama_index.core", reason="llama-index is not installed: pip install 'mastra-memory[llama-index]'")

from llama_index.core.llms import ChatMessage, ChatResponse, CompletionResponse, MessageRole, MockLLM
from pydantic import PrivateAttr

from llama_index_mastra_memory import LlamaIndexLLM
from mastra_memory import AsyncMemory, InvalidInputError, Message, ProviderError
from mastra_memory.models import AsyncChatModel, ChatModel, ChatTurn

PROMPT = [ChatTurn("system", "Be brief."), ChatTurn("user", "Name this chat")]


class RecordingLLM(MockLLM):
    """MockLLM that keeps the keyword arguments of every completion and fails the first ``failures``."""

    _kwargs: list[dict[str, Any]] = PrivateAttr(default_factory=list)
    _failures: int = PrivateAttr(default=0)

    def __init__(self, max_tokens: int | None = None) -> None:
        super().__init__(max_tokens=max_tokens)

    def fail(self, times: int) -> RecordingLLM:
        self._failures = times
        return self

    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        self._kwargs.append(kwargs)
        if self._failures > 0:
            self._failures -= 1
            raise ConnectionError("connection reset by peer")
        response: CompletionResponse = super().complete(prompt, formatted=formatted, **kwargs)
        return response


class StalledLLM(MockLLM):
    """Answers only after a long wait (async)."""

    def __init__(self) -> None:
        super().__init__(max_tokens=None)

    async def achat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        await asyncio.sleep(30)
        return ChatResponse(message=ChatMessage(role=MessageRole.ASSISTANT, content="too late"))


async def ask(model: LlamaIndexLLM, flavour: str, **kwargs: Any) -> str:
    if flavour == "sync":
        return model.complete(PROMPT, **kwargs)
    return await model.acomplete(PROMPT, **kwargs)


@pytest.fixture(params=["sync", "async"])
def flavour(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def test_turns_become_chat_messages_and_the_reply_text_returned(flavour: str) -> None:
    echo = await ask(LlamaIndexLLM(MockLLM()), flavour)  # MockLLM echoes the formatted chat
    assert echo.startswith("system: Be brief.\nuser: Name this chat\nassistant:")
    assert await ask(LlamaIndexLLM(MockLLM(max_tokens=3)), flavour) == "text text text"


async def test_max_tokens_is_forwarded_unless_turned_off(flavour: str) -> None:
    llm = RecordingLLM()
    await ask(LlamaIndexLLM(llm), flavour, max_tokens=16)
    await ask(LlamaIndexLLM(llm, forward_max_tokens=False), flavour, max_tokens=16)
    assert llm._kwargs[0].get("max_tokens") == 16
    assert "max_tokens" not in llm._kwargs[1]


def test_it_is_both_protocols_and_names_the_model() -> None:
    model = LlamaIndexLLM(MockLLM())
    assert isinstance(model, ChatModel) and isinstance(model, AsyncChatModel)
    assert model.model_id == "MockLLM"
    assert LlamaIndexLLM(MockLLM(), model_id="llama3.1").model_id == "llama3.1"


async def test_a_failure_becomes_provider_error(flavour: str) -> None:
    with pytest.raises(ProviderError, match="connection reset"):
        await ask(LlamaIndexLLM(RecordingLLM().fail(1)), flavour)


async def test_retries_then_success_or_a_provider_error(flavour: str) -> None:
    llm = RecordingLLM(max_tokens=2).fail(2)
    assert await ask(LlamaIndexLLM(llm, max_retries=2, retry_delay=0), flavour) == "text text"
    with pytest.raises(ProviderError, match="after 2 attempts"):
        await ask(LlamaIndexLLM(RecordingLLM().fail(2), max_retries=1, retry_delay=0), flavour)


async def test_an_async_call_past_its_timeout_is_a_provider_error() -> None:
    with pytest.raises(ProviderError, match="did not answer within"):
        await LlamaIndexLLM(StalledLLM(), timeout=0.05).acomplete(PROMPT)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"timeout": 0}, "timeout"), ({"max_retries": -1}, "max_retries"), ({"retry_delay": -1}, "retry_delay")],
)
def test_bad_options_are_refused(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(InvalidInputError, match=match):
        LlamaIndexLLM(MockLLM(), **kwargs)


def test_only_llms_are_wrapped() -> None:
    with pytest.raises(InvalidInputError, match="LLM"):
        LlamaIndexLLM(object())  # type: ignore[arg-type]


async def test_it_titles_a_thread_and_a_stalled_llm_keeps_the_old_title(mem: Any) -> None:
    await mem.create_thread("ada", thread_id="t1")
    await mem.save_messages([Message.user("Which plants survive a dark flat?", thread_id="t1")])
    if isinstance(mem, AsyncMemory):  # only an awaited call can be cut short by our timeout
        assert (await mem.generate_title("t1", LlamaIndexLLM(StalledLLM(), timeout=0.05))).title == ""
    assert (await mem.generate_title("t1", LlamaIndexLLM(RecordingLLM().fail(1)))).title == ""
    thread = await mem.generate_title("t1", LlamaIndexLLM(MockLLM(max_tokens=4)))
    assert thread.title == "text text text text"
    assert (await mem.get_thread("t1")).title == "text text text text"
