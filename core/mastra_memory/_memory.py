"""``Memory`` and ``AsyncMemory``: the two shells. All logic lives in the plans (see ``_shell``)."""

from __future__ import annotations

import asyncio
import copy
import os
from types import TracebackType
from typing import Any, TypeVar, cast

import psycopg_pool

from ._auth import AuthContext
from ._config import MemoryConfig
from ._connect import (
    AsyncCheckedPool,
    CheckedPool,
    OpenOnce,
    async_pool,
    explain_timeout,
    explain_timeout_async,
    open_async_pool,
    sync_pool,
)
from ._errors import AuthError, PoolTimeoutError
from ._plan import Plan, ProviderLimits, T, provider_limits, run_async, run_sync
from ._shell import AsyncRunner, Operations, SyncRunner
from ._store import Store
from .embedded import EmbeddedPostgres
from .embedding import AsyncEmbedder, Embedder

__all__ = ["AsyncMemory", "Memory"]


class Memory(Operations, SyncRunner):
    """Mastra-compatible agent memory over PostgreSQL, with blocking methods.

    Build it with :meth:`connect` (a DSN, or nothing for the embedded server), or wrap a
    ``psycopg_pool.ConnectionPool`` you own (opened, with ``autocommit=True`` connections)::

        with Memory.connect("postgresql://…") as memory:
            thread = memory.create_thread("user-42", title="Trip")
            memory.save_messages([Message.user("Hi!", thread_id=thread.id)])
            print([m.text for m in memory.recall(thread.id).messages])

    The constructor does no I/O. ``AsyncMemory`` has the same methods as coroutines.
    """

    _auth: AuthContext | None = None  # set on the views with_auth() returns

    def __init__(
        self,
        pool: psycopg_pool.ConnectionPool[Any],
        *,
        config: MemoryConfig | None = None,
        schema: str = "public",
        embedder: Embedder | AsyncEmbedder | None = None,
    ) -> None:
        self._pool = pool
        self._store = Store.of(schema, config, embedder)
        self._owns_pool = False
        self._opener = OpenOnce()
        self._embedded: EmbeddedPostgres | None = None

    @classmethod
    def connect(
        cls,
        dsn: str | None = None,
        *,
        config: MemoryConfig | None = None,
        schema: str = "public",
        embedder: Embedder | AsyncEmbedder | None = None,
        migrate: bool = True,
        prepare: bool | None = None,
        min_size: int = 1,
        max_size: int = 10,
        timeout: float = 30.0,
        data_dir: str | os.PathLike[str] | None = None,
    ) -> Memory:
        """Open memory on a database (``dsn``) or, with no DSN, on the embedded PostgreSQL.

        ``embedder`` embeds messages for semantic recall (default: the offline
        :class:`~mastra_memory.embedding.LocalEmbedder` when recall is on). ``migrate`` creates or
        upgrades the tables first, and with semantic recall the vector table of the embedder's
        dimension. ``prepare`` forces prepared statements on or off; by default they are off for
        Supabase's transaction pooler and on elsewhere.
        ``data_dir`` places the embedded server's data (see :mod:`mastra_memory.embedded`).

        Raises:
            InvalidInputError: the DSN or schema name is malformed.
            StorageError: the database cannot be reached, or migrating failed.
        """
        embedded = None
        if dsn is None:
            embedded = EmbeddedPostgres(data_dir)
            dsn = embedded.start()
        memory = cls(
            sync_pool(dsn, prepare, min_size, max_size, timeout), config=config, schema=schema, embedder=embedder
        )
        memory._owns_pool, memory._embedded = True, embedded
        if migrate:
            try:
                memory.migrate()
            except BaseException:
                memory.close()
                raise
        return memory

    @property
    def pool(self) -> psycopg_pool.ConnectionPool[Any]:
        return self._pool

    def _run(self, plan: Plan[T]) -> T:
        if self._owns_pool:
            self._opener.open(self._pool)
        # A caller's pool gets our dead-connection check per connection taken (ours have it built in);
        # the driver only calls connection() on what it is given.
        pool = self._pool if self._owns_pool else cast("psycopg_pool.ConnectionPool[Any]", CheckedPool(self._pool))
        try:
            with provider_limits(_limits_of(self._store)):
                return run_sync(plan, pool, self._auth)
        except PoolTimeoutError as exc:  # say whether the database is down or the pool is exhausted
            raise explain_timeout(self._pool) from exc.__cause__

    def with_auth(self, auth: AuthContext) -> Memory:
        """A view of this memory whose every operation runs as ``auth`` (a Supabase user, the service
        role or anonymous), under the database's row-level security.

        The view shares the pool and settings; it is cheap, so make one per request. Each
        transaction sets the role and claims for itself only (see ``docs/supabase.md``). Closing
        the view leaves the pool open.

        Raises:
            AuthError: ``auth`` is not an :class:`~mastra_memory.AuthContext`.
        """
        return _bound(self, auth)

    def close(self) -> None:
        """Close the connection pool if this object opened it (a caller's pool is left alone)."""
        if self._owns_pool and self._auth is None:
            self._pool.close()

    def __enter__(self) -> Memory:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class AsyncMemory(Operations, AsyncRunner):
    """The asyncio twin of :class:`Memory`: the same methods, as coroutines.

    ::

        async with await AsyncMemory.connect("postgresql://…") as memory:
            thread = await memory.create_thread("user-42")
    """

    _auth: AuthContext | None = None  # set on the views with_auth() returns

    def __init__(
        self,
        pool: psycopg_pool.AsyncConnectionPool[Any],
        *,
        config: MemoryConfig | None = None,
        schema: str = "public",
        embedder: Embedder | AsyncEmbedder | None = None,
    ) -> None:
        self._pool = pool
        self._store = Store.of(schema, config, embedder)
        self._owns_pool = False
        self._opened = False
        self._open_lock = asyncio.Lock()
        self._embedded: EmbeddedPostgres | None = None

    @classmethod
    async def connect(
        cls,
        dsn: str | None = None,
        *,
        config: MemoryConfig | None = None,
        schema: str = "public",
        embedder: Embedder | AsyncEmbedder | None = None,
        migrate: bool = True,
        prepare: bool | None = None,
        min_size: int = 1,
        max_size: int = 10,
        timeout: float = 30.0,
        data_dir: str | os.PathLike[str] | None = None,
    ) -> AsyncMemory:
        """Open memory on a database (``dsn``) or, with no DSN, on the embedded PostgreSQL.

        See :meth:`Memory.connect` for the options.

        Raises:
            InvalidInputError: the DSN or schema name is malformed.
            StorageError: the database cannot be reached, or migrating failed.
        """
        embedded = None
        if dsn is None:
            embedded = EmbeddedPostgres(data_dir)
            dsn = await asyncio.to_thread(embedded.start)  # starting a server process is blocking work
        memory = cls(
            async_pool(dsn, prepare, min_size, max_size, timeout), config=config, schema=schema, embedder=embedder
        )
        memory._owns_pool, memory._embedded = True, embedded
        if migrate:
            try:
                await memory.migrate()
            except BaseException:
                await memory.close()
                raise
        return memory

    @property
    def pool(self) -> psycopg_pool.AsyncConnectionPool[Any]:
        return self._pool

    async def _run(self, plan: Plan[T]) -> T:
        if self._owns_pool and not self._opened:
            async with self._open_lock:
                if not self._opened:
                    if self._pool.closed:
                        await open_async_pool(self._pool)
                    self._opened = True
        pool = (
            self._pool
            if self._owns_pool
            else cast("psycopg_pool.AsyncConnectionPool[Any]", AsyncCheckedPool(self._pool))
        )
        try:
            with provider_limits(_limits_of(self._store)):
                return await run_async(plan, pool, self._auth)
        except PoolTimeoutError as exc:
            raise await explain_timeout_async(self._pool) from exc.__cause__

    def with_auth(self, auth: AuthContext) -> AsyncMemory:
        """A view whose every operation runs as ``auth``; see :meth:`Memory.with_auth`.

        Raises:
            AuthError: ``auth`` is not an :class:`~mastra_memory.AuthContext`.
        """
        return _bound(self, auth)

    async def close(self) -> None:
        """Close the connection pool if this object opened it (a caller's pool is left alone)."""
        if self._owns_pool and self._auth is None:
            await self._pool.close()

    async def __aenter__(self) -> AsyncMemory:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()


_M = TypeVar("_M", Memory, AsyncMemory)


def _limits_of(store: Store) -> ProviderLimits:
    """The time limits the drivers put on this memory's embedder and chat model calls."""
    return ProviderLimits(store.config.embed_timeout, store.config.model_timeout)


def _bound(memory: _M, auth: AuthContext) -> _M:
    """A shallow copy sharing pool, store and opener, with ``auth`` set (the one difference)."""
    if not isinstance(auth, AuthContext):
        raise AuthError(f"with_auth() takes an AuthContext, got {type(auth).__name__}")
    view = copy.copy(memory)
    view._auth = auth
    return view
