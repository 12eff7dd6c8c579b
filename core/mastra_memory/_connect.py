"""Connection pools: built from a DSN (or the embedded server), configured once per connection.

Pools are created closed and opened on first use. Prepared statements are switched off for
Supabase's transaction pooler (port 6543 or a ``*.pooler.supabase.com`` host), which hands each
transaction to a different server connection and so cannot keep them.
"""

from __future__ import annotations

import threading
from typing import Any

import orjson
import psycopg
import psycopg_pool
from psycopg.conninfo import conninfo_to_dict
from psycopg.types.json import set_json_loads

from ._errors import InvalidInputError, StorageError

_POOLER_PORT = "6543"
_POOLER_HOST_SUFFIX = "pooler.supabase.com"


def needs_unprepared(dsn: str) -> bool:
    """Whether the DSN points at a transaction pooler that cannot keep prepared statements."""
    try:
        info = conninfo_to_dict(dsn)
    except psycopg.ProgrammingError as exc:
        raise InvalidInputError(f"the database DSN is malformed: {exc}") from exc
    hosts = str(info.get("host") or "").split(",")
    ports = str(info.get("port") or "").split(",")
    return _POOLER_PORT in ports or any(h.strip().endswith(_POOLER_HOST_SUFFIX) for h in hosts)


def connection_kwargs(dsn: str, prepare: bool | None) -> dict[str, Any]:
    """Keyword arguments for every pooled connection: autocommit, prepared statements as fits."""
    use_prepared = (not needs_unprepared(dsn)) if prepare is None else prepare
    return {"autocommit": True, "prepare_threshold": 5 if use_prepared else None}


def configure_connection(conn: psycopg.Connection[Any]) -> None:
    """Per-connection setup: orjson for json/jsonb (several times faster than the stdlib)."""
    set_json_loads(orjson.loads, conn)


async def configure_async_connection(conn: psycopg.AsyncConnection[Any]) -> None:
    set_json_loads(orjson.loads, conn)


def sync_pool(
    dsn: str, prepare: bool | None, min_size: int, max_size: int, timeout: float
) -> psycopg_pool.ConnectionPool[Any]:
    return psycopg_pool.ConnectionPool(
        dsn,
        kwargs=connection_kwargs(dsn, prepare),
        min_size=min_size,
        max_size=max_size,
        timeout=timeout,
        configure=configure_connection,
        open=False,
        name="mastra-memory",
    )


def async_pool(
    dsn: str, prepare: bool | None, min_size: int, max_size: int, timeout: float
) -> psycopg_pool.AsyncConnectionPool[Any]:
    return psycopg_pool.AsyncConnectionPool(
        dsn,
        kwargs=connection_kwargs(dsn, prepare),
        min_size=min_size,
        max_size=max_size,
        timeout=timeout,
        configure=configure_async_connection,
        open=False,
        name="mastra-memory",
    )


def _unreachable(pool: psycopg_pool.ConnectionPool[Any] | psycopg_pool.AsyncConnectionPool[Any]) -> StorageError:
    """Why a pool could not open: one direct attempt shows the server's own reason."""
    options = pool.kwargs if isinstance(pool.kwargs, dict) else {}
    try:
        with psycopg.connect(str(pool.conninfo), connect_timeout=5, **options):
            reason = "the server answered a direct connection, but the pool timed out"
    except psycopg.Error as exc:
        reason = str(exc).strip()
    return StorageError(f"cannot open a connection to the database: {reason}")


class OpenOnce:
    """Opens a pool the first time it is needed, once, from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.done = False

    def open(self, pool: psycopg_pool.ConnectionPool[Any]) -> None:
        if self.done:
            return
        with self._lock:
            if not self.done:
                if pool.closed:
                    try:
                        pool.open(wait=True, timeout=pool.timeout)
                    except psycopg_pool.PoolTimeout as exc:
                        pool.close()
                        raise _unreachable(pool) from exc
                self.done = True


async def open_async_pool(pool: psycopg_pool.AsyncConnectionPool[Any]) -> None:
    """Open an async pool, reporting an unreachable database the same way as the sync one."""
    try:
        await pool.open(wait=True, timeout=pool.timeout)
    except psycopg_pool.PoolTimeout as exc:
        await pool.close()
        raise _unreachable(pool) from exc
