"""Plans for threads and resources. Their docstrings are the public API docs of the shells."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

from .._errors import ConflictError, InvalidInputError, NotFoundError
from .._plan import Plan, query, query_one
from .._store import Store
from .._types import Resource, Thread, ThreadPage
from .._validate import (
    check_direction,
    check_id,
    check_metadata,
    check_metadata_filter,
    check_page,
    check_text,
    dumps,
    to_utc_ms,
)
from ..storage import _rows as rows
from ..storage import _threads as sql_threads
from ..storage import _working_memory as sql_wm
from ..working_memory._ops import metadata_working_memory

_UNSET: Any = object()


def create_thread(
    s: Store,
    resource_id: str,
    *,
    thread_id: str | None = None,
    title: str = "",
    metadata: Mapping[str, Any] | None = None,
) -> Plan[Thread]:
    """Create a conversation thread owned by ``resource_id`` (a user, an org, a project…).

    ``thread_id`` defaults to a new UUID and ``title`` to ``""``, as in Mastra.
    With resource-scoped working memory on, a string ``metadata["workingMemory"]`` also becomes the
    resource's working memory, in the same statement (as Mastra does).

    Raises:
        InvalidInputError: an id is empty, or the title or metadata cannot be stored.
        ConflictError: a thread with ``thread_id`` already exists (use ``save_thread`` to overwrite).
    """
    resource_id = check_id(resource_id, "resource_id")
    thread_id = str(uuid.uuid4()) if thread_id is None else check_id(thread_id, "thread_id")
    meta = None if metadata is None else dumps(check_metadata(metadata))
    stmt = sql_threads.insert_thread(s.tables, thread_id, resource_id, check_text(title, "title"), meta)
    if (wm := metadata_working_memory(s.config, metadata)) is not None:  # Mastra copies it to the resource
        stmt = sql_wm.also_set_resource_working_memory(stmt, s.tables, wm)
    row = yield from query_one(*stmt)
    if row is None:
        raise ConflictError(
            f"thread {thread_id!r} already exists; load it with get_thread() or overwrite it with save_thread()"
        )
    return rows.thread(row)


def save_thread(
    s: Store,
    thread_id: str,
    resource_id: str,
    *,
    title: str = "",
    metadata: Mapping[str, Any] | None = None,
    created_at: datetime | None = None,
    updated_at: datetime | None = None,
) -> Plan[Thread]:
    """Insert a thread or overwrite every field of an existing one (Mastra's ``saveThread``).

    Times default to now. Prefer ``update_thread`` to change part of a thread.
    With resource-scoped working memory on, a string ``metadata["workingMemory"]`` also becomes the
    resource's working memory, in the same statement (as Mastra does).

    Raises:
        InvalidInputError: an id is empty, or a value cannot be stored.
    """
    meta = None if metadata is None else dumps(check_metadata(metadata))
    stmt = sql_threads.upsert_thread(
        s.tables, check_id(thread_id, "thread_id"), check_id(resource_id, "resource_id"),
        check_text(title, "title"), meta,
        None if created_at is None else to_utc_ms(created_at, "created_at"),
        None if updated_at is None else to_utc_ms(updated_at, "updated_at"),
    )
    if (wm := metadata_working_memory(s.config, metadata)) is not None:  # Mastra copies it to the resource
        stmt = sql_wm.also_set_resource_working_memory(stmt, s.tables, wm)
    row = yield from query_one(*stmt)
    assert row is not None
    return rows.thread(row)


def get_thread(s: Store, thread_id: str) -> Plan[Thread | None]:
    """The thread with this id, or None."""
    row = yield from query_one(*sql_threads.select_thread(s.tables, check_id(thread_id, "thread_id")))
    return None if row is None else rows.thread(row)


def list_threads(
    s: Store,
    *,
    resource_id: str | None = None,
    metadata: Mapping[str, Any] | None = None,
    page: int = 0,
    per_page: int | None = 100,
    order_by: Literal["createdAt", "updatedAt"] = "createdAt",
    direction: Literal["ASC", "DESC"] = "DESC",
) -> Plan[ThreadPage]:
    """List threads, newest first by default, with the total count, in one statement.

    ``metadata`` keeps threads whose metadata contains every given key/value (AND; an empty
    filter keeps every thread); ``per_page=None`` returns everything.

    Raises:
        InvalidInputError: negative paging, an unknown order field, or a filter key outside
            ``^[A-Za-z_][A-Za-z0-9_]*$``.
    """
    page, per_page = check_page(page, per_page)
    if order_by not in ("createdAt", "updatedAt"):
        raise InvalidInputError(f"order_by must be 'createdAt' or 'updatedAt', got {order_by!r}")
    direction = check_direction(direction)  # type: ignore[assignment]
    resource = None if resource_id is None else check_id(resource_id, "resource_id")
    wanted = {} if metadata is None else check_metadata_filter(metadata)
    meta = dumps(wanted) if wanted else None  # an empty filter filters nothing, as in Mastra
    offset = page * (per_page or 0)
    stmt = sql_threads.list_threads(s.tables, resource, meta, order_by, direction, per_page, offset)
    result = yield from query(*stmt)
    total = int(result[0]["total"]) if result else 0
    threads = [rows.thread(r) for r in result if r["id"] is not None]
    has_more = per_page is not None and offset + per_page < total
    return ThreadPage(threads, total, page, per_page, has_more)


def update_thread(
    s: Store, thread_id: str, *, title: str | None = None, metadata: Mapping[str, Any] | None = None
) -> Plan[Thread]:
    """Change a thread's title and/or merge keys into its metadata; bumps ``updated_at``.

    Metadata is merged shallowly, as in Mastra: given keys replace, other keys stay.
    With resource-scoped working memory on, a string ``metadata["workingMemory"]`` also becomes the
    resource's working memory, in the same statement (as Mastra does).

    Raises:
        NotFoundError: there is no such thread.
        InvalidInputError: a value cannot be stored.
    """
    meta = None if metadata is None else dumps(check_metadata(metadata))
    new_title = None if title is None else check_text(title, "title")
    stmt = sql_threads.update_thread(s.tables, check_id(thread_id, "thread_id"), new_title, meta)
    if (wm := metadata_working_memory(s.config, metadata)) is not None:  # Mastra copies it to the resource
        stmt = sql_wm.also_set_resource_working_memory(stmt, s.tables, wm)
    row = yield from query_one(*stmt)
    if row is None:
        raise NotFoundError(f"thread {thread_id!r} does not exist")
    return rows.thread(row)


def delete_thread(s: Store, thread_id: str) -> Plan[bool]:
    """Delete a thread with its messages, their vectors and its thread-scoped observational
    memory, in one transaction (as Mastra's ``Memory.deleteThread``). Returns whether it existed.
    """
    thread_id = check_id(thread_id, "thread_id")
    vectors = [r["name"] for r in (yield from query(*sql_threads.vector_tables(s.tables)))]
    deleted = yield from query(*sql_threads.delete_thread(s.tables, thread_id, vectors))
    return bool(deleted)


def get_source_thread(s: Store, thread_id: str) -> Plan[Thread | None]:
    """The thread this clone was made from, or None (not a clone, or its source is gone)."""
    chain = yield from query(*sql_threads.thread_lineage(s.tables, check_id(thread_id, "thread_id")))
    return rows.thread(chain[1]) if len(chain) > 1 else None


def list_clones(s: Store, source_thread_id: str, *, resource_id: str | None = None) -> Plan[list[Thread]]:
    """Threads cloned directly from ``source_thread_id``, oldest first (optionally of one resource)."""
    resource = None if resource_id is None else check_id(resource_id, "resource_id")
    source = check_id(source_thread_id, "source_thread_id")
    found = yield from query(*sql_threads.list_clones(s.tables, source, resource))
    return [rows.thread(r) for r in found]


def get_clone_history(s: Store, thread_id: str) -> Plan[list[Thread]]:
    """The chain of clones ending at this thread, oldest (the original) first, in one statement."""
    chain = yield from query(*sql_threads.thread_lineage(s.tables, check_id(thread_id, "thread_id")))
    return [rows.thread(r) for r in reversed(chain)]


def get_resource(s: Store, resource_id: str) -> Plan[Resource | None]:
    """The resource row (resource-scoped working memory and metadata), or None."""
    row = yield from query_one(*sql_threads.select_resource(s.tables, check_id(resource_id, "resource_id")))
    return None if row is None else rows.resource(row)


def update_resource(
    s: Store,
    resource_id: str,
    *,
    working_memory: str | None = _UNSET,
    metadata: Mapping[str, Any] | None = None,
) -> Plan[Resource]:
    """Create the resource if missing, merge metadata (shallow) and set working memory if given.

    Leaving ``working_memory`` out keeps the stored text; passing None clears it.

    Raises:
        InvalidInputError: a value cannot be stored.
    """
    set_wm = working_memory is not _UNSET
    wm = working_memory if set_wm else None
    if wm is not None:
        check_text(wm, "working_memory")
    meta = None if metadata is None else dumps(check_metadata(metadata))
    stmt = sql_threads.upsert_resource(s.tables, check_id(resource_id, "resource_id"), set_wm, wm, meta)
    row = yield from query_one(*stmt)
    assert row is not None
    return rows.resource(row)
