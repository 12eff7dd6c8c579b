"""Versioned, idempotent migrations.

Version 1 creates exactly what ``@mastra/pg`` creates for memory (same columns, types,
nullability, defaults and index names), with ``IF NOT EXISTS`` everywhere, so running it on a
database where Mastra's ``init()`` already ran changes nothing of Mastra's. Later versions only
add objects of ours (prefixed ``mastra_memory_``); a Mastra column is never renamed, retyped or
dropped.

All of it runs in one transaction under a transaction-scoped advisory lock, so two processes
migrating at once take turns, and the second finds nothing left to do. Applied versions are
recorded in ``mastra_memory_migrations``. Nothing here needs pgvector.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from psycopg import sql

from .._plan import Begin, Commit, Plan, query, query_one
from ._tables import Tables
from ._vectors import stats_objects

__all__ = ["MIGRATIONS", "Migration", "migrate"]

_TS = "timestamp without time zone"
_TSZ = "timestamp with time zone DEFAULT now()"


def _create(t: sql.Identifier, columns: list[tuple[str, str]]) -> sql.Composed:
    cols = sql.SQL(",\n  ").join(sql.SQL("{} {}").format(sql.Identifier(n), sql.SQL(d)) for n, d in columns)
    return sql.SQL("CREATE TABLE IF NOT EXISTS {} (\n  {}\n)").format(t, cols)


def _add_columns(t: sql.Identifier, columns: list[tuple[str, str]]) -> sql.Composed:
    adds = sql.SQL(", ").join(
        sql.SQL("ADD COLUMN IF NOT EXISTS {} {}").format(sql.Identifier(n), sql.SQL(d)) for n, d in columns
    )
    return sql.SQL("ALTER TABLE {} {}").format(t, adds)


# Column lists in @mastra/pg's order (reference/mastra_pg_schema.sql).
THREAD_COLUMNS = [
    ("id", "text NOT NULL PRIMARY KEY"),
    ("resourceId", "text NOT NULL"),
    ("title", "text NOT NULL"),
    ("metadata", "jsonb"),
    ("createdAt", f"{_TS} NOT NULL"),
    ("updatedAt", f"{_TS} NOT NULL"),
    ("createdAtZ", _TSZ),
    ("updatedAtZ", _TSZ),
]
MESSAGE_COLUMNS = [
    ("id", "text NOT NULL PRIMARY KEY"),
    ("thread_id", "text NOT NULL"),
    ("content", "text NOT NULL"),
    ("role", "text NOT NULL"),
    ("type", "text NOT NULL"),
    ("createdAt", f"{_TS} NOT NULL"),
    ("resourceId", "text"),
    ("createdAtZ", _TSZ),
]
RESOURCE_COLUMNS = [
    ("id", "text NOT NULL PRIMARY KEY"),
    ("workingMemory", "text"),
    ("metadata", "jsonb"),
    ("createdAt", f"{_TS} NOT NULL"),
    ("updatedAt", f"{_TS} NOT NULL"),
    ("createdAtZ", _TSZ),
    ("updatedAtZ", _TSZ),
]
OBSERVATIONAL_MEMORY_COLUMNS = [
    ("id", "text NOT NULL PRIMARY KEY"),
    ("lookupKey", "text NOT NULL"),
    ("scope", "text NOT NULL"),
    ("resourceId", "text"),
    ("threadId", "text"),
    ("activeObservations", "text NOT NULL"),
    ("activeObservationsPendingUpdate", "text"),
    ("originType", "text NOT NULL"),
    ("config", "text NOT NULL"),
    ("generationCount", "integer NOT NULL"),
    ("lastObservedAt", _TS),
    ("lastReflectionAt", _TS),
    ("pendingMessageTokens", "integer NOT NULL"),
    ("totalTokensObserved", "integer NOT NULL"),
    ("observationTokenCount", "integer NOT NULL"),
    ("isObserving", "boolean NOT NULL"),
    ("isReflecting", "boolean NOT NULL"),
    ("observedMessageIds", "jsonb"),
    ("observedTimezone", "text"),
    ("bufferedObservations", "text"),
    ("bufferedObservationTokens", "integer"),
    ("bufferedMessageIds", "jsonb"),
    ("bufferedReflection", "text"),
    ("bufferedReflectionTokens", "integer"),
    ("bufferedReflectionInputTokens", "integer"),
    ("reflectedObservationLineCount", "integer"),
    ("bufferedObservationChunks", "jsonb"),
    ("isBufferingObservation", "boolean NOT NULL"),
    ("isBufferingReflection", "boolean NOT NULL"),
    ("lastBufferedAtTokens", "integer NOT NULL"),
    ("lastBufferedAtTime", _TS),
    ("metadata", "jsonb"),
    ("createdAt", f"{_TS} NOT NULL"),
    ("updatedAt", f"{_TS} NOT NULL"),
    ("lastObservedAtZ", _TSZ),
    ("lastReflectionAtZ", _TSZ),
    ("lastBufferedAtTimeZ", _TSZ),
    ("createdAtZ", _TSZ),
    ("updatedAtZ", _TSZ),
]


def _nullable(columns: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Columns that can be added to an older table in place, as Mastra's init() adds them."""
    return [(n, d) for n, d in columns if "NOT NULL" not in d]


def _v1_mastra_tables(t: Tables) -> list[sql.Composed]:
    return [
        _create(t.threads, THREAD_COLUMNS),
        _add_columns(t.threads, _nullable(THREAD_COLUMNS)),
        _create(t.messages, MESSAGE_COLUMNS),
        _add_columns(t.messages, _nullable(MESSAGE_COLUMNS)),
        _create(t.resources, RESOURCE_COLUMNS),
        _add_columns(t.resources, _nullable(RESOURCE_COLUMNS)),
        _create(t.observational_memory, OBSERVATIONAL_MEMORY_COLUMNS),
        _add_columns(t.observational_memory, _nullable(OBSERVATIONAL_MEMORY_COLUMNS)),
        sql.SQL('CREATE INDEX IF NOT EXISTS {} ON {} ("resourceId", "createdAt" DESC)').format(
            t.mastra_index("mastra_threads_resourceid_createdat_idx"), t.threads
        ),
        sql.SQL('CREATE INDEX IF NOT EXISTS {} ON {} (thread_id, "createdAt" DESC)').format(
            t.mastra_index("mastra_messages_thread_id_createdat_idx"), t.messages
        ),
        # @mastra/pg prefixes its default index names with a non-public schema, except this one.
        sql.SQL('CREATE INDEX IF NOT EXISTS idx_om_lookup_key ON {} ("lookupKey")').format(t.observational_memory),
    ]


def _v2_helpers(t: Tables) -> list[sql.Composed]:
    # mastra_memory_raise lets one statement check a condition and abort itself, so a check and
    # the writes it guards share one round trip and one transaction (DESIGN.md §3).
    return [
        sql.SQL(
            "CREATE OR REPLACE FUNCTION {}(code text, message text) RETURNS boolean\n"
            "LANGUAGE plpgsql SECURITY INVOKER SET search_path = '' AS $fn$\n"
            "BEGIN RAISE EXCEPTION USING ERRCODE = code, MESSAGE = message; END\n$fn$"
        ).format(t.raise_fn),
        # Listing a resource's messages across threads (and recall by resource) without a scan.
        sql.SQL(
            'CREATE INDEX IF NOT EXISTS mastra_memory_messages_resource_idx ON {} ("resourceId", "createdAt" DESC)'
        ).format(t.messages),
    ]


def _v3_embedding_backlog(t: Tables) -> list[sql.Composed]:
    # Messages whose embedding failed at save time; backfill_embeddings() works through them.
    return [
        sql.SQL(
            "CREATE TABLE IF NOT EXISTS {} (message_id text PRIMARY KEY, "
            "queued_at timestamp with time zone NOT NULL DEFAULT now())"
        ).format(t.backlog)
    ]


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    statements: Callable[[Tables], list[sql.Composed]]


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "Mastra memory tables and indexes (as @mastra/pg creates them)", _v1_mastra_tables),
    Migration(2, "mastra-memory helper function and resource index", _v2_helpers),
    Migration(3, "mastra-memory embedding backlog", _v3_embedding_backlog),
    # Per-scope BM25 statistics, kept by triggers that recall/_vectors attaches to each vector table.
    Migration(4, "mastra-memory recall statistics", stats_objects),
)


def migrate(t: Tables) -> Plan[list[int]]:
    """Apply the migrations this schema lacks; returns the versions applied (empty: up to date)."""
    yield Begin()
    lock_key = f"mastra_memory:migrate:{t.schema}"
    yield from query(sql.SQL("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))"), (lock_key,))
    # CREATE SCHEMA IF NOT EXISTS still needs CREATE on the database, so only ask when it is missing.
    exists = yield from query_one(
        sql.SQL("SELECT count(*) > 0 AS ok FROM pg_namespace WHERE nspname = %s"), (t.schema,)
    )
    if not (exists and exists["ok"]):
        yield from query(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(t.schema_id))
    yield from query(
        sql.SQL(
            "CREATE TABLE IF NOT EXISTS {} (version integer PRIMARY KEY, name text NOT NULL, "
            "applied_at timestamp with time zone NOT NULL DEFAULT now())"
        ).format(t.ledger)
    )
    done = {row["version"] for row in (yield from query(sql.SQL("SELECT version FROM {}").format(t.ledger)))}
    applied: list[int] = []
    for migration in MIGRATIONS:
        if migration.version in done:
            continue
        for statement in migration.statements(t):
            yield from query(statement)
        yield from query(
            sql.SQL("INSERT INTO {} (version, name) VALUES (%s, %s)").format(t.ledger),
            (migration.version, migration.name),
        )
        applied.append(migration.version)
    yield Commit()
    return applied


def latest_version() -> int:
    return MIGRATIONS[-1].version
