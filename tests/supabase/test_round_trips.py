"""What acting as a user costs on the wire, counted by a proxy that reads the protocol.

bench/compare_proxy.py sits on a Unix socket in front of the test database and counts round trips
(the client sending after the server answered) and statements (CommandComplete messages). A
statement the plan runs on its own must cost one round trip as a user, as it does unbound: the
settings, their check, the statement and ``COMMIT`` travel together. The old way (a setup round
trip, the statement, ``COMMIT``) is counted too, as the figure this replaces.

The fail-closed tests run the one-round-trip path against the real server with a wrong identity
set on purpose (our own ``_sets`` swapped to set user B's claims while A's are checked): the
server-side check must stop the statement and the ``COMMIT``.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import psycopg
import psycopg_pool
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from bench.compare_proxy import CountingProxy, Counts
from mastra_memory import AsyncMemory, AuthContext, AuthError, Memory, Message
from mastra_memory import _auth as auth_module
from mastra_memory._auth import acting_as, run_as, run_as_async
from mastra_memory.embedding import HashEmbedder

from .conftest import DIMENSION, USER_A, USER_B, Supa, empty_schema, recall_config

A = AuthContext.user(USER_A)


@pytest.fixture(params=["direct", "pgbouncer"])
def proxy(request: pytest.FixtureRequest, supa: Supa) -> Iterator[tuple[CountingProxy, str]]:
    """The counting proxy in front of PostgreSQL (or PgBouncer), and a DSN that goes through it."""
    upstream = str(request.getfixturevalue("pgbouncer")) if request.param == "pgbouncer" else supa.admin
    counting = CountingProxy(upstream)
    info = conninfo_to_dict(upstream)
    dsn = make_conninfo(host=counting.host, port=counting.port, dbname=info["dbname"], user=info["user"])
    try:
        yield counting, dsn
    finally:
        counting.close()


@contextmanager
def counting_closed(counting: CountingProxy) -> Iterator[CountingProxy]:
    try:
        yield counting
    finally:
        counting.close()


def _pool(dsn: str) -> psycopg_pool.ConnectionPool[Any]:
    pool: psycopg_pool.ConnectionPool[Any] = psycopg_pool.ConnectionPool(
        dsn, kwargs={"autocommit": True, "prepare_threshold": None}, min_size=1, max_size=1, open=False
    )
    pool.open(wait=True)
    return pool


@pytest.fixture
def counted(
    proxy: tuple[CountingProxy, str], supa: Supa, supa_schema: str, flavour: str
) -> Iterator[tuple[CountingProxy, Any]]:
    """A memory of this test's flavour whose every byte passes the proxy (one pooled connection)."""
    empty_schema(supa.superuser, supa_schema)
    counting, dsn = proxy
    if flavour == "sync":
        with _pool(dsn) as pool:
            yield counting, Memory(pool, schema=supa_schema, config=recall_config(), embedder=HashEmbedder(DIMENSION))
        return
    yield counting, dsn  # the async pool is opened by the async test itself (below)


@asynccontextmanager
async def _memory(flavour: str, dsn_or_memory: Any, schema: str) -> AsyncIterator[Any]:
    if flavour == "sync":
        yield dsn_or_memory
        return
    pool: psycopg_pool.AsyncConnectionPool[Any] = psycopg_pool.AsyncConnectionPool(
        dsn_or_memory, kwargs={"autocommit": True, "prepare_threshold": None}, min_size=1, max_size=1, open=False
    )
    async with pool:
        yield AsyncMemory(pool, schema=schema, config=recall_config(), embedder=HashEmbedder(DIMENSION))


async def _call(memory: Any, name: str, *args: Any, **kwargs: Any) -> Any:
    out = getattr(memory, name)(*args, **kwargs)
    return await out if isinstance(memory, AsyncMemory) else out


async def _counted(counting: CountingProxy, memory: Any, name: str, *args: Any, **kwargs: Any) -> tuple[Any, Counts]:
    before = counting.snapshot()
    out = await _call(memory, name, *args, **kwargs)
    return out, counting.snapshot().minus(before)


async def test_context_as_a_user_costs_one_round_trip_like_unbound(
    counted: tuple[CountingProxy, Any], flavour: str, supa_schema: str
) -> None:
    counting, target = counted
    async with _memory(flavour, target, supa_schema) as memory:
        user = memory.with_auth(A)
        thread = await _call(user, "create_thread", USER_A, title="trip")
        batch = [Message.user(f"we fly to Lisbon, note {n}", thread_id=thread.id) for n in range(3)]
        await _call(user, "save_messages", batch)

        unbound, plain = await _counted(counting, memory, "context", thread.id, USER_A, query="Lisbon")
        as_user, acted = await _counted(counting, user, "context", thread.id, USER_A, query="Lisbon")

        assert [m.id for m in as_user.messages] == [m.id for m in unbound.messages] and len(as_user.messages) == 3
        assert plain.round_trips == 1 and plain.statements == 1
        assert acted.round_trips == 1  # was 3: setup, statement, COMMIT
        assert acted.tags == {"BEGIN": 1, "SELECT": 3, "COMMIT": 1}  # setup, check, the context statement


async def test_a_plan_transaction_as_a_user_keeps_its_shape(
    counted: tuple[CountingProxy, Any], flavour: str, supa_schema: str
) -> None:
    # Begin … Commit as a user: the identity opens the transaction (BEGIN; set; read back in one
    # round trip) where unbound a bare BEGIN does; then the plan's own statements and COMMIT.
    counting, target = counted
    async with _memory(flavour, target, supa_schema) as memory:
        user = memory.with_auth(A)
        for who in (memory, user):  # warm up: the first call looks up the vector table once
            await _call(who, "delete_resource", "nobody")
        await _call(user, "create_thread", USER_A)
        await _call(memory, "create_thread", "someone")
        plain_out, plain = await _counted(counting, memory, "delete_resource", "someone")
        acted_out, acted = await _counted(counting, user, "delete_resource", USER_A)
        assert plain_out.threads == acted_out.threads == 1
        assert acted.round_trips == plain.round_trips, (plain, acted)
        assert acted.tags["BEGIN"] == acted.tags["COMMIT"] >= 1  # every transaction opened as the user ended


def test_the_old_way_counted_three_round_trips(proxy: tuple[CountingProxy, str]) -> None:
    # The figure this change replaces: a setup round trip (acting_as), the statement, COMMIT.
    counting, dsn = proxy
    with psycopg.connect(dsn, autocommit=True, prepare_threshold=None) as conn:
        before = counting.snapshot()
        with acting_as(conn, A), conn.cursor() as cur:
            cur.execute("SELECT auth.uid()::text")
            assert cur.fetchone() == (USER_A,)
        old = counting.snapshot().minus(before)
        before = counting.snapshot()
        assert run_as(conn, A, sql.SQL("SELECT auth.uid()::text AS uid")) == [{"uid": USER_A}]
        new = counting.snapshot().minus(before)
    assert (old.round_trips, new.round_trips) == (3, 1)


def test_prepared_statements_on_a_direct_connection_still_cost_one_round_trip(supa: Supa, supa_schema: str) -> None:
    # Off through a pooler, but Memory.connect prepares on a direct connection; here from the first use.
    empty_schema(supa.superuser, supa_schema)
    counting = CountingProxy(supa.admin)
    dsn = make_conninfo(supa.admin, host=counting.host, port=counting.port)
    pool: psycopg_pool.ConnectionPool[Any] = psycopg_pool.ConnectionPool(
        dsn, kwargs={"autocommit": True, "prepare_threshold": 0}, min_size=1, max_size=1, open=False
    )
    with counting_closed(counting), pool:
        user = Memory(pool, schema=supa_schema).with_auth(A)
        thread = user.create_thread(USER_A)
        saved = user.save_messages([Message.user("prepared once", thread_id=thread.id)])
        for _ in range(3):
            before = counting.snapshot()
            ctx = user.context(thread.id, USER_A)
            assert counting.snapshot().minus(before).round_trips == 1
            assert [m.id for m in ctx.messages] == [m.id for m in saved]
        with pool.connection() as conn:
            assert conn.execute("SELECT count(*) FROM pg_prepared_statements").fetchone() != (0,)  # it did prepare
            assert _session(conn) == ("mm_supabase_admin", "")


# -- fail closed on the one-round-trip path -------------------------------------------------------


@pytest.fixture
def marker_table(supa: Supa) -> Iterator[sql.Identifier]:
    """A table every API role may write, so only the identity check can keep a row out."""
    name = sql.Identifier("public", "mm_rt_" + uuid.uuid4().hex[:8])
    with psycopg.connect(supa.superuser, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE TABLE {} (who text)").format(name))
        conn.execute(sql.SQL("GRANT ALL ON {} TO anon, authenticated, service_role").format(name))
    yield name
    with psycopg.connect(supa.superuser, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP TABLE {}").format(name))


def _rows(supa: Supa, table: sql.Identifier) -> list[tuple[Any, ...]]:
    with psycopg.connect(supa.superuser) as conn:
        return conn.execute(sql.SQL("SELECT who FROM {}").format(table)).fetchall()


@pytest.fixture
def wrong_identity(monkeypatch: pytest.MonkeyPatch) -> None:
    """Set B's claims whenever A's are asked for: the identity that takes effect is not the one checked."""
    real = auth_module._sets
    monkeypatch.setattr(auth_module, "_sets", lambda auth: real(AuthContext.user(USER_B) if auth == A else auth))


def _session(conn: psycopg.Connection[Any]) -> tuple[Any, ...]:
    row = conn.execute("SELECT current_user::text, current_setting('request.jwt.claims', true)").fetchone()
    assert row is not None
    return tuple(row)


@pytest.mark.usefixtures("wrong_identity")
def test_a_wrong_identity_stops_the_statement_and_the_commit(
    supa: Supa, admin_dsn: str, marker_table: sql.Identifier
) -> None:
    insert = sql.SQL("INSERT INTO {} VALUES (auth.uid()::text) RETURNING who").format(marker_table)
    with psycopg.connect(admin_dsn, autocommit=True, prepare_threshold=None) as conn:
        with pytest.raises(AuthError, match="did not take effect"):
            run_as(conn, A, insert)
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        assert _session(conn) == ("mm_supabase_admin", "")
        assert run_as(conn, AuthContext.user(USER_B), insert) == [{"who": USER_B}]  # unaffected identities work
    assert _rows(supa, marker_table) == [(USER_B,)]


@pytest.mark.usefixtures("wrong_identity")
async def test_a_wrong_identity_stops_the_statement_and_the_commit_async(
    supa: Supa, admin_dsn: str, marker_table: sql.Identifier
) -> None:
    insert = sql.SQL("INSERT INTO {} VALUES (auth.uid()::text) RETURNING who").format(marker_table)
    async with await psycopg.AsyncConnection.connect(admin_dsn, autocommit=True, prepare_threshold=None) as conn:
        with pytest.raises(AuthError, match="did not take effect"):
            await run_as_async(conn, A, insert)
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        cur = await conn.execute("SELECT current_user::text, current_setting('request.jwt.claims', true)")
        assert await cur.fetchone() == ("mm_supabase_admin", "")
    assert _rows(supa, marker_table) == []


def test_the_statements_own_error_comes_back_as_itself_and_nothing_stays(
    supa: Supa, admin_dsn: str, marker_table: sql.Identifier
) -> None:
    # Past the check, a failing statement is the statement's error (the driver translates it), not AuthError.
    insert = sql.SQL("INSERT INTO {} VALUES ((1 / 0)::text)").format(marker_table)
    with psycopg.connect(admin_dsn, autocommit=True, prepare_threshold=None) as conn:
        with pytest.raises(psycopg.errors.DivisionByZero):
            run_as(conn, A, insert)
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        assert _session(conn) == ("mm_supabase_admin", "")
    assert _rows(supa, marker_table) == []


def test_a_callers_open_transaction_is_refused_before_anything_is_sent(
    supa: Supa, proxy: tuple[CountingProxy, str]
) -> None:
    counting, dsn = proxy
    with psycopg.connect(dsn, autocommit=True, prepare_threshold=None) as conn:
        conn.execute("BEGIN")
        before = counting.snapshot()
        with pytest.raises(AuthError, match="outside any transaction"):
            run_as(conn, A, sql.SQL("SELECT 1"))
        assert counting.snapshot().minus(before).round_trips == 0
        role, claims = _session(conn)
        assert role == "mm_supabase_admin" and not claims
