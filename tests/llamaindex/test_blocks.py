"""The memory blocks inside LlamaIndex's own Memory: scoped per call (the VectorMemoryBlock leak), on the real DB."""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("llama_index.core", reason="llama-index is not installed: pip install 'mastra-memory[llama-index]'")

from llama_index.core.base.llms.types import ChatMessage, MessageRole
from llama_index.core.memory import Memory

from llama_index_mastra_memory import MastraContextBlock, SemanticRecallBlock, WorkingMemoryBlock
from mastra_memory import InvalidInputError, MemoryConfig, Message, SemanticRecall, WorkingMemory
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


# --------------------------------------------------------------------------- separate blocks


async def test_separate_blocks_serve_two_users_from_one_instance_each(pair_factory: Any) -> None:
    """The peers' bug as a regression test: one block instance, two users, nobody sees the other."""
    pair = await seeded(pair_factory)
    blocks = [WorkingMemoryBlock(async_memory=pair.aio), SemanticRecallBlock(async_memory=pair.aio, top_k=2)]
    question = ChatMessage(role="user", content="What is my pet called?")
    seen = {}
    for user in ("alice", "bob", "alice", "bob"):
        memory = Memory.from_defaults(session_id=f"{user}-now", memory_blocks=blocks, token_limit=4000)
        await memory.aput(question)
        got = await memory.aget()
        seen[user] = got[0].content or ""
        assert "<working_memory>" in seen[user] and "<semantic_recall>" in seen[user]
    assert "Whiskers" in seen["alice"] and "Name: Alice" in seen["alice"]
    assert "Rex" not in seen["alice"] and "Bob" not in seen["alice"]
    assert "Rex" in seen["bob"] and "Name: Bob" in seen["bob"]
    assert "Whiskers" not in seen["bob"] and "Alice" not in seen["bob"]


async def test_recall_block_settings_scope_and_the_active_window(pair_factory: Any) -> None:
    pair = await seeded(pair_factory)
    for text in ("My pet is a cat named Whiskers", "Whiskers likes tuna"):
        pair.sync.save_messages([Message.of("user", text, thread_id="alice-now")])
    recent = [ChatMessage(role="user", content="Whiskers likes tuna")]  # already in the active window
    question = ChatMessage(role="user", content="Tell me about Whiskers the cat")
    both = SemanticRecallBlock(async_memory=pair.aio, top_k=4, message_range=0)
    text = await both.aget([*recent, question], session_id="alice-now")
    assert "remembered from a different conversation" in text  # alice-old: another thread of Alice's
    assert "Earlier messages of this conversation" in text and "- user: My pet is a cat named Whiskers" in text
    assert "Whiskers likes tuna" not in text  # dropped: the model already has it
    this_thread = SemanticRecallBlock(async_memory=pair.aio, top_k=4, message_range=0, scope="thread")
    text = await this_thread.aget([question], session_id="alice-now")
    assert "different conversation" not in text and "Whiskers likes tuna" in text
    assert await both.aget([ChatMessage(role="assistant", content="hi")], session_id="alice-now") == ""  # no query
    assert await both.aget([question], session_id="nobody") == ""  # unknown thread, no resource given
    explicit = await both.aget([question], session_id="nobody", resource_id="bob")
    assert "Rex" in explicit and "Whiskers" not in explicit


async def test_working_memory_block_is_never_truncated_and_needs_working_memory(pair_factory: Any) -> None:
    pair = await seeded(pair_factory)
    block = WorkingMemoryBlock(async_memory=pair.aio)
    assert block.priority == 0
    text = await block.aget([], session_id="bob-now")
    assert "Name: Bob" in text
    assert await block.atruncate(text, 10_000) == text
    # The document of a user whose thread is not stored yet, named by the caller.
    assert "Name: Alice" in await block.aget([], session_id="new-thread", resource_id="alice")
    plain: Pair = await pair_factory()
    with pytest.raises(InvalidInputError, match="working memory is off"):
        WorkingMemoryBlock(async_memory=plain.aio)
    with pytest.raises(InvalidInputError, match="no embedder"):
        SemanticRecallBlock(async_memory=plain.aio)
    with pytest.raises(InvalidInputError, match="top_k"):
        SemanticRecallBlock(async_memory=pair.aio, top_k=0)
    with pytest.raises(TypeError, match="AsyncMemory"):
        WorkingMemoryBlock(async_memory=pair.sync)  # type: ignore[arg-type]
