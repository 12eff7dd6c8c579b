"""MastraChatMessageHistory (the legacy BaseChatMessageHistory path) on the real database, sync and async."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg
import pytest

pytest.importorskip("langchain_core", reason="langchain is not installed: pip install 'mastra-memory[langchain]'")

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage

from langchain_mastra_memory import MastraChatMessageHistory
from mastra_memory import AsyncMemory, Memory, OwnershipError

TURN: list[BaseMessage] = [
    HumanMessage("What's 2+2?", id="h1"),
    AIMessage("", id="a1", tool_calls=[{"name": "calc", "args": {"e": "2+2"}, "id": "c1", "type": "tool_call"}]),
    ToolMessage("4", tool_call_id="c1", name="calc", id="t1"),
    AIMessage("It is 4.", id="a2"),
]


def unwrap(mem: Any) -> Memory | AsyncMemory:
    return getattr(mem, "memory", mem)


async def read(history: MastraChatMessageHistory) -> list[BaseMessage]:
    return history.messages if isinstance(history.memory, Memory) else await history.aget_messages()


async def add(history: MastraChatMessageHistory, messages: list[BaseMessage]) -> None:
    if isinstance(history.memory, Memory):
        history.add_messages(messages)
    else:
        await history.aadd_messages(messages)


async def test_messages_round_trip_and_the_thread_is_created(mem: Any) -> None:
    history = MastraChatMessageHistory(unwrap(mem), "session-1", "ada", title="Maths")
    assert await read(history) == []
    await add(history, TURN)
    assert await read(history) == TURN
    thread = await mem.get_thread("session-1")
    assert thread.resource_id == "ada" and thread.title == "Maths"
    stored = (await mem.list_messages("session-1")).messages
    assert [m.role for m in stored] == ["user", "assistant"]  # Mastra's shape: one row per turn side


async def test_adding_again_is_idempotent_and_later_turns_append(mem: Any) -> None:
    history = MastraChatMessageHistory(unwrap(mem), "s", "ada")
    await add(history, TURN)
    await add(history, TURN)
    await add(history, [HumanMessage("thanks", id="h2"), AIMessage("welcome", id="a3")])
    assert [m.id for m in await read(history)] == ["h1", "a1", "t1", "a2", "h2", "a3"]


async def test_last_messages_reads_the_newest_rows(mem: Any) -> None:
    full = MastraChatMessageHistory(unwrap(mem), "s", "ada")
    await add(full, [HumanMessage(f"m{i}", id=f"m{i}") for i in range(6)])
    last = MastraChatMessageHistory(unwrap(mem), "s", "ada", last_messages=2)
    assert [m.content for m in await read(last)] == ["m4", "m5"]


async def test_clear_empties_the_thread(mem: Any) -> None:
    history = MastraChatMessageHistory(unwrap(mem), "s", "ada")
    await add(history, TURN)
    if isinstance(history.memory, Memory):
        history.clear()
    else:
        await history.aclear()
    assert await read(history) == []
    assert await mem.get_thread("s") is not None


async def test_another_resources_thread_is_refused(mem: Any) -> None:
    await mem.create_thread("bob", thread_id="s")
    with pytest.raises(OwnershipError):
        await add(MastraChatMessageHistory(unwrap(mem), "s", "ada"), TURN)


async def test_wrong_flavour_says_which_methods_to_use(mem: Any) -> None:
    history = MastraChatMessageHistory(unwrap(mem), "s", "ada")
    if isinstance(history.memory, Memory):
        with pytest.raises(TypeError, match="use messages/add_messages/clear"):
            await history.aget_messages()
    else:
        with pytest.raises(TypeError, match="use aget_messages"):
            _ = history.messages


def test_a_callers_open_transaction_is_untouched(pg_dsn: str, sync_memory: Callable[..., Memory]) -> None:
    """The history writes through the memory's pool: a caller's connection keeps its transaction."""
    memory = sync_memory()
    with psycopg.connect(pg_dsn) as conn:
        conn.execute("CREATE TEMP TABLE mine (x int)")
        conn.execute("INSERT INTO mine VALUES (1)")
        MastraChatMessageHistory(memory, "s", "ada").add_messages(TURN)
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS
        conn.rollback()
    assert len(MastraChatMessageHistory(memory, "s", "ada").messages) == 4
