"""SQL for threads and resources. Each builder returns ``(statement, params)``; nothing runs here."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from psycopg import sql

from ._rows import RESOURCE_COLUMNS, THREAD_COLUMNS, prefixed
from ._tables import Tables

Statement = tuple[sql.Composed, dict[str, Any]]

# Times are the database's, cut to milliseconds like the JavaScript Dates Mastra writes, so both
# sides order rows the same way; the naive twin columns hold the same instant in UTC.
NOW = sql.SQL("date_trunc('milliseconds', statement_timestamp())")
NOW_NAIVE = sql.SQL("(date_trunc('milliseconds', statement_timestamp()) AT TIME ZONE 'UTC')")


def insert_thread(t: Tables, thread_id: str, resource_id: str, title: str, metadata: str | None) -> Statement:
    """Create a thread unless the id exists (then no row comes back)."""
    stmt = sql.SQL(
        'INSERT INTO {threads} (id, "resourceId", title, metadata, "createdAt", "updatedAt", "createdAtZ",'
        ' "updatedAtZ") '
        "VALUES (%(id)s, %(resource)s, %(title)s, %(metadata)s::jsonb, {naive}, {naive}, {now}, {now}) "
        "ON CONFLICT (id) DO NOTHING RETURNING {cols}"
    ).format(threads=t.threads, naive=NOW_NAIVE, now=NOW, cols=THREAD_COLUMNS)
    return stmt, {"id": thread_id, "resource": resource_id, "title": title, "metadata": metadata}


def upsert_thread(
    t: Tables,
    thread_id: str,
    resource_id: str,
    title: str,
    metadata: str | None,
    created_at: datetime | None,
    updated_at: datetime | None,
) -> Statement:
    """Mastra's saveThread: insert, or overwrite every column of an existing thread."""
    stmt = sql.SQL(
        'INSERT INTO {threads} AS t (id, "resourceId", title, metadata, "createdAt", "updatedAt", "createdAtZ",'
        ' "updatedAtZ") '
        "SELECT %(id)s, %(resource)s, %(title)s, %(metadata)s::jsonb, c AT TIME ZONE 'UTC', u AT TIME ZONE 'UTC', c, u "
        "FROM (SELECT COALESCE(%(created)s::timestamptz, {now}) AS c, COALESCE(%(updated)s::timestamptz, {now}) AS u)"
        " AS times "
        'ON CONFLICT (id) DO UPDATE SET "resourceId" = EXCLUDED."resourceId", title = EXCLUDED.title, '
        'metadata = EXCLUDED.metadata, "createdAt" = EXCLUDED."createdAt", "updatedAt" = EXCLUDED."updatedAt", '
        '"createdAtZ" = EXCLUDED."createdAtZ", "updatedAtZ" = EXCLUDED."updatedAtZ" '
        "RETURNING {cols}"
    ).format(threads=t.threads, now=NOW, cols=THREAD_COLUMNS)
    params = {
        "id": thread_id,
        "resource": resource_id,
        "title": title,
        "metadata": metadata,
        "created": created_at,
        "updated": updated_at,
    }
    return stmt, params


def select_thread(t: Tables, thread_id: str) -> Statement:
    stmt = sql.SQL("SELECT {cols} FROM {threads} WHERE id = %(id)s").format(cols=THREAD_COLUMNS, threads=t.threads)
    return stmt, {"id": thread_id}


def lock_thread(t: Tables, thread_id: str) -> Statement:
    """Lock a thread's row until the transaction ends (every message write bumps that row)."""
    stmt = sql.SQL("SELECT 1 AS found FROM {threads} WHERE id = %(id)s FOR UPDATE").format(threads=t.threads)
    return stmt, {"id": thread_id}


def list_threads(
    t: Tables,
    resource_id: str | None,
    metadata: str | None,
    order_field: str,
    direction: str,
    limit: int | None,
    offset: int,
) -> Statement:
    """One page plus the total, in one statement. A row with a NULL id means an empty page."""
    where: list[sql.Composable] = [sql.SQL("true")]
    if resource_id is not None:
        where.append(sql.SQL('"resourceId" = %(resource)s'))
    if metadata is not None:
        where.append(sql.SQL("metadata::jsonb @> %(metadata)s::jsonb"))
    order = sql.SQL("{f} {d}, id {d}").format(f=sql.Identifier(order_field), d=sql.SQL(direction))
    stmt = sql.SQL(
        "WITH f AS (SELECT {cols} FROM {threads} WHERE {where}) "
        "SELECT c.total, p.* FROM (SELECT count(*) AS total FROM f) AS c "
        "LEFT JOIN LATERAL (SELECT * FROM f ORDER BY {order} LIMIT %(limit)s OFFSET %(offset)s) AS p ON true "
        "ORDER BY {porder}"
    ).format(
        cols=THREAD_COLUMNS,
        threads=t.threads,
        where=sql.SQL(" AND ").join(where),
        order=order,
        porder=sql.SQL("p.{f} {d}, p.id {d}").format(f=sql.Identifier(order_field), d=sql.SQL(direction)),
    )
    return stmt, {"resource": resource_id, "metadata": metadata, "limit": limit, "offset": offset}


def stored_object(column: sql.Composable) -> sql.Composed:
    """A stored metadata value as a jsonb object to merge into, or NULL when it is none.

    Reads jsonb objects, TEXT columns of very old databases, and the JSON *strings* some Mastra
    versions wrote (``"{\\"a\\": 1}"``), which are parsed, so merging never drops their keys.
    """
    return sql.SQL(
        "CASE jsonb_typeof({c}::jsonb) WHEN 'object' THEN {c}::jsonb WHEN 'string' THEN"
        " CASE WHEN left({c}::jsonb #>> '{{}}', 1) = '{{' THEN ({c}::jsonb #>> '{{}}')::jsonb END END"
    ).format(c=column)


def update_thread(t: Tables, thread_id: str, title: str | None, metadata: str | None) -> Statement:
    """Set the title, shallow-merge metadata (one atomic statement: parallel updates lose no keys)."""
    stmt = sql.SQL(
        "UPDATE {threads} SET title = COALESCE(%(title)s, title), "
        "metadata = CASE WHEN %(metadata)s::jsonb IS NULL THEN metadata "
        "ELSE COALESCE({old}, '{{}}'::jsonb) || %(metadata)s::jsonb END, "
        '"updatedAt" = {naive}, "updatedAtZ" = {now} WHERE id = %(id)s RETURNING {cols}'
    ).format(threads=t.threads, naive=NOW_NAIVE, now=NOW, cols=THREAD_COLUMNS, old=stored_object(sql.SQL("metadata")))
    return stmt, {"id": thread_id, "title": title, "metadata": metadata}


def vector_tables(t: Tables) -> Statement:
    """Mastra's message vector tables in the schema (``memory_messages`` and ``memory_messages_<dim>``)."""
    stmt = sql.SQL(
        "SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'metadata' AND NOT a.attisdropped "
        "WHERE n.nspname = %(schema)s AND c.relkind IN ('r', 'p') "
        "AND (c.relname = 'memory_messages' OR c.relname LIKE 'memory\\_messages\\_%%') ORDER BY 1"
    ).format()
    return stmt, {"schema": t.schema}


def delete_thread(t: Tables, thread_id: str, vectors: list[str]) -> Statement:
    """The thread, its messages, their vectors and its thread-scoped observational memory, in one
    statement (so one transaction), as Mastra's ``Memory.deleteThread`` removes them."""
    ctes = [
        sql.SQL("m AS (DELETE FROM {} WHERE thread_id = %(id)s RETURNING id)").format(t.messages),
        sql.SQL("b AS (DELETE FROM {} WHERE message_id IN (SELECT id FROM m))").format(t.backlog),
        sql.SQL("o AS (DELETE FROM {} WHERE \"lookupKey\" = 'thread:' || %(id)s)").format(t.observational_memory),
    ]
    ctes += [
        sql.SQL("v{} AS (DELETE FROM {} WHERE metadata->>'thread_id' = %(id)s)").format(
            sql.SQL(str(i)), sql.Identifier(t.schema, name)
        )
        for i, name in enumerate(vectors)
    ]
    stmt = sql.SQL("WITH {} DELETE FROM {} WHERE id = %(id)s RETURNING id").format(sql.SQL(", ").join(ctes), t.threads)
    return stmt, {"id": thread_id}


def thread_lineage(t: Tables, thread_id: str) -> Statement:
    """The thread and every thread it was cloned from, newest first (cycle-safe)."""
    stmt = sql.SQL(
        "WITH RECURSIVE chain AS ("
        " SELECT {cols}, 0 AS depth, ARRAY[id] AS seen FROM {threads} WHERE id = %(id)s"
        " UNION ALL"
        " SELECT {pcols}, c.depth + 1, c.seen || p.id FROM chain c"
        " JOIN {threads} p ON p.id = c.metadata::jsonb->'clone'->>'sourceThreadId'"
        " WHERE NOT p.id = ANY(c.seen) AND c.depth < 1000"
        ") SELECT {cols} FROM chain ORDER BY depth"
    ).format(cols=THREAD_COLUMNS, pcols=prefixed(THREAD_COLUMNS, "p"), threads=t.threads)
    return stmt, {"id": thread_id}


def list_clones(t: Tables, source_thread_id: str, resource_id: str | None) -> Statement:
    cond = sql.SQL(' AND "resourceId" = %(resource)s') if resource_id is not None else sql.SQL("")
    stmt = sql.SQL(
        "SELECT {cols} FROM {threads} WHERE metadata::jsonb->'clone'->>'sourceThreadId' = %(id)s{cond} "
        'ORDER BY "createdAt", id'
    ).format(cols=THREAD_COLUMNS, threads=t.threads, cond=cond)
    return stmt, {"id": source_thread_id, "resource": resource_id}


# --- resources -------------------------------------------------------------------------------


def select_resource(t: Tables, resource_id: str) -> Statement:
    stmt = sql.SQL("SELECT {cols} FROM {resources} WHERE id = %(id)s").format(
        cols=RESOURCE_COLUMNS, resources=t.resources
    )
    return stmt, {"id": resource_id}


def upsert_resource(
    t: Tables, resource_id: str, set_working_memory: bool, working_memory: str | None, metadata: str | None
) -> Statement:
    """Create the resource when missing; else shallow-merge metadata and set working memory if given.

    Old Mastra versions stored resource metadata as a JSON *string*; it is parsed before merging.
    """
    merged = stored_object(sql.SQL("r.metadata"))
    stmt = sql.SQL(
        'INSERT INTO {resources} AS r (id, "workingMemory", metadata, "createdAt", "updatedAt", "createdAtZ",'
        ' "updatedAtZ") '
        "VALUES (%(id)s, %(wm)s, COALESCE(%(metadata)s::jsonb, '{{}}'::jsonb), {naive}, {naive}, {now}, {now}) "
        'ON CONFLICT (id) DO UPDATE SET "workingMemory" = CASE WHEN %(set_wm)s THEN EXCLUDED."workingMemory" '
        'ELSE r."workingMemory" END, '
        "metadata = CASE WHEN %(metadata)s::jsonb IS NULL THEN r.metadata "
        "ELSE COALESCE({merged}, '{{}}'::jsonb) || %(metadata)s::jsonb END, "
        '"updatedAt" = EXCLUDED."updatedAt", "updatedAtZ" = EXCLUDED."updatedAtZ" RETURNING {cols}'
    ).format(resources=t.resources, naive=NOW_NAIVE, now=NOW, merged=merged, cols=RESOURCE_COLUMNS)
    return stmt, {"id": resource_id, "wm": working_memory, "set_wm": set_working_memory, "metadata": metadata}
