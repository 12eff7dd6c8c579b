"""Raw SQL beside a test's memory: to check what landed in the tables, and to write rows only
Mastra (or an old Mastra) would write. Every helper runs in the memory's own schema."""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import json
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from mastra_memory import AsyncMemory

UTC = timezone.utc


def dsn(mem: Any) -> str:
    """The DSN of the server behind ``mem`` (embedded PG18 or the machine's PG15)."""
    return str(mem.pool.conninfo)


_connections: dict[str, psycopg.Connection[dict[str, Any]]] = {}


def _connection(url: str) -> psycopg.Connection[dict[str, Any]]:
    conn = _connections.get(url)
    if conn is None or conn.closed:
        conn = _connections[url] = psycopg.connect(url, autocommit=True, row_factory=dict_row)
    return conn


@atexit.register
def _close_connections() -> None:
    for conn in _connections.values():
        conn.close()


def run(mem: Any, statement: str, params: Sequence[Any] | dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Run one statement with ``search_path`` set to the memory's schema; returns its rows.

    One raw connection per server is kept for the session (opening one per check costs more
    than the check); tests never leave it inside a transaction.
    """
    conn = _connection(dsn(mem))
    conn.execute(sql.SQL("SET search_path TO {}, public").format(sql.Identifier(mem.schema)))
    cur = conn.execute(statement.encode(), params)
    return cur.fetchall() if cur.description is not None else []


def count(mem: Any, table: str) -> int:
    """How many rows ``table`` (of the memory's schema) holds."""
    return int(run(mem, f'SELECT count(*) AS n FROM "{table}"')[0]["n"])


def counts(mem: Any) -> dict[str, int]:
    """Row counts of the three tables an operation can write."""
    return {t: count(mem, t) for t in ("mastra_threads", "mastra_messages", "mastra_resources")}


def has_pgvector(mem: Any) -> bool:
    return bool(run(mem, "SELECT 1 FROM pg_available_extensions WHERE name = 'vector'"))


def vector_type(mem: Any, dim: int) -> str:
    """``vector(dim)`` where pgvector exists (installed on demand), else a stand-in array type."""
    if not has_pgvector(mem):
        return "real[]"
    with contextlib.suppress(psycopg.errors.UniqueViolation):  # another session created it at the same moment
        run(mem, "CREATE EXTENSION IF NOT EXISTS vector SCHEMA public")
    schema = run(mem, "SELECT extnamespace::regnamespace::text AS s FROM pg_extension WHERE extname = 'vector'")[0]["s"]
    return f"{schema}.vector({dim})"


def create_vector_table(mem: Any, name: str, dim: int = 384) -> str:
    """A message-vector table shaped like @mastra/pg's ``memory_messages_384`` (reference DDL)."""
    run(
        mem,
        f'CREATE TABLE "{name}" (id serial PRIMARY KEY, vector_id text NOT NULL UNIQUE, '
        f"embedding {vector_type(mem, dim)}, metadata jsonb DEFAULT '{{}}'::jsonb, "
        "namespace varchar(255) NOT NULL DEFAULT 'default')",
    )
    return name


def add_vector(mem: Any, table: str, vector_id: str, metadata: dict[str, Any]) -> None:
    run(mem, f'INSERT INTO "{table}" (vector_id, metadata) VALUES (%s, %s::jsonb)', (vector_id, json.dumps(metadata)))


def insert_message(
    mem: Any,
    *,
    id: str,
    thread_id: str,
    content: str,
    role: str = "user",
    type: str = "v2",
    created_at: datetime,
    created_at_z: datetime | str | None = "same",
    resource_id: str | None = None,
) -> None:
    """A ``mastra_messages`` row exactly as given (``created_at_z="same"`` mirrors the naive column)."""
    z = created_at.replace(tzinfo=UTC) if created_at_z == "same" else created_at_z
    run(
        mem,
        'INSERT INTO mastra_messages (id, thread_id, content, role, type, "createdAt", "createdAtZ", "resourceId") '
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
        (id, thread_id, content, role, type, created_at.replace(tzinfo=None), z, resource_id),
    )


def insert_thread(
    mem: Any,
    *,
    id: str,
    resource_id: str,
    title: str = "",
    metadata: str | None = None,
    created_at: datetime,
    updated_at: datetime | None = None,
    created_at_z: datetime | str | None = "same",
    updated_at_z: datetime | str | None = "same",
) -> None:
    """A ``mastra_threads`` row as an older Mastra may have left it (``metadata`` is raw jsonb text)."""
    updated_at = updated_at or created_at
    cz = created_at.replace(tzinfo=UTC) if created_at_z == "same" else created_at_z
    uz = updated_at.replace(tzinfo=UTC) if updated_at_z == "same" else updated_at_z
    run(
        mem,
        'INSERT INTO mastra_threads (id, "resourceId", title, metadata, "createdAt", "updatedAt", "createdAtZ", '
        '"updatedAtZ") VALUES (%s, %s, %s, %s::jsonb, %s, %s, %s, %s)',
        (id, resource_id, title, metadata, created_at.replace(tzinfo=None), updated_at.replace(tzinfo=None), cz, uz),
    )


async def concurrently(mem: Any, writers: Sequence[Callable[[Any], Any] | Sequence[Callable[[Any], Any]]]) -> list[Any]:
    """Run the writers at the same time: tasks for AsyncMemory, OS threads for Memory.

    A writer is ``call(memory)`` or a list of such calls made one after another; each writer's
    result is the list of its calls' results (or the single call's result). The sync flavour's
    awaitable wrapper would run calls one after another, so it gets real threads.
    """
    steps = [list(w) if isinstance(w, Sequence) else [w] for w in writers]
    if isinstance(mem, AsyncMemory):

        async def chain(calls: list[Callable[[Any], Any]]) -> list[Any]:
            return [await call(mem) for call in calls]

        results = await asyncio.gather(*(chain(calls) for calls in steps))
    else:
        sync = mem.memory
        results = await asyncio.gather(
            *(asyncio.to_thread(lambda c=calls: [call(sync) for call in c]) for calls in steps)
        )
    return [r if isinstance(w, Sequence) else r[0] for w, r in zip(writers, results, strict=True)]


def ms(dt: datetime) -> datetime:
    """``dt`` cut to milliseconds (what JavaScript Dates, hence Mastra, can hold)."""
    return dt.replace(microsecond=dt.microsecond // 1000 * 1000)
