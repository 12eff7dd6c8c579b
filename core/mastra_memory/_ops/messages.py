"""Plans for messages. Their docstrings are the public API docs of the shells."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from .._content import MessageContent, encode_content
from .._errors import InvalidInputError, ProviderError
from .._plan import Plan, query
from .._store import Store
from .._types import DateRange, Include, Message, MessagePage, MessageUpdate
from .._validate import (
    check_count,
    check_direction,
    check_id,
    check_ids,
    check_metadata,
    check_page,
    check_text,
    dumps,
    to_utc,
    to_utc_ms,
)
from ..recall._backfill import embed_stored
from ..recall._text import chunks, searchable_text, vector_id
from ..recall._vectors import embed_texts
from ..storage import _messages as sql_messages
from ..storage import _rows as rows
from ..storage import _threads as sql_threads
from ..storage._messages import Listing, MessageRow

_ROLES = ("user", "assistant", "system")


def _message_row(message: Message, where: str) -> MessageRow:
    if not isinstance(message, Message):
        raise InvalidInputError(f"{where} must be a Message, got {type(message).__name__}")
    if message.role not in _ROLES:
        raise InvalidInputError(
            f"{where}.role must be one of {_ROLES}, got {message.role!r}; tool results belong in the assistant "
            "message as tool-invocation parts with state 'result'"
        )
    if message.thread_id is None:
        raise InvalidInputError(f"{where}.thread_id is required: every message belongs to a thread")
    if not isinstance(message.content, MessageContent):
        raise InvalidInputError(
            f"{where}.content must be MessageContent; build messages with Message.of(...) or Message.user(...)"
        )
    content = MessageContent.from_dict(message.content.to_dict(), where=f"{where}.content")
    return MessageRow(
        id=str(uuid.uuid4()) if message.id is None else check_id(message.id, f"{where}.id"),
        thread_id=check_id(message.thread_id, f"{where}.thread_id"),
        resource_id=None if message.resource_id is None else check_id(message.resource_id, f"{where}.resource_id"),
        role=message.role,
        type=check_text(message.type or "v2", f"{where}.type"),
        content=encode_content(content),
        created_at=None if message.created_at is None else to_utc_ms(message.created_at, f"{where}.created_at"),
    )


def save_messages(s: Store, messages: Sequence[Message]) -> Plan[list[Message]]:
    """Save (upsert by id) a batch of messages in one round trip and one transaction.

    - A message without ``id`` gets a UUID; without ``created_at`` it gets a time strictly later
      than every earlier message of its thread (also across concurrent writers).
    - Re-saving an id updates that message in place and never rewrites its ``created_at``;
      with another ``thread_id`` it moves the message there. When one batch repeats an id,
      the last copy wins.
    - ``resource_id`` defaults to the thread's owner; every thread's ``updated_at`` is bumped.
    - All or nothing: if any message is refused, none is written.
    - With semantic recall on, the messages are embedded first (outside any transaction) and
      their vectors written in the same statement. If the embedder fails, the messages are
      still saved and queued; ``backfill_embeddings()`` embeds them later.

    Returns the saved messages with their ids, resource ids and stored times.

    Raises:
        InvalidInputError: a message is malformed (no thread, bad role, not format 2…).
        NotFoundError: a thread does not exist.
        OwnershipError: a message names a resource other than its thread's, or its id
            belongs to a message of another resource.
    """
    if isinstance(messages, Message) or not isinstance(messages, Sequence):
        raise InvalidInputError("save_messages takes a list of Message objects")
    if not messages:
        return []
    prepared = [_message_row(m, f"messages[{i}]") for i, m in enumerate(messages)]
    last: dict[str, int] = {row.id: i for i, row in enumerate(prepared)}  # last copy of an id wins
    batch = [row for i, row in enumerate(prepared) if last[row.id] == i]
    vectors, backlog = None, None
    if s.config.recall is not None and s.embedder is not None:
        kept = [m for i, m in enumerate(messages) if last[prepared[i].id] == i]
        pieces = [
            (vector_id(row.id, n), row.id, piece)
            for row, message in zip(batch, kept, strict=True)
            for n, piece in enumerate(chunks(searchable_text(message)))
        ]
        backlog = []
        if pieces:
            try:
                vectors = yield from embed_texts(s, pieces)
            except ProviderError:  # save anyway; backfill_embeddings() embeds them later
                backlog = sorted({message_id for _, message_id, _ in pieces})
                vectors = sql_messages.VectorRows.none_for(s.vectors.table)
    result = yield from query(*sql_messages.save_messages(s.tables, batch, vectors, backlog))
    stored = {r["id"]: r for r in result if r["id"] is not None}
    return [
        Message(
            role=original.role,
            content=MessageContent.from_dict(original.content.to_dict()),
            id=row.id,
            thread_id=row.thread_id,
            resource_id=stored[row.id]["resourceId"],
            created_at=rows.timestamp(stored[row.id]["createdAtZ"], stored[row.id]["createdAt"]),
            type=row.type,
        )
        for i, (row, original) in enumerate(zip(prepared, messages, strict=True))
        if last[row.id] == i
    ]


def _listing_page(
    result: list[dict[str, Any]], listing: Listing, page: int, per_page: int | None, thread_scope: bool
) -> MessagePage:
    total = 0
    seen: dict[str, Message] = {}
    for r in result:
        if r["src"] == "n":
            total = int(r["total"])
        elif r["id"] is not None and r["id"] not in seen:
            seen[r["id"]] = rows.message(r)
    descending = listing.direction == "DESC" and not listing.newest
    messages = sorted(seen.values(), key=lambda m: (m.created_at, m.id or ""), reverse=descending)
    has_more = False
    if per_page:
        requested = set(listing.thread_ids or ()) if thread_scope else None
        present = sum(1 for m in messages if requested is None or m.thread_id in requested)
        has_more = listing.offset + per_page < total and present < total
    return MessagePage(messages, total if per_page != 0 else 0, page, per_page, has_more)


def _includes(include: Sequence[Include] | None) -> dict[str, Any]:
    if not include:
        return {}
    for i, inc in enumerate(include):
        if not isinstance(inc, Include):
            raise InvalidInputError(f"include[{i}] must be an Include(id, before, after)")
        check_id(inc.id, f"include[{i}].id")
        for side in ("before", "after"):
            n = getattr(inc, side)
            if isinstance(n, bool) or not isinstance(n, int) or n < 0:
                raise InvalidInputError(f"include[{i}].{side} must be an integer >= 0, got {n!r}")
            check_count(n, f"include[{i}].{side}")
    return {
        "include_ids": tuple(inc.id for inc in include),
        "include_before": tuple(inc.before for inc in include),
        "include_after": tuple(inc.after for inc in include),
    }


def _date_fields(date_range: DateRange | None) -> dict[str, Any]:
    if date_range is None:
        return {}
    if not isinstance(date_range, DateRange):
        raise InvalidInputError("date_range must be a DateRange(start, end, start_exclusive, end_exclusive)")
    return {
        "start": None if date_range.start is None else to_utc(date_range.start, "date_range.start"),
        "end": None if date_range.end is None else to_utc(date_range.end, "date_range.end"),
        "start_exclusive": bool(date_range.start_exclusive),
        "end_exclusive": bool(date_range.end_exclusive),
    }


def list_messages(
    s: Store,
    thread_id: str | Sequence[str],
    *,
    resource_id: str | None = None,
    page: int = 0,
    per_page: int | None = 40,
    direction: Literal["ASC", "DESC"] = "ASC",
    date_range: DateRange | None = None,
    include: Sequence[Include] | None = None,
) -> Plan[MessagePage]:
    """List a thread's messages (or several threads'), oldest first by default, in one statement.

    - ``per_page=None`` returns everything; ``per_page=0`` returns only the ``include`` windows.
    - ``include`` adds each named message with ``before``/``after`` neighbours from its *own*
      thread (which may be another thread), deduplicated, in the same order as the page.
    - With ``resource_id``, the threads must belong to that resource.

    Raises:
        InvalidInputError: an empty thread id, negative paging, a malformed date range.
        OwnershipError: a thread belongs to another resource than ``resource_id``.
    """
    ids = [check_id(thread_id, "thread_id")] if isinstance(thread_id, str) else check_ids(thread_id, "thread_id")
    if not ids:
        raise InvalidInputError("thread_id must name at least one thread")
    page, per_page = check_page(page, per_page)
    listing = Listing(
        thread_ids=ids,
        owner=None if resource_id is None else check_id(resource_id, "resource_id"),
        direction=check_direction(direction),
        limit=per_page,
        offset=page * (per_page or 0),
        **_date_fields(date_range),
        **_includes(include),
    )
    if per_page == 0 and not listing.include_ids and listing.owner is None:
        return MessagePage([], 0, page, 0, False)
    result = yield from query(*sql_messages.list_messages(s.tables, listing))
    return _listing_page(result, listing, page, per_page, thread_scope=True)


def recall(
    s: Store,
    thread_id: str,
    *,
    resource_id: str | None = None,
    last_messages: int | None = None,
    date_range: DateRange | None = None,
    include: Sequence[Include] | None = None,
) -> Plan[MessagePage]:
    """The thread's newest messages (``last_messages``, else the config's), oldest first.

    This is Mastra's ``recall`` history: the *last* N, not the first N. With ``resource_id``
    the thread must belong to it (a thread that does not exist yet simply has no messages).

    Raises:
        InvalidInputError: an empty id or a negative count.
        OwnershipError: the thread belongs to another resource.
    """
    if last_messages is not None and (
        isinstance(last_messages, bool) or not isinstance(last_messages, int) or last_messages < 0
    ):
        raise InvalidInputError(
            f"last_messages must be an integer >= 0 (or None for the config's), got {last_messages!r}"
        )
    if last_messages is not None:
        check_count(last_messages, "last_messages")
    n = s.config.last_messages if last_messages is None else last_messages
    per_page = n or 0
    listing = Listing(
        thread_ids=[check_id(thread_id, "thread_id")],
        owner=None if resource_id is None else check_id(resource_id, "resource_id"),
        newest=True,
        limit=per_page,
        **_date_fields(date_range),
        **_includes(include),
    )
    if per_page == 0 and not listing.include_ids and listing.owner is None:
        return MessagePage([], 0, 0, 0, False)
    result = yield from query(*sql_messages.list_messages(s.tables, listing))
    return _listing_page(result, listing, 0, per_page, thread_scope=True)


def list_messages_by_resource(
    s: Store,
    resource_id: str,
    *,
    page: int = 0,
    per_page: int | None = 40,
    direction: Literal["ASC", "DESC"] = "ASC",
    date_range: DateRange | None = None,
    include: Sequence[Include] | None = None,
) -> Plan[MessagePage]:
    """Every message of a resource across its threads, paged, oldest first by default.

    Raises:
        InvalidInputError: an empty id, negative paging, a malformed date range.
    """
    page, per_page = check_page(page, per_page)
    listing = Listing(
        resource_id=check_id(resource_id, "resource_id"),
        direction=check_direction(direction),
        limit=per_page,
        offset=page * (per_page or 0),
        **_date_fields(date_range),
        **_includes(include),
    )
    if per_page == 0 and not listing.include_ids:
        return MessagePage([], 0, page, 0, False)
    result = yield from query(*sql_messages.list_messages(s.tables, listing))
    return _listing_page(result, listing, page, per_page, thread_scope=False)


def get_messages(s: Store, message_ids: Sequence[str]) -> Plan[list[Message]]:
    """Messages by id from any thread, oldest first (as Mastra's ``listMessagesById``); unknown ids are skipped."""
    ids = check_ids(message_ids, "message_ids")
    if not ids:
        return []
    found = yield from query(*sql_messages.select_messages(s.tables, ids))
    return [rows.message(r) for r in found]


def _patch(update: MessageUpdate, where: str) -> tuple[str, str]:
    if not isinstance(update, MessageUpdate):
        raise InvalidInputError(f"{where} must be a MessageUpdate")
    patch: dict[str, Any] = {}
    if update.content is not None:
        content = check_metadata(update.content, f"{where}.content", nul_ok=True)
        if "format" in content and content["format"] != 2:
            raise InvalidInputError(f"{where}.content.format must be 2")
        if "parts" in content:
            MessageContent.from_dict({"format": 2, "parts": content["parts"]}, where=f"{where}.content")
        if "metadata" in content and not isinstance(content["metadata"], Mapping):
            raise InvalidInputError(
                f"{where}.content.metadata must be an object; it is merged into the stored metadata"
            )
        patch["content"] = content
    if update.role is not None:
        if update.role not in _ROLES:
            raise InvalidInputError(f"{where}.role must be one of {_ROLES}, got {update.role!r}")
        patch["role"] = update.role
    if update.type is not None:
        patch["type"] = check_text(update.type, f"{where}.type")
    if update.thread_id is not None:
        patch["threadId"] = check_id(update.thread_id, f"{where}.thread_id")
    if update.resource_id is not None:
        patch["resourceId"] = check_id(update.resource_id, f"{where}.resource_id")
    return check_id(update.id, f"{where}.id"), dumps(patch)


def update_messages(s: Store, updates: Sequence[MessageUpdate]) -> Plan[list[Message]]:
    """Apply partial updates to messages in one statement; returns the updated messages.

    Content merges into the stored content (top-level keys replace; ``metadata`` merges one
    level deeper). Threads losing or gaining a message get their ``updated_at`` bumped.
    Unknown ids are skipped. With semantic recall on, changed messages are re-embedded (stale
    vectors removed); if the embedder fails they are queued for ``backfill_embeddings``.

    Raises:
        InvalidInputError: a malformed update.
        NotFoundError: a message is moved to a thread that does not exist.
    """
    if not isinstance(updates, Sequence):
        raise InvalidInputError("update_messages takes a list of MessageUpdate objects")
    pairs = [_patch(u, f"updates[{i}]") for i, u in enumerate(updates)]
    if not pairs:
        return []
    merged: dict[str, str] = {}
    for message_id, patch in pairs:
        if message_id in merged:
            raise InvalidInputError(
                f"message {message_id!r} appears twice in one update_messages call; merge the updates"
            )
        merged[message_id] = patch
    found = yield from query(*sql_messages.update_messages(s.tables, list(merged), list(merged.values())))
    updated = sorted((rows.message(r) for r in found), key=lambda m: (m.created_at, m.id or ""))
    if s.config.recall is not None and s.embedder is not None:
        # New text, or a move to another thread or resource, needs new vectors (their metadata
        # names the thread and resource); Mastra re-embeds changed messages the same way.
        changed = {
            u.id for u in updates if u.content is not None or u.thread_id is not None or u.resource_id is not None
        }
        yield from embed_stored(s, [m for m in updated if m.id in changed])
    return updated


def delete_messages(s: Store, message_ids: Sequence[str]) -> Plan[int]:
    """Delete messages (and their vectors) by id; bumps their threads. Returns how many existed."""
    ids = check_ids(message_ids, "message_ids")
    if not ids:
        return 0
    vectors = [r["name"] for r in (yield from query(*sql_threads.vector_tables(s.tables)))]
    result = yield from query(*sql_messages.delete_messages(s.tables, ids, vectors))
    return int(result[0]["deleted"])
