"""MastraContextBlock inside LlamaIndex's own Memory: scoped per call (the VectorMemoryBlock leak), on the real DB."""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("llama_index.core", reason="llama-index is not installed: pip install 'mastra-memory[llama-index]'")

from llama_index.core.base.llms.types import ChatMessage, MessageRole
from llama_index.core.memory import Memory

from llama_index_mastra_memory import MastraContextBlock
from mastra_memory import MemoryConfig, Message, SemanticRecall, WorkingMemory
from mastra_memory.embedding import HashEmbedder

from .conftest import Pair


async def seeded(pair_factory: Any) -> Pair:
    pair: Pair = await pair_factory(
        config=MemoryConfig(
            semantic_recall=SemanticRecall(message_range=0, top_k=2), working_memory=WorkingMemory(enabled=True)
        ),
        embedder=HashEmbedder(),
    )
    for user, pet in (("alice", "a cat named Whiskers"), ("bob", "a beagle named Rex")):
        pair.sync.create_thread(user, thread_id=f"{user}-old")
        pair.sync.save_messages([Message.of("user", f"My pet is {pet}", thread_id=f"{user}-old")])
        pair.sync.create_thread(user, thread_id=f"{user}-now")
        pair.sync.update_working_memory(f"{user}-now", user, working_memory=f"# User\n- Name: {user.title()}")
    return pair


async def test_one_block_instance_serves_two_users_without_leaking(pair_factory: Any) -> None:
    pair = await seeded(pair_factory)
    block = MastraContextBlock(async_memory=pair.aio)  # one instance, shared: where the stock block leaks
    question = ChatMessage(role="user", content="What is my pet called?")
    seen = {}
    for user in ("alice", "bob", "alice"):
        memory = Memory.from_defaults(session_id=f"{user}-now", memory_blocks=[block], token_limit=4000)
        await memory.aput(question)
        got = await memory.aget()
        assert got[0].role == MessageRole.SYSTEM and got[-1] == question
        seen[user] = got[0].content or ""
    assert "Whiskers" in seen["alice"] and "Alice" in seen["alice"]
    assert "Rex" not in seen["alice"] and "Bob" not in seen["alice"]
    assert "Rex" in seen["bob"] and "Bob" in seen["bob"]
    assert "Whiskers" not in seen["bob"] and "Alice" not in seen["bob"]


async def test_unknown_threads_and_explicit_ids(pair_factory: Any) -> None:
    pair = await seeded(pair_factory)
    block = MastraContextBlock(async_memory=pair.aio)
    assert await block.aget([ChatMessage(role="user", content="pet")], session_id="nobody") == ""
    text = await block.aget(
        [ChatMessage(role="user", content="pet beagle")], session_id="x", thread_id="bob-now", resource_id="bob"
    )
    assert "Rex" in text
    await block.aput([ChatMessage(role="user", content="ignored")])  # read-only
    assert len((await pair.aio.list_messages("bob-now")).messages) == 0
