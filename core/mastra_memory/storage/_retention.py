"""SQL for retention: sweeping old or idle threads, and deleting everything of one resource.

Each deletion first locks the threads it will remove (``SELECT … FOR UPDATE``) and only then,
in a second statement of the same transaction, deletes. ``save_messages`` takes the thread row's
lock before it writes, so a save racing a deletion either commits before the lock (and its
messages are seen and deleted by the second statement, which reads a fresh snapshot) or waits and
then fails with "thread not found". A single statement could not promise that: its snapshot is
taken before it waits for the lock, so it would miss messages committed while it waited.

What goes with a thread is what ``delete_thread`` removes: its messages, their vectors (both of
Mastra's shapes: matched by ``thread_id`` and by ``message_id`` in the vector metadata), its
thread-scoped observational memory and its embedding-backlog entries.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from psycopg import sql

from ._tables import Tables
from ._threads import Statement

# The thread's last activity: the ``…Z`` twin when set, else the naive UTC column.
_UPDATED = sql.SQL('COALESCE(t."updatedAtZ", t."updatedAt" AT TIME ZONE \'UTC\')')
_CREATED = sql.SQL('COALESCE(t."createdAtZ", t."createdAt" AT TIME ZONE \'UTC\')')


def _sweep_where(resource_id: str | None, older_than: datetime | None, idle_for: timedelta | None) -> sql.Composed:
    """Every given condition must hold (AND): a deletion never reaches further than asked."""
    where: list[sql.Composable] = []
    if older_than is not None:
        where.append(sql.SQL("{} < %(older_than)s").format(_CREATED))
    if idle_for is not None:  # the database's clock, so a skewed client clock cannot widen the sweep
        where.append(sql.SQL("{} < statement_timestamp() - %(idle_for)s::interval").format(_UPDATED))
    if resource_id is not None:
        where.append(sql.SQL('t."resourceId" = %(resource)s'))
    return sql.SQL(" AND ").join(where)


def lock_sweep_batch(
    t: Tables, resource_id: str | None, older_than: datetime | None, idle_for: timedelta | None, limit: int
) -> Statement:
    """Lock up to ``limit`` threads that match the sweep, oldest first; returns their ids."""
    stmt = sql.SQL(
        "SELECT t.id FROM {threads} t WHERE {where} ORDER BY {created}, t.id LIMIT %(limit)s FOR UPDATE OF t"
    ).format(threads=t.threads, where=_sweep_where(resource_id, older_than, idle_for), created=_CREATED)
    return stmt, {"resource": resource_id, "older_than": older_than, "idle_for": idle_for, "limit": limit}


def _vectors_match(resource: bool) -> sql.SQL:
    """The doomed threads' and messages' vectors (and, for a resource, any vector naming it)."""
    cond = "metadata->>'thread_id' = ANY(%(ids)s::text[]) OR metadata->>'message_id' IN (SELECT id FROM m)"
    if resource:
        cond += " OR metadata->>'resource_id' = %(resource)s"
    return sql.SQL(cond)


def _messages_match(resource: bool) -> sql.SQL:
    if resource:  # messages naming the resource count too, wherever they sit
        return sql.SQL('thread_id = ANY(%(ids)s::text[]) OR "resourceId" = %(resource)s')
    return sql.SQL("thread_id = ANY(%(ids)s::text[])")


def _threads_match(resource: bool) -> sql.SQL:
    if resource:  # also a thread of the resource created after the lock was taken
        return sql.SQL('id = ANY(%(ids)s::text[]) OR "resourceId" = %(resource)s')
    return sql.SQL("id = ANY(%(ids)s::text[])")


def _observations_match(resource: bool) -> sql.SQL:
    thread_rows = "\"lookupKey\" = ANY(SELECT 'thread:' || x FROM unnest(%(ids)s::text[]) AS x)"
    if resource:  # rows of either scope that belong to the resource
        return sql.SQL(thread_rows + ' OR "lookupKey" = \'resource:\' || %(resource)s OR "resourceId" = %(resource)s')
    return sql.SQL(thread_rows)


def _qualified(t: Tables, name: str) -> sql.Identifier:
    return sql.Identifier(t.schema, name)


def delete_threads(t: Tables, thread_ids: list[str], vectors: list[str], resource_id: str | None = None) -> Statement:
    """Delete threads (already locked) with everything that hangs off them; returns the counts.

    With ``resource_id`` it also deletes that resource's own rows: messages and vectors naming
    it, its observational memory of any scope, and its ``mastra_resources`` row (working memory).
    """
    resource = resource_id is not None
    ctes: list[sql.Composable] = [
        sql.SQL("m AS (DELETE FROM {} WHERE {} RETURNING id)").format(t.messages, _messages_match(resource)),
        sql.SQL("b AS (DELETE FROM {} WHERE message_id IN (SELECT id FROM m))").format(t.backlog),
        sql.SQL("o AS (DELETE FROM {} WHERE {} RETURNING 1)").format(
            t.observational_memory, _observations_match(resource)
        ),
        sql.SQL("th AS (DELETE FROM {} WHERE {} RETURNING id)").format(t.threads, _threads_match(resource)),
    ]
    counts: list[sql.Composable] = [
        sql.SQL("(SELECT count(*) FROM m) AS messages, (SELECT count(*) FROM o) AS observations")
    ]
    vector_counts: list[sql.Composable] = []
    for i, name in enumerate(vectors):
        ctes.append(
            sql.SQL("v{} AS (DELETE FROM {} WHERE {} RETURNING 1)").format(
                sql.SQL(str(i)), _qualified(t, name), _vectors_match(resource)
            )
        )
        vector_counts.append(sql.SQL("(SELECT count(*) FROM v{})").format(sql.SQL(str(i))))
    if resource:
        ctes.append(sql.SQL("r AS (DELETE FROM {} WHERE id = %(resource)s RETURNING 1)").format(t.resources))
        counts.append(sql.SQL("(SELECT count(*) FROM r) AS resources"))
    total = sql.SQL(" + ").join(vector_counts) if vector_counts else sql.SQL("0")
    counts.append(sql.SQL("{} AS vectors").format(total))
    stmt = sql.SQL("WITH {} SELECT (SELECT count(*) FROM th) AS threads, {}").format(
        sql.SQL(", ").join(ctes), sql.SQL(", ").join(counts)
    )
    return stmt, {"ids": thread_ids, "resource": resource_id}


def count_sweep(
    t: Tables, resource_id: str | None, older_than: datetime | None, idle_for: timedelta | None, vectors: list[str]
) -> Statement:
    """What a sweep would delete, counted without deleting (a dry run): ids and counts."""
    vector_counts = [
        sql.SQL(
            "(SELECT count(*) FROM {} v WHERE v.metadata->>'thread_id' IN (SELECT id FROM th)"
            " OR v.metadata->>'message_id' IN (SELECT id FROM m))"
        ).format(_qualified(t, name))
        for name in vectors
    ]
    stmt = sql.SQL(
        "WITH th AS (SELECT t.id FROM {threads} t WHERE {where}),"
        " m AS (SELECT id FROM {messages} WHERE thread_id IN (SELECT id FROM th))"
        " SELECT (SELECT array_agg(id ORDER BY id) FROM th) AS ids, (SELECT count(*) FROM m) AS messages,"
        " (SELECT count(*) FROM {om} WHERE \"lookupKey\" IN (SELECT 'thread:' || id FROM th)) AS observations,"
        " {vectors} AS vectors"
    ).format(
        threads=t.threads,
        where=_sweep_where(resource_id, older_than, idle_for),
        messages=t.messages,
        om=t.observational_memory,
        vectors=sql.SQL(" + ").join(vector_counts) if vector_counts else sql.SQL("0"),
    )
    return stmt, {"resource": resource_id, "older_than": older_than, "idle_for": idle_for}


def lock_resource_threads(t: Tables, resource_id: str) -> Statement:
    """Lock every thread of the resource, so no save can add to them until the deletion commits."""
    stmt = sql.SQL(  # in the sweep's order, so a sweep and a deletion never lock in opposite orders
        'SELECT t.id FROM {} t WHERE t."resourceId" = %(resource)s ORDER BY {}, t.id FOR UPDATE'
    ).format(t.threads, _CREATED)
    return stmt, {"resource": resource_id}
