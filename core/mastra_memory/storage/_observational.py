"""SQL for observational memory: rows of ``mastra_observational_memory`` exactly as @mastra/pg writes
them, and the per-thread state Mastra keeps in ``mastra_threads.metadata.mastra.om``.

Rows: one per generation and lookup key (``thread:<id>`` or ``resource:<id>``); the current one
has the highest ``generationCount``. An observation first creates generation 0 the way Mastra's
``initializeObservationalMemory`` does, then updates it the way ``updateActiveObservations`` does;
a reflection inserts the next generation the way ``createReflectionGeneration`` does. Reads come
with the context statement (``storage/_context.py``).

Writes run in one transaction under an advisory lock on the lookup key, after a guard that
tells the plan whether the record or the thread's cursor changed while the model ran (then the
plan writes nothing and reports a ConflictError), so two observers never append the same messages.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
from psycopg import sql

from ._rows import MESSAGE_COLUMNS, prefixed
from ._tables import Tables
from ._threads import NOW, NOW_NAIVE, Statement, stored_object

OM_COLUMNS = sql.SQL(
    'id, "lookupKey", scope, "resourceId", "threadId", "activeObservations", "originType", config,'
    ' "generationCount", "lastObservedAt", "lastObservedAtZ", "lastReflectionAtZ", "pendingMessageTokens",'
    ' "totalTokensObserved", "observationTokenCount", "observedMessageIds", "observedTimezone", metadata,'
    ' "createdAt", "createdAtZ", "updatedAt", "updatedAtZ"'
)


_OBJECT_AT = "'lax $.{path} ? (@.type() == \"object\")'"


def _object_at(meta: sql.Composable, path: str) -> sql.Composed:
    """The jsonb object at ``path`` of ``meta`` (``{}`` when absent or not an object)."""
    return sql.SQL("COALESCE(jsonb_path_query_first(COALESCE({m}, '{{}}'::jsonb), {p}), '{{}}'::jsonb)").format(
        m=meta, p=sql.SQL(_OBJECT_AT.format(path=path))
    )


def _om_meta(column: sql.Composable) -> sql.Composed:
    """``metadata.mastra.om`` of a thread as a jsonb object (``{}`` when absent or not an object)."""
    return _object_at(stored_object(column), "mastra.om")


def om_thread_state(column: sql.Composable) -> sql.Composed:
    """The thread's OM metadata as jsonb (for the context statement)."""
    return _om_meta(column)


def lock(key: str) -> Statement:
    """Serialise writers of one lookup key until the transaction ends."""
    stmt = sql.SQL("SELECT pg_advisory_xact_lock(hashtext('mastra_memory_om:' || %(key)s)) IS NULL AS locked")
    return stmt.format(), {"key": key}


def history(t: Tables, key: str, limit: int | None) -> Statement:
    """Generations of a lookup key, newest first."""
    stmt = sql.SQL(
        'SELECT {cols} FROM {om} WHERE "lookupKey" = %(key)s ORDER BY "generationCount" DESC, "createdAtZ" DESC'
        " LIMIT %(limit)s"
    ).format(cols=OM_COLUMNS, om=t.observational_memory)
    return stmt, {"key": key, "limit": limit}


def guard(
    t: Tables, key: str, record_id: str | None, updated_at: datetime | None, thread_id: str | None,
    cursor: dict[str, Any] | None,
) -> Statement:
    """``changed``: whether the current record (and, given a thread, its cursor) differs from what
    the plan read before the model ran. Not an error inside the statement, so the plan can end the
    transaction cleanly and report a ConflictError itself."""
    om = _om_meta(sql.SQL("th.metadata"))
    cursor_changed = (
        sql.SQL(" OR (SELECT {om}->'lastObservedMessageCursor' FROM {threads} th WHERE th.id = %(thread)s)"
                " IS DISTINCT FROM %(cur)s::jsonb").format(om=om, threads=t.threads)
        if thread_id is not None
        else sql.SQL("")
    )
    stmt = sql.SQL(
        "SELECT (s.rid IS DISTINCT FROM %(rid)s OR s.rup IS DISTINCT FROM %(rup)s::timestamptz{cursor}) AS changed"
        " FROM (SELECT"
        ' (SELECT id FROM {om_t} WHERE "lookupKey" = %(key)s ORDER BY "generationCount" DESC LIMIT 1) AS rid,'
        ' (SELECT "updatedAtZ" FROM {om_t} WHERE "lookupKey" = %(key)s ORDER BY "generationCount" DESC LIMIT 1)'
        " AS rup) s"
    ).format(om_t=t.observational_memory, cursor=cursor_changed)
    return stmt, {
        "key": key, "rid": record_id, "rup": updated_at, "thread": thread_id,
        "cur": None if cursor is None else orjson.dumps(cursor).decode(),
    }


def initialize(t: Tables, record_id: str, key: str, scope: str, resource_id: str, thread_id: str | None,
               config: str, timezone_name: str | None) -> Statement:
    """Generation 0, empty, with the columns Mastra's ``initializeObservationalMemory`` sets."""
    stmt = sql.SQL(
        'INSERT INTO {om} (id, "lookupKey", scope, "resourceId", "threadId", "activeObservations",'
        ' "activeObservationsPendingUpdate", "originType", config, "generationCount", "lastObservedAt",'
        ' "lastObservedAtZ", "lastReflectionAt", "lastReflectionAtZ", "pendingMessageTokens", "totalTokensObserved",'
        ' "observationTokenCount", "isObserving", "isReflecting", "isBufferingObservation", "isBufferingReflection",'
        ' "lastBufferedAtTokens", "lastBufferedAtTime", "observedTimezone", "createdAt", "createdAtZ", "updatedAt",'
        ' "updatedAtZ") VALUES (%(id)s, %(key)s, %(scope)s, %(resource)s, %(thread)s, \'\', NULL, \'initial\','
        " %(config)s, 0, NULL, NULL, NULL, NULL, 0, 0, 0, false, false, false, false, 0, NULL, %(tz)s,"
        " {naive}, {now}, {naive}, {now})"
    ).format(om=t.observational_memory, naive=NOW_NAIVE, now=NOW)
    params = {"id": record_id, "key": key, "scope": scope, "resource": resource_id, "thread": thread_id,
              "config": config, "tz": timezone_name}
    return stmt, params


def update_active(t: Tables, record_id: str, observations: str, tokens: int, last_observed_at: datetime,
                  observed_ids: str | None) -> Statement:
    """Mastra's ``updateActiveObservations``: new text and counters, pending tokens back to 0."""
    stmt = sql.SQL(
        'UPDATE {om} SET "activeObservations" = %(obs)s, "lastObservedAt" = %(at)s::timestamptz AT TIME ZONE \'UTC\','
        ' "lastObservedAtZ" = %(at)s, "pendingMessageTokens" = 0, "observationTokenCount" = %(tokens)s,'
        ' "totalTokensObserved" = "totalTokensObserved" + %(tokens)s, "observedMessageIds" = %(ids)s::jsonb,'
        ' "updatedAt" = {naive}, "updatedAtZ" = {now} WHERE id = %(id)s RETURNING {cols}'
    ).format(om=t.observational_memory, naive=NOW_NAIVE, now=NOW, cols=OM_COLUMNS)
    return stmt, {"obs": observations, "at": last_observed_at, "tokens": tokens, "ids": observed_ids, "id": record_id}


def insert_reflection(t: Tables, new_id: str, current_id: str, reflection: str, tokens: int) -> Statement:
    """Mastra's ``createReflectionGeneration``: the next generation, copying what Mastra copies."""
    stmt = sql.SQL(
        'INSERT INTO {om} (id, "lookupKey", scope, "resourceId", "threadId", "activeObservations",'
        ' "activeObservationsPendingUpdate", "originType", config, "generationCount", "lastObservedAt",'
        ' "lastObservedAtZ", "lastReflectionAt", "lastReflectionAtZ", "pendingMessageTokens", "totalTokensObserved",'
        ' "observationTokenCount", "isObserving", "isReflecting", "isBufferingObservation", "isBufferingReflection",'
        ' "lastBufferedAtTokens", "lastBufferedAtTime", "observedTimezone", metadata, "createdAt", "createdAtZ",'
        ' "updatedAt", "updatedAtZ")'
        ' SELECT %(id)s, c."lookupKey", c.scope, c."resourceId", c."threadId", %(obs)s, NULL, \'reflection\','
        ' c.config, c."generationCount" + 1, c."lastObservedAtZ" AT TIME ZONE \'UTC\', c."lastObservedAtZ",'
        " {naive}, {now}, 0, c.\"totalTokensObserved\", %(tokens)s, false, false, false, false, 0, NULL,"
        ' c."observedTimezone", c.metadata, {naive}, {now}, {naive}, {now} FROM {om} c WHERE c.id = %(current)s'
        " RETURNING {cols}"
    ).format(om=t.observational_memory, naive=NOW_NAIVE, now=NOW, cols=OM_COLUMNS)
    return stmt, {"id": new_id, "obs": reflection, "tokens": tokens, "current": current_id}


def set_thread_state(t: Tables, thread_id: str, om_update: str, title: str | None) -> Statement:
    """Merge keys into ``metadata.mastra.om`` (other keys at every level stay), optionally set the
    title, and bump ``updatedAt``, as Mastra's ``setThreadOMMetadata`` + ``patchThread`` do."""
    meta = stored_object(sql.SQL("th.metadata"))
    mastra = _object_at(meta, "mastra")
    stmt = sql.SQL(
        "UPDATE {threads} th SET metadata = COALESCE({m}, '{{}}'::jsonb) || jsonb_build_object('mastra', {mastra}"
        " || jsonb_build_object('om', {om} || %(om)s::jsonb)), title = COALESCE(%(title)s, th.title),"
        ' "updatedAt" = {naive}, "updatedAtZ" = {now} WHERE th.id = %(thread)s RETURNING th.id'
    ).format(threads=t.threads, m=meta, mastra=mastra, om=_om_meta(sql.SQL("th.metadata")), naive=NOW_NAIVE, now=NOW)
    return stmt, {"thread": thread_id, "om": om_update, "title": title}


def clear(t: Tables, key: str, thread_id: str | None, resource_id: str | None) -> Statement:
    """Delete every generation of the key and drop ``metadata.mastra.om`` from the thread (thread
    scope) or from every thread of the resource (resource scope), so the raw history shows again."""
    meta = stored_object(sql.SQL("th.metadata"))
    where = sql.SQL("th.id = %(thread)s") if thread_id is not None else sql.SQL('th."resourceId" = %(resource)s')
    stmt = sql.SQL(
        'WITH d AS (DELETE FROM {om} WHERE "lookupKey" = %(key)s RETURNING id),'
        " u AS (UPDATE {threads} th SET metadata = ({m}) #- '{{mastra,om}}' WHERE {where}"
        "  AND ({m}) #> '{{mastra,om}}' IS NOT NULL RETURNING th.id)"
        " SELECT (SELECT count(*) FROM d) AS deleted, (SELECT count(*) FROM u) AS threads"
    ).format(om=t.observational_memory, threads=t.threads, m=meta, where=where)
    return stmt, {"key": key, "thread": thread_id, "resource": resource_id}


# --- pieces of the context statement (storage/_context.py) -----------------------------------

_ISO = "'^[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}T'"
OTHER_THREADS, OTHER_MESSAGES = 5, 20  # bounds of the "other conversations" block (resource scope)


def context_ctes(t: Tables) -> list[sql.Composable]:
    """``omrec``: the current record of ``%(om_key)s``; ``omcur``: where the thread's observed
    messages end — Mastra's ``lastObservedMessageCursor`` in the thread's metadata, else (thread
    scope) the record's ``lastObservedAt``. No record means nothing counts as observed."""
    cursor = sql.SQL("({om})->'lastObservedMessageCursor'").format(om=_om_meta(sql.SQL("th.metadata")))
    return [
        sql.SQL(
            'omrec AS (SELECT {cols} FROM {om} WHERE "lookupKey" = %(om_key)s ORDER BY "generationCount" DESC LIMIT 1)'
        ).format(cols=OM_COLUMNS, om=t.observational_memory),
        sql.SQL(
            "omcur AS (SELECT CASE WHEN r.id IS NULL THEN NULL"
            " WHEN tc.c->>'createdAt' ~ " + _ISO + " THEN (tc.c->>'createdAt')::timestamptz AT TIME ZONE 'UTC'"
            " WHEN %(om_key)s LIKE 'thread:%%' THEN r.\"lastObservedAtZ\" AT TIME ZONE 'UTC' END AS at,"
            " CASE WHEN r.id IS NOT NULL AND tc.c->>'createdAt' ~ " + _ISO + " THEN tc.c->>'id' END AS id"
            " FROM (SELECT 1) one LEFT JOIN omrec r ON true"
            " LEFT JOIN LATERAL (SELECT {cursor} AS c FROM {threads} th WHERE th.id = %(thread)s) tc ON true)"
        ).format(cursor=cursor, threads=t.threads),
        # Resource scope: the newest unobserved messages of the resource's other recently active
        # threads (Mastra's "other conversations"), each thread by its own cursor; bounded. One
        # more than is shown, so the plan knows whether a thread's set is complete.
        sql.SQL(
            "omother AS (SELECT {mcols} FROM (SELECT o.id, CASE WHEN o.c->>'createdAt' ~ " + _ISO +
            " THEN (o.c->>'createdAt')::timestamptz AT TIME ZONE 'UTC' END AS at, o.c->>'id' AS cid"
            " FROM (SELECT th.id, {cursor} AS c FROM {threads} th WHERE %(om_key)s LIKE 'resource:%%'"
            "  AND th.\"resourceId\" = %(resource)s AND th.id <> %(thread)s"
            "  ORDER BY th.\"updatedAt\" DESC, th.id LIMIT {threads_max}) o) ot"
            " CROSS JOIN LATERAL (SELECT {mcols} FROM {messages} m WHERE m.thread_id = ot.id AND"
            "  (NOT EXISTS (SELECT 1 FROM omrec) OR ot.at IS NULL OR m.\"createdAt\" > ot.at"
            "   OR (m.\"createdAt\" = ot.at AND m.id IS DISTINCT FROM ot.cid))"
            "  ORDER BY m.\"createdAt\" DESC, m.id DESC LIMIT {messages_max}) m)"
        ).format(
            mcols=prefixed(MESSAGE_COLUMNS, "m"), cursor=cursor, threads=t.threads, messages=t.messages,
            threads_max=sql.Literal(OTHER_THREADS), messages_max=sql.Literal(OTHER_MESSAGES + 1),
        ),
    ]


def unobserved(alias: str = "m") -> sql.Composed:
    """Condition on a message (``alias``) of the thread: not yet observed (Mastra's cursor rule:
    observed when older than the cursor, or the cursor message itself)."""
    m = sql.Identifier(alias)
    return sql.SQL(
        "((SELECT at FROM omcur) IS NULL OR {m}.\"createdAt\" > (SELECT at FROM omcur)"
        " OR ({m}.\"createdAt\" = (SELECT at FROM omcur) AND (SELECT id FROM omcur) IS NOT NULL"
        " AND {m}.id <> (SELECT id FROM omcur)))"
    ).format(m=m)


def context_branch(nulls: sql.Composable) -> sql.Composed:
    """Row ``o``: the current record as JSON in ``extra``, its times as exact epoch microseconds;
    rows ``x``: other threads' unobserved messages (resource scope)."""
    fields = ", ".join(
        f"'{name}Us', (extract(epoch FROM r.\"{name}Z\") * 1000000)::bigint"
        for name in ("createdAt", "updatedAt", "lastObservedAt")
    )
    return sql.SQL(
        "SELECT 'o', {nulls}, NULL, NULL, NULL, (to_jsonb(r) || jsonb_build_object(" + fields + "))::text"
        " FROM omrec r UNION ALL SELECT 'x', {xcols}, NULL, NULL, NULL, NULL FROM omother x"
    ).format(nulls=nulls, xcols=prefixed(MESSAGE_COLUMNS, "x"))
