"""Plans and the two drivers that run them.

A *plan* is one operation (save messages, list a thread, migrate…) written once as a generator.
It yields typed requests (:class:`Query`, :class:`Embed`, :class:`Complete`, :class:`Begin`, :class:`Commit`) and
receives their results; it never does I/O itself. :func:`run_sync` and :func:`run_async` are the only code that
knows whether I/O blocks or awaits, so :class:`~mastra_memory.Memory` and
:class:`~mastra_memory.AsyncMemory` share every line of logic.

A plan holds at most one pooled connection, taken at its first database request and given back
when it ends. Database errors are translated once, here, and thrown into the plan, which may
handle them (a retry) or let them propagate.

Acting as a user (``auth``, see :mod:`mastra_memory._auth`): each of the plan's own transactions
(:class:`Begin` … :class:`Commit`) and each statement it runs outside one becomes a transaction
that first sets the role and JWT claims transaction-locally and checks them. So the identity
covers every statement, an error rolls back just what it would have without ``auth``, and no
transaction (or pooled connection) is held while an embedder or chat model runs. A statement on
its own still costs one round trip: setup, check, statement and ``COMMIT`` are pipelined.
"""

from __future__ import annotations

import asyncio
import os
import queue
import threading
from collections.abc import Awaitable, Callable, Generator, Iterator, Mapping, Sequence
from contextlib import AsyncExitStack, ExitStack, contextmanager, suppress
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeAlias, TypeVar

import numpy as np
import psycopg
import psycopg_pool
from psycopg import sql
from psycopg.rows import dict_row

from ._auth import AuthContext, acting_as, acting_as_async, run_as, run_as_async
from ._errors import ProviderError, translate_db_error
from .embedding import EmbeddingMatrix
from .models import ChatTurn

T = TypeVar("T")
Row: TypeAlias = dict[str, Any]
Params: TypeAlias = Sequence[Any] | Mapping[str, Any] | None


@dataclass(frozen=True, slots=True)
class Query:
    """Run one SQL statement; the plan receives its rows (an empty list for none)."""

    statement: sql.SQL | sql.Composed
    params: Params = None


@dataclass(frozen=True, slots=True)
class Embed:
    """Embed texts (documents, or one query); the plan receives the matrix, or a ProviderError.

    A plan yields this before it opens a transaction, so a slow embedder never holds locks;
    the driver also gives its pooled connection back while the embedder runs, and gives up on
    it after the memory's ``embed_timeout`` (a ProviderError, see :func:`provider_limits`).
    """

    embedder: Any
    texts: tuple[str, ...]
    query: bool = False


@dataclass(frozen=True, slots=True)
class Complete:
    """Ask a chat model for a reply; the plan receives the text, or a ProviderError.

    Like :class:`Embed`, yielded outside transactions; the driver gives its connection back while
    the model runs, and gives up on it after the memory's ``model_timeout``.
    """

    model: Any
    messages: tuple[ChatTurn, ...]
    max_tokens: int | None = None


@dataclass(frozen=True, slots=True)
class Begin:
    """Open a transaction; later queries run inside it until :class:`Commit` or the plan ends."""


@dataclass(frozen=True, slots=True)
class Commit:
    """Commit the transaction opened by :class:`Begin`."""


Request: TypeAlias = Query | Embed | Complete | Begin | Commit
Plan: TypeAlias = Generator[Request, Any, T]

_DB_ERRORS = (psycopg.Error, psycopg_pool.PoolTimeout)


def query(statement: sql.SQL | sql.Composed, params: Params = None) -> Generator[Request, Any, list[Row]]:
    """``rows = yield from query(stmt, params)``: a typed helper for plans."""
    rows: list[Row] = yield Query(statement, params)
    return rows


def query_one(statement: sql.SQL | sql.Composed, params: Params = None) -> Generator[Request, Any, Row | None]:
    """The first row of a statement, or None."""
    rows: list[Row] = yield Query(statement, params)
    return rows[0] if rows else None


def embed(embedder: Any, texts: Sequence[str], *, query: bool = False) -> Generator[Request, Any, EmbeddingMatrix]:
    """``vectors = yield from embed(embedder, texts)``: rows are unit vectors, float32."""
    vectors: EmbeddingMatrix = yield Embed(embedder, tuple(texts), query)
    return vectors


def complete(
    model: Any, messages: Sequence[ChatTurn], *, max_tokens: int | None = None
) -> Generator[Request, Any, str]:
    """``text = yield from complete(model, messages)``: a chat model's reply."""
    text: str = yield Complete(model, tuple(messages), max_tokens)
    return text


# --------------------------------------------------------------------------- time limits of providers

DEFAULT_EMBED_TIMEOUT = 30.0
"""Seconds an embedder call may take before it counts as failed (``MemoryConfig.embed_timeout``)."""

DEFAULT_MODEL_TIMEOUT = 300.0
"""Seconds a chat model call may take before it counts as failed (``MemoryConfig.model_timeout``)."""


@dataclass(frozen=True, slots=True)
class ProviderLimits:
    """How long embedder and chat model calls may take (None: no limit)."""

    embed: float | None = DEFAULT_EMBED_TIMEOUT
    model: float | None = DEFAULT_MODEL_TIMEOUT


# The shells set their memory's limits for the run of each plan: the drivers' signatures stay as
# they are, and every way a plan is run (methods, adapters, background jobs) goes through a shell.
_limits: ContextVar[ProviderLimits] = ContextVar(
    "mastra_memory_provider_limits", default=ProviderLimits()  # noqa: B039 - frozen, so never mutated
)


@contextmanager
def provider_limits(limits: ProviderLimits) -> Iterator[None]:
    """Run the plans driven inside this block with ``limits`` on their Embed and Complete requests."""
    token = _limits.set(limits)
    try:
        yield
    finally:
        _limits.reset(token)


def _late(what: str, timeout: float, option: str) -> ProviderError:
    return ProviderError(
        f"{what} gave no answer within {timeout:g} s and was abandoned; raise MemoryConfig.{option} "
        "(None for no limit) if it is just slow"
    )


Outcome: TypeAlias = tuple[bool, Any]  # (True, value) or (False, the exception raised)


class _Workers:
    """Daemon threads that run blocking provider calls, reused between calls.

    A blocking call cannot be interrupted, so a late one is abandoned: its thread finishes (or
    hangs) in the background and, being a daemon, never holds up the interpreter's exit
    (``ThreadPoolExecutor`` joins its threads at exit, and ``asyncio.run`` waits for
    ``to_thread``'s). Idle threads wait for the next call, so a call costs a hand-over, not a
    thread start; a thread still busy with an abandoned call is simply not idle.
    """

    def __init__(self) -> None:
        self._idle: list[queue.SimpleQueue[tuple[Callable[[], Any], Callable[[Outcome], object]]]] = []
        self._lock = threading.Lock()

    def forget(self) -> None:
        """Drop every thread (after a fork: the child has none of the parent's threads)."""
        self._idle, self._lock = [], threading.Lock()

    def submit(self, call: Callable[[], Any], notify: Callable[[Outcome], object]) -> None:
        """Run ``call`` on an idle thread (or a new one); ``notify`` gets its outcome there."""
        with self._lock:
            jobs = self._idle.pop() if self._idle else None
        if jobs is None:
            jobs = queue.SimpleQueue()
            threading.Thread(target=self._serve, args=(jobs,), name="mastra-memory-provider", daemon=True).start()
        jobs.put((call, notify))

    def _serve(self, jobs: queue.SimpleQueue[tuple[Callable[[], Any], Callable[[Outcome], object]]]) -> None:
        while True:
            call, notify = jobs.get()
            try:
                outcome: Outcome = (True, call())
            except BaseException as exc:  # handed to the caller, if it still waits
                outcome = (False, exc)
            with self._lock:
                self._idle.append(jobs)
            with suppress(Exception):  # a caller that is gone cannot be told
                notify(outcome)


_workers = _Workers()
if hasattr(os, "register_at_fork"):  # a forked child has none of the parent's threads
    os.register_at_fork(after_in_child=_workers.forget)


def _unpack(outcome: Outcome) -> Any:
    ok, value = outcome
    if not ok:
        raise value
    return value


def _bounded(call: Callable[[], T], timeout: float | None, what: str, option: str) -> T:
    """``call()``, given up on after ``timeout`` seconds (a ProviderError; see :class:`_Workers`)."""
    if timeout is None:
        return call()
    box: list[Outcome] = []
    done = threading.Event()

    def notify(outcome: Outcome) -> None:
        box.append(outcome)
        done.set()

    _workers.submit(call, notify)
    if not done.wait(timeout):
        raise _late(what, timeout, option)
    return _unpack(box[0])  # type: ignore[no-any-return]


async def _bounded_thread(call: Callable[[], T], timeout: float | None, what: str, option: str) -> T:
    """:func:`_bounded` for asyncio: the blocking call on a worker thread, awaited."""
    if timeout is None:
        return await asyncio.to_thread(call)
    loop = asyncio.get_running_loop()
    future: asyncio.Future[Outcome] = loop.create_future()

    def settle(outcome: Outcome) -> None:
        if not future.done():  # not given up on meanwhile
            future.set_result(outcome)

    _workers.submit(call, lambda outcome: loop.call_soon_threadsafe(settle, outcome))
    try:
        outcome = await asyncio.wait_for(future, timeout)
    except asyncio.TimeoutError:
        raise _late(what, timeout, option) from None
    return _unpack(outcome)  # type: ignore[no-any-return]


async def _bounded_await(awaitable: Awaitable[T], timeout: float | None, what: str, option: str) -> T:
    """Await ``awaitable`` at most ``timeout`` seconds (it is cancelled when late)."""
    if timeout is None:
        return await awaitable

    async def guarded() -> T:  # the call's own TimeoutError must not pass for ours
        try:
            return await awaitable
        except ProviderError:
            raise
        except Exception as exc:
            raise ProviderError(f"{what} failed: {exc!r}") from exc

    try:
        return await asyncio.wait_for(guarded(), timeout)
    except asyncio.TimeoutError:
        raise _late(what, timeout, option) from None


def _model_name(model: Any) -> str:
    return str(getattr(model, "model_id", type(model).__name__))


def _completed(result: Any, request: Complete) -> str:
    if not isinstance(result, str):
        raise ProviderError(f"chat model {_model_name(request.model)!r} returned {type(result).__name__}, not str")
    return result


def _complete_sync(request: Complete) -> str:
    model = request.model
    if not hasattr(model, "complete"):
        raise ProviderError(
            f"chat model {_model_name(model)!r} is async-only; use AsyncMemory, or a model with complete()"
        )
    what = f"chat model {_model_name(model)!r}"
    try:
        out = _bounded(
            lambda: model.complete(list(request.messages), max_tokens=request.max_tokens),
            _limits.get().model, what, "model_timeout",
        )
    except ProviderError:
        raise
    except Exception as exc:  # any failure of a third-party model becomes ProviderError
        raise ProviderError(f"chat model {_model_name(model)!r} failed: {exc!r}") from exc
    return _completed(out, request)


async def _complete_async(request: Complete) -> str:
    model = request.model
    what = f"chat model {_model_name(model)!r}"
    if not hasattr(model, "acomplete"):  # a blocking client: the one place we hop to a thread
        unbounded = ProviderLimits(_limits.get().embed, None)  # the wait below is the bound

        def blocking() -> str:
            with provider_limits(unbounded):
                return _complete_sync(request)

        return await _bounded_thread(blocking, _limits.get().model, what, "model_timeout")
    try:
        out = await _bounded_await(
            model.acomplete(list(request.messages), max_tokens=request.max_tokens),
            _limits.get().model, what, "model_timeout",
        )
    except ProviderError:
        raise
    except Exception as exc:  # any failure of a third-party model becomes ProviderError
        raise ProviderError(f"chat model {_model_name(model)!r} failed: {exc!r}") from exc
    return _completed(out, request)


def _embedded(result: Any, request: Embed) -> EmbeddingMatrix:
    """Check what an embedder returned: (n, dim) for documents, (dim,) for a query."""
    matrix = np.asarray(result, dtype=np.float32)
    want = (request.embedder.dimension,) if request.query else (len(request.texts), request.embedder.dimension)
    if matrix.shape != want or not np.isfinite(matrix).all():
        raise ProviderError(
            f"embedder {request.embedder.model_id!r} returned shape {matrix.shape} (or non-finite values) "
            f"where {want} was expected"
        )
    return matrix


def _embed_sync(request: Embed) -> EmbeddingMatrix:
    embedder = request.embedder
    if not hasattr(embedder, "embed_documents"):
        raise ProviderError(
            f"embedder {getattr(embedder, 'model_id', embedder)!r} is async-only; use AsyncMemory, or an embedder "
            "with embed_documents/embed_query"
        )
    what = f"embedder {getattr(embedder, 'model_id', embedder)!r}"
    try:
        out = _bounded(
            lambda: embedder.embed_query(request.texts[0])
            if request.query
            else embedder.embed_documents(list(request.texts)),
            _limits.get().embed, what, "embed_timeout",
        )
    except ProviderError:
        raise
    except Exception as exc:  # any failure of a third-party embedder becomes ProviderError
        raise ProviderError(f"embedder {getattr(embedder, 'model_id', embedder)!r} failed: {exc!r}") from exc
    return _embedded(out, request)


async def _embed_async(request: Embed) -> EmbeddingMatrix:
    embedder = request.embedder
    what = f"embedder {getattr(embedder, 'model_id', embedder)!r}"
    try:
        if hasattr(embedder, "aembed_documents"):
            out = await _bounded_await(
                embedder.aembed_query(request.texts[0])
                if request.query
                else embedder.aembed_documents(list(request.texts)),
                _limits.get().embed, what, "embed_timeout",
            )
        else:  # a truly synchronous (CPU-bound) embedder: the one place we hop to a thread
            unbounded = ProviderLimits(None, _limits.get().model)  # the wait below is the bound

            def blocking() -> EmbeddingMatrix:
                with provider_limits(unbounded):
                    return _embed_sync(request)

            return await _bounded_thread(blocking, _limits.get().embed, what, "embed_timeout")
    except ProviderError:
        raise
    except Exception as exc:  # any failure of a third-party embedder becomes ProviderError
        raise ProviderError(f"embedder {getattr(embedder, 'model_id', embedder)!r} failed: {exc!r}") from exc
    return _embedded(out, request)


def run_sync(plan: Plan[T], pool: psycopg_pool.ConnectionPool[Any], auth: AuthContext | None = None) -> T:
    """Drive a plan with blocking I/O (as ``auth``'s role and claims when given).

    Raises:
        AuthError: ``auth`` could not be applied (nothing of that transaction ran).
    """
    with ExitStack() as held:
        conn: psycopg.Connection[Any] | None = None
        tx: ExitStack | None = None
        result: Any = None
        error: BaseException | None = None
        while True:
            try:
                request = plan.throw(error) if error is not None else plan.send(result)
            except StopIteration as stop:
                if tx is not None:
                    tx.close()
                return stop.value  # type: ignore[no-any-return]
            except BaseException as exc:
                if tx is not None:
                    tx.__exit__(type(exc), exc, exc.__traceback__)
                raise
            error = None
            if isinstance(request, Embed):
                if conn is not None and tx is None:  # give the connection back while the embedder runs
                    held.close()
                    conn = None
                try:
                    result = _embed_sync(request)
                except ProviderError as exc:
                    error = exc
                continue
            if isinstance(request, Complete):
                if conn is not None and tx is None:  # give the connection back while the model runs
                    held.close()
                    conn = None
                try:
                    result = _complete_sync(request)
                except ProviderError as exc:
                    error = exc
                continue
            try:
                if conn is None:
                    conn = held.enter_context(pool.connection())
                if isinstance(request, Query) and auth is not None and tx is None:  # its own transaction, as the user
                    result = run_as(conn, auth, request.statement, request.params)
                elif isinstance(request, Query):
                    with conn.cursor(row_factory=dict_row) as cur:
                        cur.execute(request.statement, request.params)
                        result = cur.fetchall() if cur.description is not None else []
                    if tx is None and not conn.autocommit:  # a caller's pool without autocommit
                        conn.commit()
                elif isinstance(request, Begin):
                    tx = ExitStack()
                    tx.enter_context(conn.transaction() if auth is None else acting_as(conn, auth))
                    result = None
                else:
                    assert tx is not None, "Commit without Begin"
                    tx.close()
                    tx, result = None, None
            except _DB_ERRORS as exc:
                if conn is not None and tx is None and not conn.autocommit and not conn.closed:
                    with suppress(psycopg.Error):  # the original error is the one to report
                        conn.rollback()
                error = translate_db_error(exc)
                error.__cause__ = exc


async def run_async(
    plan: Plan[T], pool: psycopg_pool.AsyncConnectionPool[Any], auth: AuthContext | None = None
) -> T:
    """Drive a plan with asyncio I/O (mirror of :func:`run_sync`).

    Raises:
        AuthError: ``auth`` could not be applied (nothing of that transaction ran).
    """
    async with AsyncExitStack() as held:
        conn: psycopg.AsyncConnection[Any] | None = None
        tx: AsyncExitStack | None = None
        result: Any = None
        error: BaseException | None = None
        while True:
            try:
                request = plan.throw(error) if error is not None else plan.send(result)
            except StopIteration as stop:
                if tx is not None:
                    await tx.aclose()
                return stop.value  # type: ignore[no-any-return]
            except BaseException as exc:
                if tx is not None:
                    await tx.__aexit__(type(exc), exc, exc.__traceback__)
                raise
            error = None
            if isinstance(request, Embed):
                if conn is not None and tx is None:  # give the connection back while the embedder runs
                    await held.aclose()
                    conn = None
                try:
                    result = await _embed_async(request)
                except ProviderError as exc:
                    error = exc
                continue
            if isinstance(request, Complete):
                if conn is not None and tx is None:  # give the connection back while the model runs
                    await held.aclose()
                    conn = None
                try:
                    result = await _complete_async(request)
                except ProviderError as exc:
                    error = exc
                continue
            try:
                if conn is None:
                    conn = await held.enter_async_context(pool.connection())
                assert conn is not None
                if isinstance(request, Query) and auth is not None and tx is None:  # its own transaction, as the user
                    result = await run_as_async(conn, auth, request.statement, request.params)
                elif isinstance(request, Query):
                    async with conn.cursor(row_factory=dict_row) as cur:
                        await cur.execute(request.statement, request.params)
                        result = await cur.fetchall() if cur.description is not None else []
                    if tx is None and not conn.autocommit:  # a caller's pool without autocommit
                        await conn.commit()
                elif isinstance(request, Begin):
                    tx = AsyncExitStack()
                    await tx.enter_async_context(
                        conn.transaction() if auth is None else acting_as_async(conn, auth)
                    )
                    result = None
                else:
                    assert tx is not None, "Commit without Begin"
                    await tx.aclose()
                    tx, result = None, None
            except _DB_ERRORS as exc:
                if conn is not None and tx is None and not conn.autocommit and not conn.closed:
                    with suppress(psycopg.Error):  # the original error is the one to report
                        await conn.rollback()
                error = translate_db_error(exc)
                error.__cause__ = exc
