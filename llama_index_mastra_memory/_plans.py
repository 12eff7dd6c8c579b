"""Thread edits that must be atomic, written once as core plans (``mastra_memory.integration``).

The core's public operations are one statement each. Positional deletes, "replace the whole
history", archiving the oldest messages and folding a lone tool result into its assistant row
need read → decide → write on one thread without another writer slipping in between, so each
runs as one plan inside one transaction, after locking the thread row (every message write bumps
that row, so concurrent writers wait). ``run_sync``/``run_async`` of the integration hook drive
them, so sync and async share this code.

Rows and LlamaIndex messages are not one to one: an assistant row unfolds into several messages
(steps and tool results). A message is addressed by its position in the unfolded thread.

Status (LlamaIndex's ``active``/``archived`` for ``AsyncDBChatStore``): Mastra has no such column.
Archiving is always "the oldest N active", so in every row the archived messages are the first
ones; a row keeps how many in ``content.metadata.llama_index.archived`` (absent: none). Mastra
ignores the key and still shows every message, which is what it should see.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from llama_index.core.base.llms.types import ChatMessage, MessageRole

from mastra_memory import Message
from mastra_memory.integration import (
    Begin,
    Commit,
    Plan,
    Store,
    delete_messages,
    last_messages,
    lock_thread,
    save_messages,
    thread_messages,
)

from ._messages import from_mastra, to_mastra

_META = "llama_index"


@dataclass(frozen=True, slots=True)
class Entry:
    """One LlamaIndex message of a thread, with its status."""

    message: ChatMessage
    archived: bool = False


def archived_count(row: Message) -> int:
    """How many of the row's first LlamaIndex messages are archived."""
    meta = (row.content.metadata or {}).get(_META)
    value = meta.get("archived") if isinstance(meta, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _mark(row: Message, archived: int) -> Message:
    meta: dict[str, Any] = dict(row.content.metadata or {})
    mine = dict(meta.get(_META) or {})
    if archived:
        mine["archived"] = archived
    else:
        mine.pop("archived", None)
    if mine:
        meta[_META] = mine
    else:
        meta.pop(_META, None)
    if meta:
        row.content.extra["metadata"] = meta
    else:
        row.content.extra.pop("metadata", None)
    return row


def entries(rows: Sequence[Message]) -> list[Entry]:
    """The thread's messages with their status, oldest first."""
    out: list[Entry] = []
    for row in rows:
        archived = archived_count(row)
        out.extend(Entry(m, i < archived) for i, m in enumerate(from_mastra([row])))
    return out


def rows_for(
    messages: Sequence[ChatMessage], thread_id: str, resource_id: str, *, archived: bool = False
) -> list[Message]:
    rows = to_mastra(messages, thread_id, resource_id)
    if archived:
        for row in rows:
            _mark(row, len(from_mastra([row])))
    return rows


def read(s: Store, thread_id: str, resource_id: str) -> Plan[list[Entry]]:
    """Every message of the thread with its status (no lock: one statement sees one snapshot)."""
    return entries((yield from thread_messages(s, thread_id, resource_id)))


def read_last(s: Store, thread_id: str, resource_id: str, n: int) -> Plan[list[ChatMessage]]:
    """The newest ``n`` messages, reading only the newest ``n`` rows (a row holds at least one)."""
    if n == 0:
        return []
    rows = yield from last_messages(s, thread_id, resource_id, n)
    return from_mastra(rows)[-n:]


Decide = Callable[[list[Entry]], list[Entry | None]]


def edit(s: Store, thread_id: str, resource_id: str, decide: Decide) -> Plan[list[Entry] | None]:
    """Lock the thread, let ``decide`` map each message to itself, a changed entry or None (remove),
    and write only the rows that changed; returns the entries before the edit (None: no thread).

    A row left empty is deleted; a row whose messages changed is rewritten under its id and time;
    a row whose statuses alone changed keeps its content and gets the new count.
    """
    yield Begin()
    if not (yield from lock_thread(s, thread_id)):
        yield Commit()
        return None
    rows = yield from thread_messages(s, thread_id, resource_id)
    spans = [entries([row]) for row in rows]
    before = [entry for span in spans for entry in span]
    after = decide(before)
    assert len(after) == len(before), "decide must return one item per message"
    doomed: list[str] = []
    rewritten: list[Message] = []
    start = 0
    for row, span in zip(rows, spans, strict=True):
        kept = [e for e in after[start : start + len(span)] if e is not None]
        start += len(span)
        assert row.id is not None
        if kept == span:
            continue
        if not kept:
            doomed.append(row.id)
            continue
        if [e.message for e in kept] == [e.message for e in span]:  # only statuses changed: keep the row
            rewritten.append(_mark(row, sum(e.archived for e in kept)))  # as it is (Mastra's parts too)
            continue
        new_rows = to_mastra([e.message for e in kept], thread_id, resource_id)
        new_rows[0].id, new_rows[0].created_at = row.id, row.created_at
        _mark(new_rows[0], sum(e.archived for e in kept))
        rewritten.extend(new_rows)
    if doomed:
        yield from delete_messages(s, doomed)
    if rewritten:
        yield from save_messages(s, rewritten)
    yield Commit()
    return before


def replace_all(
    s: Store, thread_id: str, resource_id: str, messages: Sequence[ChatMessage] | None, *, archived: bool = False
) -> Plan[list[ChatMessage]]:
    """Delete every message of the thread and (if given) save ``messages`` instead, atomically.

    Returns what was removed. The thread must exist.
    """
    yield Begin()
    yield from lock_thread(s, thread_id)
    rows = yield from thread_messages(s, thread_id, resource_id)
    removed = from_mastra(rows)
    ids = [row.id for row in rows if row.id is not None]
    if ids:
        yield from delete_messages(s, ids)
    if messages:
        yield from save_messages(s, rows_for(messages, thread_id, resource_id, archived=archived))
    yield Commit()
    return removed


def delete_at(s: Store, thread_id: str, resource_id: str, index: int) -> Plan[ChatMessage | None]:
    """Remove the message at ``index`` (negative counts from the end); None if out of range."""
    chosen: list[int] = []

    def decide(found: list[Entry]) -> list[Entry | None]:
        position = index + len(found) if index < 0 else index
        if 0 <= position < len(found):
            chosen.append(position)
        return [None if i in chosen else e for i, e in enumerate(found)]

    before = yield from edit(s, thread_id, resource_id, decide)
    return before[chosen[0]].message if before is not None and chosen else None


def take_oldest_active(s: Store, thread_id: str, resource_id: str, n: int, *, archive: bool) -> Plan[list[ChatMessage]]:
    """Archive (or delete) the oldest ``n`` active messages, in one locked transaction; returns them.

    Two concurrent callers each get distinct messages: the second waits for the first's lock and
    then sees its result (LlamaIndex's SQL store picks rows by position outside a lock).
    """
    chosen: list[int] = []

    def decide(found: list[Entry]) -> list[Entry | None]:
        active = [i for i, e in enumerate(found) if not e.archived][: max(n, 0)]
        chosen.extend(active)
        picked = set(active)
        if archive:
            return [Entry(e.message, True) if i in picked else e for i, e in enumerate(found)]
        return [None if i in picked else e for i, e in enumerate(found)]

    before = yield from edit(s, thread_id, resource_id, decide)
    return [] if before is None else [before[i].message for i in chosen]


def delete_by_status(s: Store, thread_id: str, resource_id: str, archived: bool | None) -> Plan[None]:
    """Delete the thread's archived (True), active (False) or all (None) messages."""

    def decide(found: list[Entry]) -> list[Entry | None]:
        return [None if archived is None or e.archived == archived else e for e in found]

    yield from edit(s, thread_id, resource_id, decide)
    return None


def _lossless(row: Message) -> bool:
    """Whether rewriting ``row`` through LlamaIndex messages keeps it as it is (a row Mastra wrote
    may hold parts or keys LlamaIndex has no place for: ``source`` parts, ``content.content``…)."""
    again = to_mastra(from_mastra([row]), row.thread_id or "t")
    extra = {k: v for k, v in row.content.extra.items() if k != "metadata"}
    return (
        len(again) == 1
        and again[0].content.parts == row.content.parts
        and not extra
        and set(row.content.metadata or {}) <= {_META}
    )


def append(
    s: Store, thread_id: str, resource_id: str, messages: Sequence[ChatMessage], *, archived: bool = False
) -> Plan[None]:
    """Save ``messages`` after the thread's last message, in one statement when possible.

    A batch that starts with tool results (``ChatMemoryBuffer.put`` and ``ReActAgent`` write one
    message at a time) continues the thread's last assistant row: the results are folded into the
    ``tool-invocation`` parts holding their calls, as Mastra would have stored the turn, instead
    of making a row of results whose calls are elsewhere. That case reads and rewrites the last
    row under the thread lock (only when the rewrite loses nothing of it, and keeps its status);
    every other batch is a single INSERT.
    """
    if not messages:
        return None
    if messages[0].role != MessageRole.TOOL:
        yield from save_messages(s, rows_for(messages, thread_id, resource_id, archived=archived))
        return None
    yield Begin()
    if (yield from lock_thread(s, thread_id)):
        newest = yield from last_messages(s, thread_id, resource_id, 1)
        last = newest[-1] if newest else None
        if last is not None and last.role == "assistant" and last.id is not None and _lossless(last):
            had, unfolded = archived_count(last), from_mastra([last])
            if not archived or had == len(unfolded):  # archived messages never follow active ones in a row
                rows = to_mastra([*unfolded, *messages], thread_id, resource_id)
                rows[0].id, rows[0].created_at = last.id, last.created_at
                for row in rows if archived else rows[:1]:
                    _mark(row, len(from_mastra([row])) if archived else had)
                yield from save_messages(s, rows)
                yield Commit()
                return None
    yield from save_messages(s, rows_for(messages, thread_id, resource_id, archived=archived))
    yield Commit()
    return None
