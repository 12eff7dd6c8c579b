"""ObservationsBlock inside LlamaIndex's own Memory: messages flushed from its FIFO are kept in the
Mastra thread and replaced by observations (scripted Observer; real database)."""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("llama_index.core", reason="llama-index is not installed: pip install 'mastra-memory[llama-index]'")

from llama_index.core.base.llms.types import ChatMessage, MessageRole
from llama_index.core.memory import Memory

from llama_index_mastra_memory import ObservationsBlock
from llama_index_mastra_memory._observations import PENDING_HEADER
from mastra_memory import InvalidInputError, ObservationalMemory

from ..observational.fakes import ScriptedChatModel, observer_reply
from .conftest import Pair

LINES = [
    "I keep bees on my roof in Ghent",
    "How lovely, how many hives do you have?",
    "Three hives, and the queen of the second one is new",
    "New queens need a calm colony, check them weekly",
    "Any advice for the winter?",
    "Insulate the hives and leave enough honey",
]


def llama_memory(block: ObservationsBlock, session: str = "bees") -> Memory:
    return Memory.from_defaults(
        session_id=session, memory_blocks=[block], token_limit=120, chat_history_token_ratio=0.3, token_flush_size=40
    )


async def test_flushed_messages_are_kept_then_observed(pair: Pair) -> None:
    model = ScriptedChatModel(
        RuntimeError("observer down"), default=observer_reply(["🔴 (09:00) User stated they keep three hives in Ghent"])
    )
    block = ObservationsBlock(
        async_memory=pair.aio, resource_id="beekeeper",
        observational_memory=ObservationalMemory(model=model, observation_tokens=60),
    )
    memory = llama_memory(block)
    for i, text in enumerate(LINES):
        await memory.aput(ChatMessage(role=MessageRole.USER if i % 2 == 0 else MessageRole.ASSISTANT, content=text))
    first = await memory.aget()  # flushes the oldest messages into the block; the Observer fails once
    stored = (await pair.aio.list_messages("bees")).messages
    assert stored and stored[0].text == LINES[0]  # the flushed messages are in the Mastra thread
    assert (await pair.aio.get_thread("bees")).resource_id == "beekeeper"
    system = first[0].content or "" if first and first[0].role == MessageRole.SYSTEM else ""
    assert PENDING_HEADER in system and LINES[0] in system  # failed observation: shown verbatim, not lost

    second = await memory.aget()
    text = second[0].content or ""
    assert "three hives in Ghent" in text and "<observations>" in text
    assert PENDING_HEADER not in text
    record = await pair.aio.get_observations("bees", "beekeeper")
    assert record is not None and record.observed_message_ids == [m.id for m in stored]


async def test_the_block_needs_observational_memory(pair: Pair) -> None:
    with pytest.raises(InvalidInputError, match="observational_memory="):
        ObservationsBlock(async_memory=pair.aio)
    options = ObservationalMemory(model=ScriptedChatModel())
    block = ObservationsBlock(async_memory=pair.aio, observational_memory=options)
    assert await block.aget([], session_id="unknown-thread") == ""


def test_background_observation_survives_llamaindex_sync_wrappers(pair_factory: Any) -> None:
    """LlamaIndex's sync ``Memory.get/put`` run each call on a loop they close afterwards: a
    background observation scheduled as a task there would die with it. Sync callers therefore
    observe before the call returns."""
    import asyncio

    model = ScriptedChatModel(default=observer_reply(["🔴 (09:00) User stated they keep three hives in Ghent"]))

    async def setup() -> tuple[Pair, ObservationsBlock]:
        pair = await pair_factory()
        block = ObservationsBlock(
            async_memory=pair.aio, resource_id="beekeeper",
            observational_memory=ObservationalMemory(model=model, observation_tokens=60, background=True),
        )
        return pair, block

    pair, block = asyncio.run(setup())
    memory = llama_memory(block)
    for i, text in enumerate(LINES):
        memory.put(ChatMessage(role=MessageRole.USER if i % 2 == 0 else MessageRole.ASSISTANT, content=text))
    memory.get()  # flushes into the block; the threshold is reached
    record = pair.sync.get_observations("bees", "beekeeper", scope="thread")
    assert len(model.calls) == 1 and record is not None and record.observed_message_ids
    text = memory.get()[0].content or ""
    assert "three hives in Ghent" in text and PENDING_HEADER not in text


async def test_background_observation_stays_in_the_background_for_async_callers(pair: Pair) -> None:
    """Under ``await memory.aget()`` the loop lives on, so the Observer runs as a task beside it."""
    model = ScriptedChatModel(default=observer_reply(["🔴 (09:00) User stated they keep three hives in Ghent"]))
    block = ObservationsBlock(
        async_memory=pair.aio, resource_id="beekeeper",
        observational_memory=ObservationalMemory(model=model, observation_tokens=60, background=True),
    )
    memory = llama_memory(block)
    for i, text in enumerate(LINES):
        await memory.aput(ChatMessage(role=MessageRole.USER if i % 2 == 0 else MessageRole.ASSISTANT, content=text))
    first = await memory.aget()
    assert PENDING_HEADER in (first[0].content or "")  # answered at once with the raw messages
    assert await block._memory.wait_for_observations(5) == 1  # one observation was in flight
    assert len(model.calls) == 1
    assert "three hives in Ghent" in ((await memory.aget())[0].content or "")
