"""Connection pools: built from a DSN (or the embedded server), configured once per connection.

Pools are created closed and opened on first use. Prepared statements are switched off for
Supabase's transaction pooler (port 6543 or a ``*.pooler.supabase.com`` host), which hands each
transaction to a different server connection and so cannot keep them.
"""

from __future__ import annotations

import select
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import orjson
import psycopg
import psycopg_pool
from psycopg.conninfo import conninfo_to_dict
from psycopg.types.json import set_json_loads

from ._errors import InvalidInputError, PoolTimeoutError, StorageError

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


AnyPool = psycopg_pool.ConnectionPool[Any] | psycopg_pool.AsyncConnectionPool[Any]

_PROBE_TIMEOUT = 5  # seconds; libpq's connect_timeout (it rounds anything under 2 up to 2)


def _probe_target(pool: AnyPool) -> tuple[str, dict[str, Any]] | None:
    """Conninfo and options for one direct connection like the pool's (None: the pool computes
    them with a callable, which we do not call behind its back)."""
    if not isinstance(pool.conninfo, str) or not (pool.kwargs is None or isinstance(pool.kwargs, dict)):
        return None
    return pool.conninfo, {**(pool.kwargs or {}), "connect_timeout": _PROBE_TIMEOUT}


def _reason(exc: psycopg.Error) -> str:
    """libpq's reason on one line (it spreads its hints over several)."""
    return " ".join(str(exc).split()) or type(exc).__name__


def _probe(pool: AnyPool) -> str | None:
    """Connect once, directly, as the pool would: None if the server answers, else its reason.

    psycopg_pool counts failed attempts (``get_stats()["connections_errors"]``) but keeps no
    reason, and its counters cannot say whether the *last* attempt failed; one attempt can.
    """
    target = _probe_target(pool)
    if target is None:
        return None
    try:
        with psycopg.connect(target[0], **target[1]):
            return None
    except psycopg.Error as exc:
        return _reason(exc)


async def _probe_async(pool: AnyPool) -> str | None:
    target = _probe_target(pool)
    if target is None:
        return None
    try:
        async with await psycopg.AsyncConnection.connect(target[0], **target[1]):
            return None
    except psycopg.Error as exc:
        return _reason(exc)


def _timeout_error(pool: AnyPool, reason: str | None, probed: bool) -> PoolTimeoutError:
    """The PoolTimeoutError that says which of the two usual causes it was."""
    waited = f"{pool.timeout:.2f} s"
    if reason is not None:
        return PoolTimeoutError(
            f"could not connect to the database ({reason}); no pooled connection was available within {waited}. "
            "Check that the server is running and reachable: the pool reconnects by itself once it is"
        )
    stats = pool.get_stats()
    size, idle = stats.get("pool_size", 0), stats.get("pool_available", 0)
    busy = (
        f"all {size - idle} of the pool's connections (max_size {pool.max_size}) stayed busy for {waited}"
        f" with {stats.get('requests_waiting', 0)} more request(s) waiting"
    )
    if not probed:  # a pool that builds its conninfo with a callable: we could not ask the server
        return PoolTimeoutError(
            f"no database connection became free within {waited}: either {busy} (raise max_size or timeout, "
            "shorten transactions, or look for connections held open elsewhere), or the database is unreachable"
        )
    return PoolTimeoutError(
        f"{busy} (the database itself answers); raise max_size or timeout, shorten transactions, or look "
        "for connections held open elsewhere"
    )


def explain_timeout(pool: psycopg_pool.ConnectionPool[Any]) -> PoolTimeoutError:
    """A pool timed out: say whether the database is down or every connection was busy.

    Runs only on that error path; one direct connection attempt (refused at once when the
    server is down) tells the two apart, with the server's own reason.
    """
    return _timeout_error(pool, _probe(pool), _probe_target(pool) is not None)


async def explain_timeout_async(pool: psycopg_pool.AsyncConnectionPool[Any]) -> PoolTimeoutError:
    """The asyncio twin of :func:`explain_timeout`."""
    return _timeout_error(pool, await _probe_async(pool), _probe_target(pool) is not None)


def _unreachable(pool: AnyPool, reason: str | None) -> StorageError:
    """Why a pool could not open, from :func:`_probe`'s answer."""
    if reason is None:
        reason = (
            "the server answered a direct connection, but the pool timed out"
            if _probe_target(pool) is not None
            else f"no connection was opened within {pool.timeout:.2f} s"
        )
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
                        raise _unreachable(pool, _probe(pool)) from exc
                self.done = True


async def open_async_pool(pool: psycopg_pool.AsyncConnectionPool[Any]) -> None:
    """Open an async pool, reporting an unreachable database the same way as the sync one."""
    try:
        await pool.open(wait=True, timeout=pool.timeout)
    except psycopg_pool.PoolTimeout as exc:
        await pool.close()
        raise _unreachable(pool, await _probe_async(pool)) from exc


# --------------------------------------------------------------------------- callers' pools


def _gone(conn: psycopg.Connection[Any]) -> bool:
    """Whether the server has closed this idle connection (our pools' check, see :func:`_checker`)."""
    if not _server_spoke(conn):
        return False
    try:
        psycopg_pool.ConnectionPool.check_connection(conn)  # reads the farewell; raises if it is gone
    except psycopg.Error:
        return True
    return conn.closed


async def _gone_async(conn: psycopg.AsyncConnection[Any]) -> bool:
    if not _server_spoke(conn):
        return False
    try:
        await psycopg_pool.AsyncConnectionPool.check_connection(conn)
    except psycopg.Error:
        return True
    return conn.closed


class CheckedPool:
    """A caller's pool, with our pools' dead-connection check made as a connection is taken.

    We do not change a caller's pool (its ``check``, sizes, callbacks stay theirs). Instead each
    connection taken from it gets the same socket poll our own pools run (no round trip), before
    anything is sent on it: a connection the server closed (restart, ``pg_terminate_backend``,
    an idle timeout) goes back to the pool, which discards and replaces it, and the next one is
    taken. Nothing was sent, so taking another is always safe; a statement that fails later is
    never retried (see "Bring your own pool" in docs/configuration.md).
    """

    def __init__(self, pool: psycopg_pool.ConnectionPool[Any]) -> None:
        self.pool = pool

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection[Any]]:
        for _ in range(max(self.pool.max_size, 1)):  # at worst every idle connection died at once
            with self.pool.connection() as conn:
                if not _gone(conn):
                    yield conn
                    return
        with self.pool.connection() as conn:  # all were dead: these are the pool's new ones
            yield conn


class AsyncCheckedPool:
    """The asyncio twin of :class:`CheckedPool`."""

    def __init__(self, pool: psycopg_pool.AsyncConnectionPool[Any]) -> None:
        self.pool = pool

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        for _ in range(max(self.pool.max_size, 1)):
            async with self.pool.connection() as conn:
                if not await _gone_async(conn):
                    yield conn
                    return
        async with self.pool.connection() as conn:
            yield conn
