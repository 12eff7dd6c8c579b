"""SQL for cloning a thread: one statement, so the new thread and its messages land together."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from psycopg import sql

from .._errors import SQLSTATE_CONFLICT, SQLSTATE_NOT_FOUND
from ._rows import MESSAGE_COLUMNS, THREAD_COLUMNS, prefixed
from ._tables import Tables
from ._threads import NOW, NOW_NAIVE, Statement


def clone_thread(
    t: Tables,
    source_id: str,
    new_id: str,
    resource_id: str | None,
    title: str | None,
    metadata: str | None,
    limit: int | None,
    start: datetime | None,
    end: datetime | None,
    message_ids: list[str] | None,
) -> Statement:
    """Copy a thread and (a selection of) its messages under new ids, keeping their times.

    Rows: one per cloned message (``m_*`` columns plus ``source_id``), each also carrying the
    new thread's columns; a thread with no messages gives one row with NULL ``m_id``.
    """
    filters: list[sql.Composable] = [sql.SQL("m.thread_id = %(source)s")]
    created = sql.SQL('COALESCE(m."createdAtZ", m."createdAt" AT TIME ZONE \'UTC\')')
    if start is not None:
        filters.append(sql.SQL("{} >= %(start)s").format(created))
    if end is not None:
        filters.append(sql.SQL("{} <= %(end)s").format(created))
    if message_ids is not None:
        filters.append(sql.SQL("m.id = ANY(%(ids)s::text[])"))
    message_out = sql.SQL(", ").join(
        sql.SQL("nm.{} AS {}").format(sql.SQL(c.strip()), sql.Identifier("m_" + c.strip().strip('"')))
        for c in MESSAGE_COLUMNS.as_string().split(",")
    )
    stmt = sql.SQL(
        'WITH src AS (SELECT id, "resourceId", title FROM {threads} WHERE id = %(source)s),'
        " picked AS (SELECT {mcols} FROM {messages} m WHERE {filters}"
        '  ORDER BY m."createdAt" DESC, m.id DESC LIMIT %(limit)s),'
        # gen_random_uuid() is volatile, so this CTE is computed once and both uses see the same ids.
        " mapped AS (SELECT p.*, gen_random_uuid()::text AS new_id FROM picked p),"
        " guard AS (SELECT CASE"
        "  WHEN NOT EXISTS (SELECT 1 FROM src)"
        "   THEN {fail}(%(missing)s, 'source thread ' || %(source)s || ' does not exist')"
        "  WHEN EXISTS (SELECT 1 FROM {threads} WHERE id = %(new)s) THEN {fail}(%(conflict)s,"
        "   'thread ' || %(new)s || ' already exists; pick another new_thread_id')"
        "  ELSE false END AS failed),"
        ' nt AS (INSERT INTO {threads} (id, "resourceId", title, metadata, "createdAt", "updatedAt",'
        ' "createdAtZ", "updatedAtZ")'
        "  SELECT %(new)s, COALESCE(%(resource)s, src.\"resourceId\"),"
        "  COALESCE(%(title)s, CASE WHEN src.title <> '' THEN 'Clone of ' || src.title ELSE '' END),"
        "  COALESCE(%(metadata)s::jsonb, '{{}}'::jsonb)"
        "   || jsonb_build_object('clone', jsonb_strip_nulls(jsonb_build_object("
        "   'sourceThreadId', src.id,"
        "   'clonedAt', to_char({now} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'),"
        "   'lastMessageId', (SELECT id FROM mapped ORDER BY \"createdAt\" DESC, id DESC LIMIT 1)))),"
        "  {naive}, {naive}, {now}, {now} FROM src WHERE NOT (SELECT failed FROM guard)"
        "  RETURNING {tcols}),"
        ' nm AS (INSERT INTO {messages} AS x (id, thread_id, content, role, type, "createdAt", "createdAtZ",'
        ' "resourceId")'
        '  SELECT mp.new_id, nt.id, mp.content, mp.role, mp.type, mp."createdAt", mp."createdAtZ",'
        ' nt."resourceId"'
        "  FROM mapped mp CROSS JOIN nt RETURNING {xcols})"
        " SELECT nt.*, {message_out}, mp.id AS source_id FROM nt"
        " LEFT JOIN (nm JOIN mapped mp ON mp.new_id = nm.id) ON true"
    ).format(
        threads=t.threads,
        messages=t.messages,
        mcols=prefixed(MESSAGE_COLUMNS, "m"),
        filters=sql.SQL(" AND ").join(filters),
        fail=t.raise_fn,
        now=NOW,
        naive=NOW_NAIVE,
        tcols=THREAD_COLUMNS,
        xcols=prefixed(MESSAGE_COLUMNS, "x"),
        message_out=message_out,
    )
    params: dict[str, Any] = {
        "source": source_id,
        "new": new_id,
        "resource": resource_id,
        "title": title,
        "metadata": metadata,
        "limit": limit,
        "start": start,
        "end": end,
        "ids": message_ids,
        "missing": SQLSTATE_NOT_FOUND,
        "conflict": SQLSTATE_CONFLICT,
    }
    return stmt, params
