"""Connection pools: built from a DSN (or the embedded server), configured once per connection.

Pools are created closed and opened on first use. Prepared statements are switched off for
Supabase's transaction pooler (port 6543 or a ``*.pooler.supabase.com`` host), which hands each
transaction to a different server connection and so cannot keep them.
"""

from __future__ import annotations

import select
import threading
from collections.abc import Awaitable, Callable
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


def _server_spoke(conn: psycopg.Connection[Any] | psycopg.AsyncConnection[Any]) -> bool:
    """Whether an idle pooled connection has something to read, without a round trip.

    An idle session only hears from the server when it is going away: a terminated backend or a
    server shutting down sends its farewell and closes the socket. Polling the socket costs no
    round trip, so the two-round-trip turn (DESIGN.md §3) keeps its budget.
    """
    if conn.closed:
        return True
    try:
        readable, _, _ = select.select([conn.fileno()], [], [], 0)
    except (OSError, ValueError, psycopg.Error):  # a socket already torn down
        return True
    return bool(readable)


def _checker(pool: list[psycopg_pool.ConnectionPool[Any]]) -> Callable[[psycopg.Connection[Any]], None]:
    """The pool's check before it hands out a connection. A dead one raises and the pool replaces
    it, so a restarted server or a killed backend does not fail the next call. The first dead one
    also sweeps every idle connection: a restart kills them all at once, and the pool waits a
    growing back-off (1 s, 2 s, …) between failed checks, so one at a time would take seconds."""

    def check(conn: psycopg.Connection[Any]) -> None:
        if _server_spoke(conn):
            pool[0].check()
            psycopg_pool.ConnectionPool.check_connection(conn)  # read what it said; raises if it is gone

    return check


def _async_checker(
    pool: list[psycopg_pool.AsyncConnectionPool[Any]],
) -> Callable[[psycopg.AsyncConnection[Any]], Awaitable[None]]:
    async def check(conn: psycopg.AsyncConnection[Any]) -> None:
        if _server_spoke(conn):
            await pool[0].check()
            await psycopg_pool.AsyncConnectionPool.check_connection(conn)

    return check


def configure_connection(conn: psycopg.Connection[Any]) -> None:
    """Per-connection setup: orjson for json/jsonb (several times faster than the stdlib)."""
    set_json_loads(orjson.loads, conn)


async def configure_async_connection(conn: psycopg.AsyncConnection[Any]) -> None:
    set_json_loads(orjson.loads, conn)


def sync_pool(
    dsn: str, prepare: bool | None, min_size: int, max_size: int, timeout: float
) -> psycopg_pool.ConnectionPool[Any]:
    cell: list[psycopg_pool.ConnectionPool[Any]] = []  # the checker needs the pool it belongs to
    pool = psycopg_pool.ConnectionPool(
        dsn,
        kwargs=connection_kwargs(dsn, prepare),
        min_size=min_size,
        max_size=max_size,
        timeout=timeout,
        configure=configure_connection,
        check=_checker(cell),
        open=False,
        name="mastra-memory",
    )
    cell.append(pool)
    return pool


def async_pool(
    dsn: str, prepare: bool | None, min_size: int, max_size: int, timeout: float
) -> psycopg_pool.AsyncConnectionPool[Any]:
    cell: list[psycopg_pool.AsyncConnectionPool[Any]] = []
    pool = psycopg_pool.AsyncConnectionPool(
        dsn,
        kwargs=connection_kwargs(dsn, prepare),
        min_size=min_size,
        max_size=max_size,
        timeout=timeout,
        configure=configure_async_connection,
        check=_async_checker(cell),
        open=False,
        name="mastra-memory",
    )
    cell.append(pool)
    return pool


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
