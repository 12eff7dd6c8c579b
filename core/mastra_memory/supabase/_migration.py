"""The Supabase migration: our tables, the vector table, row-level security, grants.

Nothing here is written twice: the tables, indexes and functions come from rendering the same
plans and builders that ``Memory.migrate()`` runs (``storage/_migrations.py`` and
``storage/_vectors.py``). This module adds only what Supabase needs on top, all idempotent:

- RLS on every memory table, with policies ``to authenticated`` that compare ownership with the
  JWT's subject read once per statement (``(select auth.jwt() ->> 'sub')``, an InitPlan);
- explicit GRANTs to ``authenticated`` and ``service_role`` and none to ``anon`` (Supabase no
  longer grants new tables to the API roles);
- checks on child rows (messages, vectors, observations, the backfill queue), because a foreign
  key or a plain ``thread_id`` column lets a user point at another user's thread.

Ownership: a resource belongs to the user whose subject *is* the ``resourceId`` (Mastra's
convention of one resource per user), or, with ``membership=True``, also to every user listed for
it in ``mastra_memory_members`` (organisation or project resources; managed by the service role).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeAlias

from psycopg import sql

from .._errors import InvalidInputError
from .._plan import Query, Request
from ..storage import _vectors as sql_vectors
from ..storage._migrations import MIGRATIONS, migrate
from ..storage._tables import Tables, tables

__all__ = ["EXTENSION_SCHEMA", "MEMBERS_TABLE", "supabase_migration"]

EXTENSION_SCHEMA = "extensions"  # where Supabase installs pgvector
MEMBERS_TABLE = "mastra_memory_members"
MAX_HNSW_DIMENSION = 2000  # pgvector indexes `vector` columns up to 2,000 dimensions
THREAD_CHECK_FN = "mastra_memory_may_use_thread"
MESSAGE_CHECK_FN = "mastra_memory_may_use_message"
API_ROLES = sql.SQL("authenticated, service_role")
# The subject of the verified JWT. auth.uid() would cast it to uuid and fail for the text subjects of
# third-party auth; resourceId is text, so the text claim serves both. Wrapped in a sub-select, it is
# evaluated once per statement, not once per row.
SUBJECT = sql.SQL("(SELECT auth.jwt() ->> 'sub')")
Owns: TypeAlias = Callable[[sql.Composable], sql.Composed]  # "this column names a resource of the caller"


def supabase_migration(*, dimension: int | None = 384, schema: str = "public", membership: bool = False) -> str:
    """SQL for ``supabase/migrations/<timestamp>_mastra_memory.sql``: safe to apply more than once.

    ``dimension`` is the embedder's (None: no vector table, semantic recall off). ``schema`` holds
    the tables (``public`` is exposed through Supabase's Data API; RLS protects it either way).
    ``membership`` adds ``mastra_memory_members`` so organisation or project resources can be
    shared by several users.

    Raises:
        InvalidInputError: the schema name or dimension is not allowed.
    """
    t = tables(schema)
    if dimension is not None and (
        isinstance(dimension, bool) or not isinstance(dimension, int) or not 1 <= dimension <= MAX_HNSW_DIMENSION
    ):
        raise InvalidInputError(
            f"dimension must be an integer from 1 to {MAX_HNSW_DIMENSION} (pgvector's HNSW limit), or None for "
            f"no vector table; got {dimension!r}"
        )
    parts: list[sql.Composable] = []
    if dimension is not None:
        parts += [
            sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(EXTENSION_SCHEMA)),
            sql.SQL("CREATE EXTENSION IF NOT EXISTS vector WITH SCHEMA {}").format(sql.Identifier(EXTENSION_SCHEMA)),
        ]
    parts += _rendered_migrations(t)
    vectors = None
    if dimension is not None:
        vectors = sql_vectors.VectorTable(schema, sql_vectors.table_name(dimension), dimension, EXTENSION_SCHEMA)
        parts += sql_vectors.create_statements(vectors, None)
    members = sql.Identifier(schema, MEMBERS_TABLE)
    if membership:
        parts += [
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {} (resource_id text NOT NULL, user_id text NOT NULL,"
                " role text NOT NULL DEFAULT 'member', created_at timestamp with time zone NOT NULL DEFAULT now(),"
                " PRIMARY KEY (resource_id, user_id))"
            ).format(members),
            sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} (user_id, resource_id)").format(
                sql.Identifier(f"{MEMBERS_TABLE}_user_idx"), members
            ),
        ]
    owns = _owner_test(members if membership else None)
    parts += _helpers(t, owns)
    parts += _policies(t, owns, vectors, members if membership else None)
    parts += _grants(t, vectors, members if membership else None)
    body = ";\n\n".join(p.as_string() for p in parts)
    return _HEADER.format(schema=schema, dimension=dimension, membership=membership) + body + ";\n"


_HEADER = """\
-- mastra-memory for Supabase (schema {schema}, vector dimension {dimension}, membership {membership}).
-- Generated by `mastra-memory sql --supabase`; safe to apply more than once (`supabase db push`).
-- Row-level security: a user reads and writes only the resources whose id is their JWT subject
-- (or that mastra_memory_members lists them under). The service role bypasses RLS, so a Mastra
-- server connecting with it keeps working; anon gets nothing.

"""


def _rendered_migrations(t: Tables) -> list[sql.Composable]:
    """The statements ``Memory.migrate()`` runs on an empty schema, plus idempotent ledger rows,
    so a later ``migrate()`` (ours at start-up) finds nothing left to do."""
    recorded: list[sql.Composable] = []
    plan = migrate(t)
    known = {(m.version, m.name) for m in MIGRATIONS}
    result: Any = None
    while True:
        try:
            request: Request = plan.send(result)
        except StopIteration:
            break
        result = []  # an empty schema: no schema, no ledger rows, so every migration is rendered
        if not isinstance(request, Query):
            continue  # Begin/Commit: a migration file is applied as one transaction anyway
        if request.params is not None and tuple(request.params) in known:
            continue  # the ledger INSERT; written below so that a second run is a no-op
        text = request.statement.as_string()
        if text.startswith("SELECT") and "pg_advisory_xact_lock" not in text:
            continue  # what migrate() reads to decide; the file does everything, idempotently
        recorded.append(_bind(request.statement, request.params))
    ledger_rows = sql.SQL(", ").join(
        sql.SQL("({}, {})").format(sql.Literal(m.version), sql.Literal(m.name)) for m in MIGRATIONS
    )
    recorded.append(
        sql.SQL("INSERT INTO {} (version, name) VALUES {} ON CONFLICT (version) DO NOTHING").format(
            t.ledger, ledger_rows
        )
    )
    return recorded


def _bind(statement: sql.Composable, params: Any) -> sql.Composable:
    """Inline positional ``%s`` parameters as literals (only the advisory lock has any)."""
    if not params:
        return statement
    text = statement.as_string()
    pieces = text.split("%s")
    if "%%" in text or "%(" in text or len(pieces) != len(params) + 1:
        raise AssertionError(f"cannot render a migration statement with these parameters: {text!r}")
    out: list[sql.Composable] = [sql.SQL(pieces[0])]
    for value, piece in zip(params, pieces[1:], strict=True):
        out += [sql.Literal(value), sql.SQL(piece)]
    return sql.Composed(out)


def _owner_test(members: sql.Identifier | None) -> Owns:
    """A function making "``column`` is a resource of the caller" for a column expression."""

    def owns(column: sql.Composable) -> sql.Composed:
        if members is None:
            return sql.SQL("({} = {})").format(column, SUBJECT)
        return sql.SQL(
            "({col} = {sub} OR {col} IN (SELECT mm.resource_id FROM {members} mm WHERE mm.user_id = {sub}))"
        ).format(col=column, sub=SUBJECT, members=members)

    return owns


def _helpers(t: Tables, owns: Owns) -> list[sql.Composable]:
    """Two boolean probes for WITH CHECK clauses, which must see rows RLS hides from the caller.

    They run as their owner (SECURITY DEFINER) because "this thread id is someone else's" cannot be
    answered through the caller's own RLS, which hides exactly those threads. They return one
    boolean, the same fact an INSERT's primary-key conflict reveals, and nothing else. A thread or
    message that does not exist (yet: a clone creates its thread in the same statement) is allowed;
    messages in it stay invisible to any other user, whose policies test the row's own resourceId.
    """
    thread_fn, message_fn = sql.Identifier(t.schema, THREAD_CHECK_FN), sql.Identifier(t.schema, MESSAGE_CHECK_FN)
    return [
        sql.SQL(
            "CREATE OR REPLACE FUNCTION {fn}(thread_id text) RETURNS boolean LANGUAGE sql STABLE SECURITY DEFINER"
            " SET search_path = '' AS $fn$ SELECT NOT EXISTS (SELECT 1 FROM {threads} t WHERE t.id = $1"
            " AND NOT {owned}) $fn$"
        ).format(fn=thread_fn, threads=t.threads, owned=owns(sql.SQL('t."resourceId"'))),
        sql.SQL(
            "CREATE OR REPLACE FUNCTION {fn}(message_id text) RETURNS boolean LANGUAGE sql STABLE SECURITY DEFINER"
            " SET search_path = '' AS $fn$ SELECT NOT EXISTS (SELECT 1 FROM {messages} m WHERE m.id = $1"
            " AND NOT COALESCE({owned}, false)) $fn$"
        ).format(fn=message_fn, messages=t.messages, owned=owns(sql.SQL('m."resourceId"'))),
    ]


def _policy(
    table: sql.Identifier, name: str, command: str, using: sql.Composable | None, check: sql.Composable | None
) -> list[sql.Composable]:
    ident = sql.Identifier(name)
    clauses: sql.Composable = sql.SQL("")
    if using is not None:
        clauses += sql.SQL(" USING ({})").format(using)
    if check is not None:
        clauses += sql.SQL(" WITH CHECK ({})").format(check)
    return [
        sql.SQL("DROP POLICY IF EXISTS {} ON {}").format(ident, table),
        sql.SQL("CREATE POLICY {} ON {} FOR {} TO authenticated{}").format(ident, table, sql.SQL(command), clauses),
    ]


def _crud(table: sql.Identifier, prefix: str, using: sql.Composable, check: sql.Composable) -> list[sql.Composable]:
    """Four policies: read, add, change (old and new row) and remove the caller's rows."""
    return [
        *_policy(table, f"{prefix}_select", "SELECT", using, None),
        *_policy(table, f"{prefix}_insert", "INSERT", None, check),
        *_policy(table, f"{prefix}_update", "UPDATE", using, check),
        *_policy(table, f"{prefix}_delete", "DELETE", using, None),
    ]


def _policies(
    t: Tables, owns: Owns, vectors: sql_vectors.VectorTable | None, members: sql.Identifier | None
) -> list[sql.Composable]:
    may_thread = sql.Identifier(t.schema, THREAD_CHECK_FN)
    may_message = sql.Identifier(t.schema, MESSAGE_CHECK_FN)
    visible_threads = sql.SQL("(SELECT vt.id FROM {} vt)").format(t.threads)  # under the caller's RLS
    visible_messages = sql.SQL("(SELECT vm.id FROM {} vm)").format(t.messages)
    col = sql.SQL
    out: list[sql.Composable] = []
    thread_owned = owns(col('"resourceId"'))
    out += _crud(t.threads, "mastra_memory_threads", thread_owned, thread_owned)
    out += _crud(t.resources, "mastra_memory_resources", owns(col("id")), owns(col("id")))
    out += _crud(
        t.messages,
        "mastra_memory_messages",
        sql.SQL('({} OR ("resourceId" IS NULL AND thread_id IN {}))').format(
            owns(col('"resourceId"')), visible_threads
        ),
        sql.SQL("({} AND {}(thread_id))").format(owns(col('"resourceId"')), may_thread),
    )
    out += _crud(
        t.observational_memory,
        "mastra_memory_observations",
        sql.SQL('({} OR ("resourceId" IS NULL AND "threadId" IN {}))').format(
            owns(col('"resourceId"')), visible_threads
        ),
        sql.SQL(
            '(COALESCE("resourceId", "threadId") IS NOT NULL AND ("resourceId" IS NULL OR {})'
            ' AND ("threadId" IS NULL OR {}("threadId")))'
        ).format(owns(col('"resourceId"')), may_thread),
    )
    out += _crud(
        t.backlog,
        "mastra_memory_backlog",
        sql.SQL("(message_id IN {})").format(visible_messages),
        sql.SQL("{}(message_id)").format(may_message),
    )
    stats = sql.Identifier(t.schema, sql_vectors.STATS_TABLE)
    out += _policy(
        stats,
        "mastra_memory_recall_stats_select",
        "SELECT",
        sql.SQL("((scope = 'resource' AND {}) OR (scope = 'thread' AND scope_id IN {}))").format(
            owns(col("scope_id")), visible_threads
        ),
        None,
    )
    if vectors is not None:
        resource = col("(metadata->>'resource_id')")
        out += _crud(
            vectors.table,
            f"mastra_memory_{vectors.name}",
            owns(resource),
            sql.SQL("({} AND {}(metadata->>'thread_id'))").format(owns(resource), may_thread),
        )
    if members is not None:
        out += _policy(
            members, "mastra_memory_members_select", "SELECT", sql.SQL("(user_id = {})").format(SUBJECT), None
        )
    return out


def _grants(t: Tables, vectors: sql_vectors.VectorTable | None, members: sql.Identifier | None) -> list[sql.Composable]:
    """Explicit privileges, and RLS switched on for every table of ours in the schema.

    Users get full rights only where policies decide row by row; the statistics (kept by a
    trigger) and the membership list (kept by the service role) are read-only to them, and the
    migration ledger is not theirs at all. anon gets nothing.
    """
    crud = sql.SQL("SELECT, INSERT, UPDATE, DELETE")
    user_tables = [t.threads, t.messages, t.resources, t.observational_memory, t.backlog]
    if vectors is not None:
        user_tables.append(vectors.table)
    read_only = [sql.Identifier(t.schema, sql_vectors.STATS_TABLE)] + ([members] if members is not None else [])
    out: list[sql.Composable] = [sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(t.schema_id, API_ROLES)]
    for table in [*user_tables, *read_only, t.ledger]:
        out.append(sql.SQL("REVOKE ALL ON TABLE {} FROM PUBLIC, anon, authenticated, service_role").format(table))
    out += [sql.SQL("GRANT {} ON TABLE {} TO {}").format(crud, table, API_ROLES) for table in user_tables]
    out += [sql.SQL("GRANT SELECT ON TABLE {} TO authenticated").format(table) for table in read_only]
    out += [sql.SQL("GRANT {} ON TABLE {} TO service_role").format(crud, table) for table in read_only]
    out.append(sql.SQL("GRANT SELECT ON TABLE {} TO service_role").format(t.ledger))
    if vectors is not None:
        out.append(
            sql.SQL("GRANT USAGE, SELECT ON SEQUENCE {} TO {}").format(
                sql.Identifier(t.schema, f"{vectors.name}_id_seq"), API_ROLES
            )
        )
    # Every table and function of ours, whatever later migrations add: RLS on; functions get an
    # empty search path (every name in them is qualified) and are callable by the API roles only.
    out.append(
        sql.SQL(
            "DO $grants$ DECLARE r record; BEGIN"
            " FOR r IN SELECT c.oid::regclass AS rel FROM pg_class c WHERE c.relnamespace = {nsp}::regnamespace"
            "  AND c.relkind IN ('r', 'p')"
            "  AND (c.relname LIKE 'mastra\\_%' OR c.relname LIKE 'memory\\_messages%') LOOP"
            "  EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', r.rel);"
            " END LOOP;"
            " FOR r IN SELECT p.oid::regprocedure AS fn FROM pg_proc p WHERE p.pronamespace = {nsp}::regnamespace"
            "  AND p.proname LIKE 'mastra\\_memory\\_%' LOOP"
            "  EXECUTE format('ALTER FUNCTION %s SET search_path = ''''', r.fn);"
            "  EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC, anon', r.fn);"
            "  EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO authenticated, service_role', r.fn);"
            " END LOOP; END $grants$"
        ).format(nsp=sql.Literal(sql.Identifier(t.schema).as_string()))
    )
    return out
