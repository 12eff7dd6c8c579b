"""Multi-statement operations that must be atomic, written as core plans.

The core's public operations are one statement each. Positional deletes and "replace the whole
history" need read → decide → write on one thread without another writer slipping in between,
so they run as one plan inside one transaction, after locking the thread row (``FOR UPDATE``;
every message write bumps that row, so concurrent writers wait). The plans reuse the core's own
message plans, and run through the shell's driver, so sync and async share this code.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from llama_index.core.base.llms.types import ChatMessage, MessageRole
from psycopg import sql

from mastra_memory import AsyncMemory, Memory, Message
from mastra_memory._ops import messages as message_ops
from mastra_memory._plan import Begin, Commit, Plan, query
from mastra_memory._store import Store

from ._messages import from_mastra, to_mastra

T = TypeVar("T")


def run_sync(memory: Memory, plan: Plan[T]) -> T:
    return memory._run(plan)


async def run_async(memory: AsyncMemory, plan: Plan[T]) -> T:
    return await memory._run(plan)


def _lock_thread(s: Store, thread_id: str) -> Plan[bool]:
    found = yield from query(
        sql.SQL("SELECT 1 AS found FROM {} WHERE id = %s FOR UPDATE").format(s.tables.threads), (thread_id,)
    )
    return bool(found)


def _rows(s: Store, thread_id: str, resource_id: str) -> Plan[list[Message]]:
    page = yield from message_ops.list_messages(s, thread_id, resource_id=resource_id, per_page=None)
    return page.messages


def delete_at(s: Store, thread_id: str, resource_id: str, index: int) -> Plan[ChatMessage | None]:
    """Remove the LlamaIndex message at ``index`` (negative counts from the end); None if out of range.

    A message alone in its row deletes the row; one inside an assistant turn rewrites that row
    (same id and time) without it.
    """
    yield Begin()
    if not (yield from _lock_thread(s, thread_id)):
        yield Commit()
        return None
    rows = yield from _rows(s, thread_id, resource_id)
    spans = [(row, from_mastra([row])) for row in rows]
    total = sum(len(converted) for _, converted in spans)
    position = index + total if index < 0 else index
    if not 0 <= position < total:
        yield Commit()
        return None
    for row, converted in spans:
        if position >= len(converted):
            position -= len(converted)
            continue
        removed = converted.pop(position)
        assert row.id is not None
        if not converted:
            yield from message_ops.delete_messages(s, [row.id])
        else:
            rebuilt = to_mastra(converted, thread_id, resource_id)
            first, rest = rebuilt[0], rebuilt[1:]
            first.id, first.created_at = row.id, row.created_at
            yield from message_ops.save_messages(s, [first, *rest])
        yield Commit()
        return removed
    raise AssertionError("unreachable: the position was checked against the total")


def replace_all(
    s: Store, thread_id: str, resource_id: str, messages: Sequence[ChatMessage] | None
) -> Plan[list[ChatMessage]]:
    """Delete every message of the thread and (if given) save ``messages`` instead, atomically.

    Returns what was removed. The thread must exist.
    """
    yield Begin()
    yield from _lock_thread(s, thread_id)
    rows = yield from _rows(s, thread_id, resource_id)
    removed = from_mastra(rows)
    ids = [row.id for row in rows if row.id is not None]
    if ids:
        yield from message_ops.delete_messages(s, ids)
    if messages:
        yield from message_ops.save_messages(s, to_mastra(messages, thread_id, resource_id))
    yield Commit()
    return removed


def _lossless(row: Message) -> bool:
    """Whether rewriting ``row`` through LlamaIndex messages keeps it as it is (a row Mastra wrote
    may hold parts or keys LlamaIndex has no place for: ``source`` parts, ``content.content``…)."""
    again = to_mastra(from_mastra([row]), row.thread_id or "t")
    extra = {k: v for k, v in row.content.extra.items() if k != "metadata"}
    return (
        len(again) == 1
        and again[0].content.parts == row.content.parts
        and not extra
        and set(row.content.metadata or {}) <= {"llama_index"}
    )


def append(s: Store, thread_id: str, resource_id: str, messages: Sequence[ChatMessage]) -> Plan[None]:
    """Save ``messages`` after the thread's last message, in one statement when possible.

    A batch that starts with tool results (``ChatMemoryBuffer.put`` and ``ReActAgent`` write one
    message at a time) continues the thread's last assistant row: the results are folded into the
    ``tool-invocation`` parts holding their calls, as Mastra would have stored the turn, instead
    of making a row of results whose calls are elsewhere. That case reads and rewrites the last
    row under the thread lock (only when the rewrite loses nothing of it); every other batch is a
    single INSERT.
    """
    if not messages:
        return None
    if messages[0].role != MessageRole.TOOL:
        yield from message_ops.save_messages(s, to_mastra(messages, thread_id, resource_id))
        return None
    yield Begin()
    if (yield from _lock_thread(s, thread_id)):
        page = yield from message_ops.recall(s, thread_id, resource_id=resource_id, last_messages=1)
        last = page.messages[-1] if page.messages else None
        if last is not None and last.role == "assistant" and last.id is not None and _lossless(last):
            rows = to_mastra([*from_mastra([last]), *messages], thread_id, resource_id)
            rows[0].id, rows[0].created_at = last.id, last.created_at
            yield from message_ops.save_messages(s, rows)
            yield Commit()
            return None
    yield from message_ops.save_messages(s, to_mastra(messages, thread_id, resource_id))
    yield Commit()
    return None
