"""SQL for messages. Each builder returns ``(statement, params)``; nothing runs here.

Saving a batch is a single statement, hence one round trip and one commit. It also gives
concurrent writers a total order. The statement's UPDATE of each thread row takes that row's lock.
PostgreSQL re-reads a row it waited for, so the second writer's clock starts after the first
writer's last message. Messages without a ``createdAt`` get times strictly after every earlier
message of their thread, 1 ms apart, even when two processes save to one thread at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg import sql

from .._errors import SQLSTATE_NOT_FOUND, SQLSTATE_OWNERSHIP
from ._rows import MESSAGE_COLUMNS, prefixed
from ._tables import Tables
from ._threads import NOW, NOW_NAIVE, Statement
from ._vectors import VectorTable

_CREATED = sql.SQL('COALESCE(m."createdAtZ", m."createdAt" AT TIME ZONE \'UTC\')')


@dataclass(frozen=True, slots=True)
class VectorRows:
    """Vectors to write with a batch: one row per chunk, embeddings in pgvector's text form."""

    table: VectorTable
    vector_ids: list[str]
    message_ids: list[str]
    contents: list[str]
    embeddings: list[str]

    @classmethod
    def none_for(cls, table: VectorTable | None) -> VectorRows | None:
        """No new vectors, but the messages' old ones removed: for messages whose embedding
        failed, so a stale vector of an edited text does not answer for it until backfill."""
        return None if table is None else cls(table, [], [], [], [])


@dataclass(frozen=True, slots=True)
class MessageRow:
    """One message as it is written: content already encoded to JSON text."""

    id: str
    thread_id: str
    resource_id: str | None
    role: str
    type: str
    content: str
    created_at: datetime | None


def save_messages(
    t: Tables, rows: list[MessageRow], vectors: VectorRows | None = None, backlog: list[str] | None = None
) -> Statement:
    """Upsert a batch; returns each message's id and stored createdAt.

    With ``vectors``, the vectors are written in the same statement (Mastra's agent-path shape:
    metadata ``{message_id, thread_id, resource_id, role, content, created_at}``) and any other
    vector of these messages (stale chunks, Mastra's random-id rows) is removed. Ids in
    ``backlog`` are queued for ``backfill_embeddings`` (their embedding failed); saved messages
    not in it leave the queue.

    Aborts (writing nothing) when a thread is missing, when a message names a resource other
    than its thread's, or when an id already belongs to a message of another resource.

    The statement is kept small because planning it, not running it, was most of its server
    time: three CTEs, one pass for all the guards, and no vector or backlog CTE a call does not
    use. Ids must be unique within ``rows`` (the caller keeps the last copy of a repeated id).
    """
    stmt = sql.SQL(
        "WITH input AS ("
        " SELECT * FROM unnest(%(ids)s::text[], %(threads)s::text[], %(resources)s::text[], %(roles)s::text[],"
        " %(types)s::text[], %(contents)s::text[], %(times)s::timestamptz[])"
        " WITH ORDINALITY AS i(id, thread_id, resource_id, role, type, content, created_at, ord)),"
        # The clock: after now, after the thread's last bump, after its newest message. The row lock
        # makes a concurrent writer wait and re-read "updatedAtZ", which the first writer left at its
        # last message's time. OFFSET 0 keeps the clock one subquery, so the max() runs once.
        ' bump AS (UPDATE {threads} AS t SET ("updatedAtZ", "updatedAt") = (SELECT v, v AT TIME ZONE \'UTC\' FROM'
        " (SELECT"
        "  GREATEST({now}, COALESCE(t.\"updatedAtZ\", t.\"updatedAt\" AT TIME ZONE 'UTC') + interval '1 ms',"
        "   (SELECT max(x.\"createdAt\") FROM {messages} x WHERE x.thread_id = t.id) AT TIME ZONE 'UTC' + interval '1"
        " ms')"
        "  + GREATEST(w.auto - 1, 0) * interval '1 ms' AS v OFFSET 0) AS clock)"
        " FROM (SELECT thread_id, count(*) FILTER (WHERE created_at IS NULL) AS auto FROM input GROUP BY thread_id) w"
        " WHERE t.id = w.thread_id"
        ' RETURNING t.id, t."resourceId" AS owner, t."updatedAtZ" - GREATEST(w.auto - 1, 0) * interval \'1 ms\' AS'
        " base),"
        ' ins AS (INSERT INTO {messages} AS m (id, thread_id, content, role, type, "createdAt", "createdAtZ",'
        ' "resourceId")'
        "  SELECT id, thread_id, content, role, type, ts AT TIME ZONE 'UTC', ts, owner FROM"
        "  (SELECT i.id, i.thread_id, i.content, i.role, i.type, b.owner,"
        "   COALESCE(i.created_at, b.base + (row_number() OVER (PARTITION BY i.thread_id, i.created_at IS NULL"
        "    ORDER BY i.ord) - 1) * interval '1 ms') AS ts"
        "   FROM input i JOIN bump b ON b.id = i.thread_id WHERE COALESCE(i.resource_id, b.owner) = b.owner) s"
        "  ON CONFLICT (id) DO UPDATE SET thread_id = EXCLUDED.thread_id, content = EXCLUDED.content,"
        '  role = EXCLUDED.role, type = EXCLUDED.type, "resourceId" = EXCLUDED."resourceId"'
        '  WHERE m."resourceId" IS NULL OR m."resourceId" = EXCLUDED."resourceId"'
        '  RETURNING m.id, m."createdAt", m."createdAtZ", m."resourceId", m.thread_id, m.role),'
        # Every guard in one pass over input: a missing thread, a foreign resource, an id another
        # resource owns (the upsert skipped it). Any of them aborts the whole statement.
        " verdict AS (SELECT CASE"
        "  WHEN bool_or(b.id IS NULL) THEN {fail}(%(missing)s, 'thread not found: '"
        "   || string_agg(DISTINCT i.thread_id, ', ') FILTER (WHERE b.id IS NULL)"
        "   || '; create the thread before saving messages to it')"
        "  WHEN bool_or(i.resource_id <> b.owner) THEN {fail}(%(owner)s, 'message '"
        "   || min(i.id) FILTER (WHERE i.resource_id <> b.owner) || ' names resource '"
        "   || min(i.resource_id) FILTER (WHERE i.resource_id <> b.owner) || ', but its thread belongs to another')"
        "  WHEN bool_or(s.id IS NULL) THEN {fail}(%(owner)s, 'message id ' || min(i.id) FILTER (WHERE s.id IS NULL)"
        "   || ' already belongs to another resource; use a new id')"
        "  END AS failed"
        "  FROM input i LEFT JOIN bump b ON b.id = i.thread_id LEFT JOIN ins s ON s.id = i.id){extra}"
        ' SELECT ins.id, ins."createdAt", ins."createdAtZ", ins."resourceId", verdict.failed'
        " FROM verdict LEFT JOIN ins ON true"
    ).format(
        threads=t.threads,
        messages=t.messages,
        now=NOW,
        fail=t.raise_fn,
        extra=_vector_ctes(t, vectors, backlog),
    )
    params = {
        "ids": [r.id for r in rows],
        "threads": [r.thread_id for r in rows],
        "resources": [r.resource_id for r in rows],
        "roles": [r.role for r in rows],
        "types": [r.type for r in rows],
        "contents": [r.content for r in rows],
        "times": [r.created_at for r in rows],
        "missing": SQLSTATE_NOT_FOUND,
        "owner": SQLSTATE_OWNERSHIP,
        "backlog": backlog or [],
    }
    params.update(_vector_params(vectors))
    return stmt, params


def _vector_ctes(t: Tables, vectors: VectorRows | None, backlog: list[str] | None) -> sql.Composable:
    """Vector and backlog CTEs of the save statement, over what it inserted; none when unused."""
    if vectors is None and backlog is None:
        return sql.SQL("")
    saved = sql.SQL(
        ', saved AS (SELECT id, thread_id, "resourceId" AS resource_id, role, "createdAtZ" AS created_z FROM ins)'
    )
    queue = _backlog_of_saved(t, bool(backlog)) if backlog is not None else sql.SQL("")
    return sql.Composed([saved, _vectors_of_saved(vectors), queue])


def _vectors_of_saved(vectors: VectorRows | None) -> sql.Composable:
    """Write ``vectors`` for the messages in the ``saved`` CTE and drop their other vector rows."""
    if vectors is None:
        return sql.SQL("")
    return sql.SQL(
        ", vdel AS (DELETE FROM {tbl} d WHERE d.metadata->>'message_id' IN (SELECT id FROM saved)"
        "  AND d.vector_id <> ALL(%(v_ids)s::text[]))"
        ", vins AS (INSERT INTO {tbl} (vector_id, embedding, metadata)"
        "  SELECT x.vector_id, x.embedding::{vtype}, jsonb_build_object('message_id', s.id, 'thread_id', s.thread_id,"
        "   'resource_id', s.resource_id, 'role', s.role, 'content', x.content, 'created_at',"
        "   to_char(s.created_z AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'))"
        "  FROM unnest(%(v_ids)s::text[], %(v_messages)s::text[], %(v_contents)s::text[], %(v_embeddings)s::text[])"
        "   AS x(vector_id, message_id, content, embedding) JOIN saved s ON s.id = x.message_id"
        "  ON CONFLICT (namespace, vector_id) DO UPDATE SET embedding = EXCLUDED.embedding,"
        "  metadata = EXCLUDED.metadata)"
    ).format(tbl=vectors.table.table, vtype=vectors.table.vector_type)


def _backlog_of_saved(t: Tables, queue: bool = True) -> sql.Composable:
    """Queue ``%(backlog)s`` for backfill; the other saved messages leave the queue.

    Without ``queue`` (nothing to queue) the insert is left out: one node less to plan.
    """
    add = sql.SQL(
        ", bq AS (INSERT INTO {b} (message_id) SELECT unnest(%(backlog)s::text[]) ON CONFLICT DO NOTHING)"
    ).format(b=t.backlog)
    drop = sql.SQL(
        ", bd AS (DELETE FROM {b} WHERE message_id IN (SELECT id FROM saved)"
        " AND message_id <> ALL(%(backlog)s::text[]))"
    ).format(b=t.backlog)
    return add + drop if queue else drop


def _vector_params(vectors: VectorRows | None) -> dict[str, Any]:
    if vectors is None:
        return {}
    return {
        "v_ids": vectors.vector_ids,
        "v_messages": vectors.message_ids,
        "v_contents": vectors.contents,
        "v_embeddings": vectors.embeddings,
    }


def write_vectors(t: Tables, message_ids: list[str], vectors: VectorRows | None, backlog: list[str]) -> Statement:
    """Give existing messages new vectors (backfill, re-embedding after an update).

    The messages' other vector rows go; ``backlog`` ids stay queued, the rest leave the queue.
    """
    stmt = sql.SQL(
        'WITH saved AS (SELECT m.id, m.thread_id, m."resourceId" AS resource_id, m.role,'
        ' COALESCE(m."createdAtZ", m."createdAt" AT TIME ZONE \'UTC\') AS created_z FROM {messages} m'
        " WHERE m.id = ANY(%(processed)s::text[])){vectors}{backlog} SELECT count(*) AS processed FROM saved"
    ).format(messages=t.messages, vectors=_vectors_of_saved(vectors), backlog=_backlog_of_saved(t))
    return stmt, {"processed": message_ids, "backlog": backlog, **_vector_params(vectors)}


def backlog_page(t: Tables, limit: int) -> Statement:
    """Queued messages (oldest first), for backfill."""
    stmt = sql.SQL(
        "SELECT {cols} FROM {b} q JOIN {messages} m ON m.id = q.message_id ORDER BY q.queued_at, q.message_id"
        " LIMIT %(limit)s"
    ).format(cols=prefixed(MESSAGE_COLUMNS, "m"), b=t.backlog, messages=t.messages)
    return stmt, {"limit": limit}


def orphan_backlog(t: Tables) -> Statement:
    """Drop queue entries whose message no longer exists."""
    stmt = sql.SQL("DELETE FROM {b} q WHERE NOT EXISTS (SELECT 1 FROM {m} WHERE id = q.message_id)").format(
        b=t.backlog, m=t.messages
    )
    return stmt, {}


def messages_after(t: Tables, after: str, limit: int, resource_id: str | None) -> Statement:
    """Every message in id order (keyset pages), optionally of one resource: for a full backfill scan."""
    where = sql.SQL(' AND m."resourceId" = %(resource)s') if resource_id is not None else sql.SQL("")
    stmt = sql.SQL(
        "SELECT {cols} FROM {messages} m WHERE m.id > %(after)s{where} ORDER BY m.id LIMIT %(limit)s"
    ).format(cols=prefixed(MESSAGE_COLUMNS, "m"), messages=t.messages, where=where)
    return stmt, {"after": after, "limit": limit, "resource": resource_id}


@dataclass(frozen=True, slots=True)
class Listing:
    """What to list: one of ``thread_ids`` / ``resource_id`` selects the messages."""

    thread_ids: list[str] | None = None
    resource_id: str | None = None
    owner: str | None = None  # with thread_ids: these threads must belong to this resource
    start: datetime | None = None
    end: datetime | None = None
    start_exclusive: bool = False
    end_exclusive: bool = False
    direction: str = "ASC"
    newest: bool = False  # take the newest page, return it oldest first (Mastra's "last N")
    limit: int | None = None
    offset: int = 0
    include_ids: tuple[str, ...] = ()
    include_before: tuple[int, ...] = ()
    include_after: tuple[int, ...] = ()


def list_messages(t: Tables, q: Listing) -> Statement:
    """A page, its total and the include windows, in one statement.

    Rows carry ``src``: ``'p'`` page rows, ``'w'`` include-window rows, ``'n'`` the total.
    """
    where: list[sql.Composable] = []
    if q.thread_ids is not None:
        where.append(sql.SQL("m.thread_id = ANY(%(threads)s::text[])"))
    if q.resource_id is not None:
        where.append(sql.SQL('m."resourceId" = %(resource)s'))
    if q.start is not None:
        where.append(sql.SQL("{} {} %(start)s").format(_CREATED, sql.SQL(">" if q.start_exclusive else ">=")))
    if q.end is not None:
        where.append(sql.SQL("{} {} %(end)s").format(_CREATED, sql.SQL("<" if q.end_exclusive else "<=")))
    page_dir = sql.SQL("DESC" if q.newest else q.direction)
    parts: list[sql.Composable] = []
    if q.owner is not None and q.thread_ids is not None:
        parts.append(
            sql.SQL(
                "SELECT 'g' AS src, {nulls}, NULL::bigint AS total FROM {threads} o"
                " WHERE o.id = ANY(%(threads)s::text[])"
                " AND CASE WHEN o.\"resourceId\" <> %(owner)s THEN {fail}(%(owner_state)s, 'thread ' || o.id ||"
                " ' belongs to another resource, not ' || %(owner)s) ELSE false END"
            ).format(nulls=_NULL_MESSAGE, threads=t.threads, fail=t.raise_fn)
        )
    if q.limit != 0:
        parts.append(
            sql.SQL(
                "(SELECT 'p' AS src, {cols}, NULL::bigint AS total FROM {messages} m WHERE {where}"
                ' ORDER BY m."createdAt" {dir}, m.id {dir} LIMIT %(limit)s OFFSET %(offset)s)'
            ).format(
                cols=prefixed(MESSAGE_COLUMNS, "m"),
                messages=t.messages,
                where=sql.SQL(" AND ").join(where),
                dir=page_dir,
            )
        )
        parts.append(
            sql.SQL("SELECT 'n' AS src, {nulls}, count(*) AS total FROM {messages} m WHERE {where}").format(
                nulls=_NULL_MESSAGE, messages=t.messages, where=sql.SQL(" AND ").join(where)
            )
        )
    if q.include_ids:
        parts.append(_windows(t))
    stmt = sql.SQL(" UNION ALL ").join(parts)
    params = {
        "threads": q.thread_ids,
        "resource": q.resource_id,
        "owner": q.owner,
        "owner_state": SQLSTATE_OWNERSHIP,
        "start": q.start,
        "end": q.end,
        "limit": q.limit,
        "offset": q.offset,
        "inc_ids": list(q.include_ids),
        "inc_before": list(q.include_before),
        "inc_after": list(q.include_after),
    }
    return stmt, params


_NULL_MESSAGE = sql.SQL(
    "NULL::text AS id, NULL::text AS thread_id, NULL::text AS content, NULL::text AS role, NULL::text AS type,"
    ' NULL::timestamp AS "createdAt", NULL::timestamptz AS "createdAtZ", NULL::text AS "resourceId"'
)


def _windows(t: Tables) -> sql.Composed:
    """Each target plus ``before`` older and ``after`` newer messages of the target's own thread."""
    cols = prefixed(MESSAGE_COLUMNS, "m")
    return sql.SQL(
        "SELECT 'w' AS src, w.*, NULL::bigint AS total FROM unnest(%(inc_ids)s::text[], %(inc_before)s::int[],"
        " %(inc_after)s::int[])"
        " AS inc(id, before, after) JOIN {messages} tg ON tg.id = inc.id CROSS JOIN LATERAL ("
        ' (SELECT {cols} FROM {messages} m WHERE m.thread_id = tg.thread_id AND m."createdAt" <= tg."createdAt"'
        '  AND (m."createdAt" < tg."createdAt" OR m.id <= tg.id)'
        '  ORDER BY m."createdAt" DESC, m.id DESC LIMIT inc.before + 1)'
        " UNION ALL"
        ' (SELECT {cols} FROM {messages} m WHERE m.thread_id = tg.thread_id AND m."createdAt" >= tg."createdAt"'
        '  AND (m."createdAt" > tg."createdAt" OR m.id > tg.id)'
        '  ORDER BY m."createdAt", m.id LIMIT inc.after)) AS w'
    ).format(messages=t.messages, cols=cols)


def select_messages(t: Tables, ids: list[str]) -> Statement:
    """Messages by id, oldest first (what Mastra's listMessagesById returns)."""
    stmt = sql.SQL('SELECT {cols} FROM {messages} WHERE id = ANY(%(ids)s::text[]) ORDER BY "createdAt", id').format(
        cols=MESSAGE_COLUMNS, messages=t.messages
    )
    return stmt, {"ids": ids}


# jsonb cannot hold U+0000, but message content is JSON *text* and may: NUL round-trips as the
# escape \u0000. Before content meets jsonb, every unescaped \u0000 becomes \u0001 + "0" and every
# \u0001 becomes \u0001 + "1" (a reversible encoding, so no text can collide); afterwards, back.
_UNESCAPED = r"(?<!\\)((?:\\\\)*)"  # not itself escaped: preceded by an even run of backslashes
_NUL_ENCODE = (_UNESCAPED + r"\\u000([01])", r"\1\\u0001\2")
_NUL_DECODE = (_UNESCAPED + r"\\u0001([01])", r"\1\\u000\2")


def _jsonb_safe(text: sql.Composable) -> sql.Composed:
    return sql.SQL("regexp_replace({}, %(nul_enc_re)s, %(nul_enc_to)s, 'g')::jsonb").format(text)


def _from_jsonb_safe(value: sql.Composable) -> sql.Composed:
    return sql.SQL("regexp_replace(({})::text, %(nul_dec_re)s, %(nul_dec_to)s, 'g')").format(value)


def update_messages(t: Tables, ids: list[str], patches: list[str]) -> Statement:
    """Apply partial updates; bump the old and new threads. Unknown ids are skipped.

    ``content`` merges into the stored content (``metadata`` one level deeper). Moving a message
    to another thread also moves it to that thread's resource unless a resource is given; a
    target thread that does not exist aborts the statement. Content holding NUL survives.
    """
    old = _jsonb_safe(sql.SQL("m.content"))
    merged = sql.SQL(
        "({old} || ((i.patch->'content') - 'metadata'))"
        " || CASE WHEN (i.patch->'content') ? 'metadata' THEN jsonb_build_object('metadata',"
        " COALESCE(CASE WHEN jsonb_typeof({old}->'metadata') = 'object' THEN {old}->'metadata' END,"
        " '{{}}'::jsonb) || (i.patch->'content'->'metadata')) ELSE '{{}}'::jsonb END"
    ).format(old=old)
    stmt = sql.SQL(
        "WITH input AS (SELECT i.id, {patch} AS patch FROM unnest(%(ids)s::text[], %(patches)s::text[]) AS i(id,"
        " patch)),"
        " old AS (SELECT m.id, m.thread_id FROM {messages} m JOIN input USING (id)),"
        ' target AS (SELECT i.id, th.id AS thread_id, th."resourceId" AS owner FROM input i'
        "  JOIN {threads} th ON th.id = i.patch->>'threadId'),"
        " guard AS (SELECT CASE WHEN EXISTS (SELECT 1 FROM input i WHERE i.patch ? 'threadId'"
        "  AND i.id IN (SELECT id FROM old) AND i.id NOT IN (SELECT id FROM target))"
        "  THEN {fail}(%(missing)s, 'cannot move a message to thread '"
        "  || (SELECT min(i.patch->>'threadId') FROM input i WHERE i.patch ? 'threadId' AND i.id NOT IN (SELECT id"
        " FROM target))"
        "  || ': it does not exist') ELSE false END AS failed),"
        " upd AS (UPDATE {messages} m SET"
        "  content = CASE WHEN i.patch ? 'content' THEN {merged} ELSE m.content END,"
        "  role = COALESCE(i.patch->>'role', m.role),"
        "  type = COALESCE(i.patch->>'type', m.type),"
        "  thread_id = COALESCE(tg.thread_id, m.thread_id),"
        '  "resourceId" = COALESCE(i.patch->>\'resourceId\', tg.owner, m."resourceId")'
        "  FROM input i LEFT JOIN target tg ON tg.id = i.id"
        "  WHERE m.id = i.id AND NOT (SELECT failed FROM guard)"
        "  RETURNING {mcols}),"
        ' bump AS (UPDATE {threads} SET "updatedAt" = {naive}, "updatedAtZ" = {now}'
        "  WHERE id IN (SELECT thread_id FROM old UNION SELECT thread_id FROM upd))"
        " SELECT * FROM upd"
    ).format(
        messages=t.messages,
        threads=t.threads,
        fail=t.raise_fn,
        naive=NOW_NAIVE,
        now=NOW,
        mcols=prefixed(MESSAGE_COLUMNS, "m"),
        patch=_jsonb_safe(sql.SQL("i.patch")),
        merged=_from_jsonb_safe(merged),
    )
    params = {
        "ids": ids,
        "patches": patches,
        "missing": SQLSTATE_NOT_FOUND,
        "nul_enc_re": _NUL_ENCODE[0],
        "nul_enc_to": _NUL_ENCODE[1],
        "nul_dec_re": _NUL_DECODE[0],
        "nul_dec_to": _NUL_DECODE[1],
    }
    return stmt, params


def delete_messages(t: Tables, ids: list[str], vectors: list[str]) -> Statement:
    """Delete messages and their vectors (both of Mastra's vector shapes); bump their threads."""
    ctes = [
        sql.SQL("del AS (DELETE FROM {} WHERE id = ANY(%(ids)s::text[]) RETURNING id, thread_id)").format(t.messages)
    ]
    ctes += [
        sql.SQL("v{} AS (DELETE FROM {} WHERE metadata->>'message_id' = ANY(%(ids)s::text[]))").format(
            sql.SQL(str(i)), sql.Identifier(t.schema, name)
        )
        for i, name in enumerate(vectors)
    ]
    ctes.append(sql.SQL("bl AS (DELETE FROM {} WHERE message_id IN (SELECT id FROM del))").format(t.backlog))
    ctes.append(
        sql.SQL(
            'bump AS (UPDATE {} SET "updatedAt" = {}, "updatedAtZ" = {} WHERE id IN (SELECT thread_id FROM del))'
        ).format(t.threads, NOW_NAIVE, NOW)
    )
    stmt = sql.SQL("WITH {} SELECT count(*) AS deleted FROM del").format(sql.SQL(", ").join(ctes))
    return stmt, {"ids": ids}
