"""Plans for retention: sweeping old or idle threads, and deleting a whole resource (a user's account).

Their docstrings are the public API docs of the shells. Both delete what ``delete_thread``
deletes for every thread they remove (messages, vectors of both Mastra shapes, thread-scoped
observational memory, embedding-backlog entries); see :mod:`mastra_memory.storage._retention`
for how a save racing a deletion is kept from leaving orphans behind.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from .._errors import InvalidInputError
from .._plan import Begin, Commit, Plan, query, query_one
from .._store import Store
from .._types import ResourceDeletion, SweepResult
from .._validate import check_id, to_utc
from ..storage import _retention as sql_retention
from ..storage import _threads as sql_threads

# Threads per transaction in a sweep: locks stay short and a huge sweep never holds one giant
# transaction open; each thread still goes all at once with everything that hangs off it.
SWEEP_BATCH = 500
# Beyond this, "idle for" would reach before PostgreSQL's earliest timestamp (4713 BC).
_MAX_IDLE = timedelta(days=1_000_000)


def _sweep_args(
    older_than: Any, idle_for: Any, resource_id: Any
) -> tuple[datetime | None, timedelta | None, str | None]:
    if older_than is None and idle_for is None:
        raise InvalidInputError(
            "sweep_threads needs older_than (a datetime) and/or idle_for (a timedelta); it never deletes "
            "every thread at once (to delete all of one user's data use delete_resource)"
        )
    cutoff = None
    if older_than is not None:
        if not isinstance(older_than, datetime):
            raise InvalidInputError(f"older_than must be a datetime, got {type(older_than).__name__}")
        cutoff = to_utc(older_than, "older_than")
    if idle_for is not None and (not isinstance(idle_for, timedelta) or not timedelta(0) <= idle_for <= _MAX_IDLE):
        raise InvalidInputError(f"idle_for must be a timedelta between 0 and {_MAX_IDLE.days} days, got {idle_for!r}")
    return cutoff, idle_for, None if resource_id is None else check_id(resource_id, "resource_id")


def _vector_tables(s: Store) -> Plan[list[str]]:
    return [r["name"] for r in (yield from query(*sql_threads.vector_tables(s.tables)))]


def sweep_threads(
    s: Store,
    *,
    older_than: datetime | None = None,
    idle_for: timedelta | None = None,
    resource_id: str | None = None,
    dry_run: bool = False,
) -> Plan[SweepResult]:
    """Delete threads created before ``older_than`` and/or not updated for ``idle_for``.

    Every given condition must hold (both given: old *and* idle), optionally only for threads of
    ``resource_id``. Each thread goes with its messages, their vectors (both Mastra shapes), its
    thread-scoped observational memory and backlog entries, as ``delete_thread`` removes them.
    Idleness is measured on the database's clock against the thread's ``updatedAt``, which every
    save bumps. Threads are deleted in batches of a few hundred, one transaction each, so a large
    sweep never holds long locks; a thread that receives a message while the sweep runs is kept.
    With ``dry_run`` nothing is deleted and the result says what would be.

    Raises:
        InvalidInputError: neither ``older_than`` nor ``idle_for`` given, a value of the wrong
            type, an ``idle_for`` below zero or above a million days, or an empty ``resource_id``.
        StorageError: the database failed; the batch in progress rolls back, earlier batches stay deleted.
    """
    cutoff, idle, resource = _sweep_args(older_than, idle_for, resource_id)
    vectors = yield from _vector_tables(s)
    if dry_run:
        row = yield from query_one(*sql_retention.count_sweep(s.tables, resource, cutoff, idle, vectors))
        assert row is not None
        return SweepResult(
            sorted(row["ids"] or []), int(row["messages"]), int(row["vectors"]), int(row["observations"]), dry_run=True
        )
    deleted: list[str] = []
    messages = vector_rows = observations = 0
    while True:
        yield Begin()
        locked = yield from query(*sql_retention.lock_sweep_batch(s.tables, resource, cutoff, idle, SWEEP_BATCH))
        ids = [r["id"] for r in locked]
        if ids:
            counts = yield from query_one(*sql_retention.delete_threads(s.tables, ids, vectors))
            assert counts is not None
            deleted += ids
            messages += int(counts["messages"])
            vector_rows += int(counts["vectors"])
            observations += int(counts["observations"])
        yield Commit()
        if len(ids) < SWEEP_BATCH:
            return SweepResult(sorted(deleted), messages, vector_rows, observations)


def delete_resource(s: Store, resource_id: str) -> Plan[ResourceDeletion]:
    """Delete everything of one resource, in one transaction: for account-deletion requests.

    That is its threads with their messages, every message naming the resource, the vectors of
    those threads and messages (and any vector naming the resource), its observational memory
    of either scope, its embedding-backlog entries and its ``mastra_resources`` row, which holds
    resource-scoped working memory. Other resources' data is not touched. A save to one of its
    threads that races the deletion waits, then fails with NotFoundError, never leaving orphans.

    Raises:
        InvalidInputError: an empty ``resource_id``.
        StorageError: the database failed; the transaction rolls back and nothing is deleted.
    """
    resource = check_id(resource_id, "resource_id")
    vectors = yield from _vector_tables(s)
    yield Begin()
    locked = yield from query(*sql_retention.lock_resource_threads(s.tables, resource))
    ids = [r["id"] for r in locked]
    counts = yield from query_one(*sql_retention.delete_threads(s.tables, ids, vectors, resource_id=resource))
    yield Commit()
    assert counts is not None
    return ResourceDeletion(
        resource_id=resource,
        threads=int(counts["threads"]),
        messages=int(counts["messages"]),
        vectors=int(counts["vectors"]),
        observations=int(counts["observations"]),
        resource=bool(counts["resources"]),
    )
