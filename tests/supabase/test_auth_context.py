"""AuthContext and the transaction that carries it: immutable, fail closed, nothing left behind."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import psycopg_pool
import pytest

from mastra_memory import AsyncMemory, AuthContext, AuthError, Memory, MemoryConfig, PermissionDeniedError
from mastra_memory._connect import configure_async_connection, configure_connection
from mastra_memory.embedding import HashEmbedder

from .conftest import USER_A, USER_B, Supa, empty_schema


def test_a_user_context_carries_subject_role_and_extra_claims() -> None:
    ctx = AuthContext.user(USER_A, claims={"email": "a@example.com", "aud": "authenticated"})
    assert ctx.role == "authenticated" and ctx.subject == USER_A
    assert dict(ctx.claims) == {
        "sub": USER_A,
        "role": "authenticated",
        "email": "a@example.com",
        "aud": "authenticated",
    }


def test_contexts_are_immutable() -> None:
    ctx = AuthContext.user(USER_A, claims={"app_metadata": {"org": "x"}})
    with pytest.raises(AttributeError):
        ctx.role = "service_role"  # type: ignore[misc]
    with pytest.raises(TypeError):
        ctx.claims["sub"] = USER_B  # type: ignore[index]
    ctx.claims["app_metadata"]["org"] = "changed"  # a copy: the context keeps its own
    assert ctx.claims["app_metadata"] == {"org": "x"}


@pytest.mark.parametrize(
    ("sub", "claims"),
    [
        ("", None),
        ("  ", None),
        (None, None),
        ("a\x00b", None),
        (USER_A, {"sub": USER_B}),
        (USER_A, {"role": "service_role"}),
        (USER_A, {"weird": object()}),
    ],
)
def test_bad_user_contexts_are_refused(sub: Any, claims: Any) -> None:
    with pytest.raises(AuthError):
        AuthContext.user(sub, claims=claims)


@pytest.mark.parametrize(
    ("role", "claims_json"),
    [
        ("authenticated", '{"role":"service_role","sub":"x"}'),
        ("authenticated", '{"role":"authenticated"}'),
        ("service_role", "not json"),
        ("service_role", "[]"),
        ("postgres", '{"role":"postgres"}'),
    ],
)
def test_a_directly_built_context_must_be_consistent(role: Any, claims_json: str) -> None:
    with pytest.raises(AuthError):
        AuthContext(role, claims_json)


def test_from_claims_takes_the_role_and_refuses_service_tokens_unless_allowed() -> None:
    assert AuthContext.from_claims({"sub": USER_A, "role": "authenticated"}).subject == USER_A
    assert AuthContext.from_claims({"role": "anon"}).role == "anon"
    with pytest.raises(AuthError, match="allow_service_role"):
        AuthContext.from_claims({"role": "service_role"})
    assert AuthContext.from_claims({"role": "service_role"}, allow_service_role=True).role == "service_role"
    for bad in ({"role": "postgres"}, {"role": "authenticated"}, {}):
        with pytest.raises(AuthError):
            AuthContext.from_claims(bad)


def test_with_auth_takes_only_an_auth_context(supa: Supa, admin_pool: Any, supa_schema: str) -> None:
    with pytest.raises(AuthError):
        Memory(admin_pool, schema=supa_schema).with_auth({"sub": USER_A})  # type: ignore[arg-type]


def _single_pool(dsn: str) -> psycopg_pool.ConnectionPool[Any]:
    pool: psycopg_pool.ConnectionPool[Any] = psycopg_pool.ConnectionPool(
        dsn, kwargs={"autocommit": True}, configure=configure_connection, min_size=1, max_size=1, open=False
    )
    pool.open(wait=True)
    return pool


def _session_state(conn: psycopg.Connection[Any]) -> tuple[Any, ...]:
    row = conn.execute(
        "SELECT current_user::text, current_setting('request.jwt.claims', true), current_setting('role'), auth.uid()"
    ).fetchone()
    assert row is not None
    return tuple(row)


def test_no_role_or_claim_survives_on_the_pooled_connection(supa: Supa, supa_schema: str) -> None:
    empty_schema(supa.superuser, supa_schema)
    with _single_pool(supa.admin) as pool:
        memory = Memory(pool, schema=supa_schema)
        a = memory.with_auth(AuthContext.user(USER_A))
        thread = a.create_thread(USER_A, title="mine")
        with pool.connection() as conn:  # the very connection the operation used (max_size=1)
            assert _session_state(conn) == ("mm_supabase_admin", "", "none", None)
        with pytest.raises(PermissionDeniedError):
            memory.with_auth(AuthContext.user(USER_B)).save_thread(thread.id, USER_A, title="x")
        with pool.connection() as conn:
            assert _session_state(conn) == ("mm_supabase_admin", "", "none", None)
        assert [t.id for t in a.list_threads().threads] == [thread.id]


async def test_no_role_or_claim_survives_on_the_pooled_async_connection(supa: Supa, supa_schema: str) -> None:
    empty_schema(supa.superuser, supa_schema)
    pool: psycopg_pool.AsyncConnectionPool[Any] = psycopg_pool.AsyncConnectionPool(
        supa.admin,
        kwargs={"autocommit": True},
        configure=configure_async_connection,
        min_size=1,
        max_size=1,
        open=False,
    )
    async with pool:
        a = AsyncMemory(pool, schema=supa_schema).with_auth(AuthContext.user(USER_A))
        await a.create_thread(USER_A)
        async with pool.connection() as conn:
            cur = await conn.execute("SELECT current_user::text, current_setting('request.jwt.claims', true)")
            assert await cur.fetchone() == ("mm_supabase_admin", "")


def test_a_session_level_legacy_claim_cannot_override_the_context(supa: Supa, supa_schema: str) -> None:
    # auth.uid() reads request.jwt.claim.sub before request.jwt.claims: a stale session value
    # (set by other code on a shared connection) must not turn A into B.
    empty_schema(supa.superuser, supa_schema)
    with _single_pool(supa.admin) as pool:
        memory = Memory(pool, schema=supa_schema)
        memory.with_auth(AuthContext.user(USER_B)).create_thread(USER_B, title="B's")
        with pool.connection() as conn:
            conn.execute("SELECT set_config('request.jwt.claim.sub', %s, false)", (USER_B,))
        assert memory.with_auth(AuthContext.user(USER_A)).list_threads().threads == []


def test_a_login_that_may_not_switch_roles_fails_closed(supa: Supa, supa_schema: str) -> None:
    with _single_pool(supa.outsider) as pool:
        with pytest.raises(AuthError, match="may not act as"):
            Memory(pool, schema=supa_schema).with_auth(AuthContext.user(USER_A)).list_threads()
        with pool.connection() as conn:  # and nothing was left open
            assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE


class _CallerPool:
    """A pool handing out one connection on which the caller has a transaction open."""

    max_size = 1  # read by the dead-connection check wrapped around a caller's pool

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection[Any]]:
        yield self.conn


def test_acting_inside_a_callers_open_transaction_is_refused(supa: Supa, supa_schema: str) -> None:
    with psycopg.connect(supa.admin) as conn:  # not autocommit: the first statement opens a transaction
        conn.execute("SELECT 1")
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS
        memory = Memory(_CallerPool(conn), schema=supa_schema)  # type: ignore[arg-type]
        with pytest.raises(AuthError, match="outside any transaction"):
            memory.with_auth(AuthContext.user(USER_A)).list_threads()
        assert conn.execute("SELECT current_user::text").fetchone() == ("mm_supabase_admin",)


def test_a_view_leaves_the_pool_open_when_closed(supa: Supa, supa_schema: str) -> None:
    memory = Memory.connect(supa.admin, schema=supa_schema, migrate=False, min_size=0, max_size=1)
    try:
        with memory.with_auth(AuthContext.user(USER_A)) as view:
            view.list_threads()
        assert memory.list_threads() is not None  # the owner's pool still works
    finally:
        memory.close()


def test_through_pgbouncer_the_next_client_finds_no_role_or_claim(supa: Supa, supa_schema: str, pgbouncer: str) -> None:
    # PgBouncer in transaction mode with one server connection: whatever an operation left on it,
    # the next client (a different client connection) would inherit.
    empty_schema(supa.superuser, supa_schema)
    memory = Memory.connect(pgbouncer, schema=supa_schema, migrate=False, prepare=False, min_size=1, max_size=2)
    try:
        a = memory.with_auth(AuthContext.user(USER_A))
        thread = a.create_thread(USER_A, title="mine")
        assert [t.id for t in a.list_threads().threads] == [thread.id]
        with psycopg.connect(pgbouncer, autocommit=True, prepare_threshold=None) as other:
            assert _session_state(other) == ("mm_supabase_admin", "", "none", None)
            assert other.execute("SELECT count(*) FROM pg_prepared_statements").fetchone() == (0,)
        assert memory.with_auth(AuthContext.user(USER_B)).list_threads().threads == []
    finally:
        memory.close()


def test_recall_with_an_embedder_the_migration_did_not_prepare_fails_closed(supa: Supa, supa_schema: str) -> None:
    # Users may not create tables: a 256-d embedder on a schema migrated for 384-d vectors is refused
    # (typed), instead of silently creating anything or falling back to the login's rights.
    empty_schema(supa.superuser, supa_schema)
    with _single_pool(supa.admin) as pool:
        memory = Memory(pool, schema=supa_schema, config=MemoryConfig(semantic_recall=True), embedder=HashEmbedder(256))
        a = memory.with_auth(AuthContext.user(USER_A))
        thread = a.create_thread(USER_A)
        with pytest.raises(PermissionDeniedError, match="permission denied"):
            a.context(thread.id, USER_A, query="anything")
        with psycopg.connect(supa.superuser) as conn:
            made = conn.execute("SELECT to_regclass(%s)", (f'"{supa_schema}".memory_messages_256',)).fetchone()
        assert made == (None,)
