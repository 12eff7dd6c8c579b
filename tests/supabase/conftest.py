"""A Supabase-like database on the embedded PostgreSQL, and memories acting as its users.

``supa`` (session): a database of its own in the test server, with Supabase's API roles, the
``auth.*`` helpers and pgvector in ``extensions`` (``emulation.sql``), and ``mm_supabase_admin``,
a non-superuser login with BYPASSRLS that may become every API role, like Supabase's ``postgres``.
``supa_schema`` (module): a fresh schema with the generated migration applied by that login.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import psycopg_pool
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo

from mastra_memory import AsyncMemory, AuthContext, Memory, MemoryConfig
from mastra_memory._connect import configure_async_connection, configure_connection
from mastra_memory.embedding import HashEmbedder
from mastra_memory.supabase import supabase_migration

from ..support import drop_schema, fresh_schema

EMULATION = (Path(__file__).parent / "emulation.sql").read_text()
DIMENSION = 384
USER_A = "aaaaaaaa-0000-4000-8000-00000000000a"
USER_B = "bbbbbbbb-0000-4000-8000-00000000000b"


@dataclass(frozen=True)
class Supa:
    superuser: str  # DSN of the test database as the server's superuser
    admin: str  # as mm_supabase_admin (Supabase's "postgres": no superuser, BYPASSRLS)
    outsider: str  # as a login that is a member of no API role
    database: str


@pytest.fixture(scope="session")
def supa(pg_dsn: str) -> Iterator[Supa]:
    name = "mm_supa_" + uuid.uuid4().hex[:10]
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    superuser = make_conninfo(pg_dsn, dbname=name)
    with psycopg.connect(superuser, autocommit=True) as conn:
        conn.execute(EMULATION)  # type: ignore[arg-type]  # several statements, no parameters
        conn.execute(sql.SQL("GRANT CREATE ON DATABASE {} TO mm_supabase_admin").format(sql.Identifier(name)))
    yield Supa(
        superuser,
        make_conninfo(superuser, user="mm_supabase_admin"),
        make_conninfo(superuser, user="mm_supabase_outsider"),
        name,
    )
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def apply_migration(dsn: str, schema: str, **options: Any) -> None:
    """Apply the generated file the way ``supabase db push`` does: one batch, one transaction."""
    text = supabase_migration(schema=schema, **options)
    with psycopg.connect(dsn) as conn:  # not autocommit: the whole file is one transaction
        conn.execute(text)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def supa_schema(supa: Supa) -> Iterator[str]:
    schema = fresh_schema()
    apply_migration(supa.admin, schema, dimension=DIMENSION)
    yield schema
    drop_schema(supa.superuser, schema)


def recall_config() -> MemoryConfig:
    return MemoryConfig(semantic_recall=True)


@pytest.fixture(scope="module")
def admin_pool(supa: Supa) -> Iterator[psycopg_pool.ConnectionPool[Any]]:
    pool: psycopg_pool.ConnectionPool[Any] = psycopg_pool.ConnectionPool(
        supa.admin, kwargs={"autocommit": True}, configure=configure_connection, min_size=1, max_size=4, open=False
    )
    pool.open(wait=True)
    yield pool
    pool.close()


@pytest.fixture(scope="module")
async def admin_async_pool(supa: Supa) -> AsyncIterator[psycopg_pool.AsyncConnectionPool[Any]]:
    pool: psycopg_pool.AsyncConnectionPool[Any] = psycopg_pool.AsyncConnectionPool(
        supa.admin,
        kwargs={"autocommit": True},
        configure=configure_async_connection,
        min_size=1,
        max_size=4,
        open=False,
    )
    await pool.open(wait=True)
    yield pool
    await pool.close()


class Awaitably:
    """A sync Memory with the awaitable face of AsyncMemory, so one test body serves both."""

    def __init__(self, memory: Memory) -> None:
        self.memory = memory

    def with_auth(self, auth: AuthContext) -> Awaitably:
        return Awaitably(self.memory.with_auth(auth))

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.memory, name)
        if not callable(attr):
            return attr

        async def call(*args: Any, **kwargs: Any) -> Any:
            return attr(*args, **kwargs)

        return call


@pytest.fixture(params=["sync", "async"])
def flavour(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def memory_of(
    flavour: str,
    supa_schema: str,
    admin_pool: psycopg_pool.ConnectionPool[Any],
    admin_async_pool: psycopg_pool.AsyncConnectionPool[Any],
) -> Any:
    """Build a memory of this test's flavour on the migrated schema, for a given config."""

    def make(config: MemoryConfig | None = None, schema: str | None = None) -> Any:
        embedder = HashEmbedder(DIMENSION)
        config = config or recall_config()
        if flavour == "async":
            return AsyncMemory(admin_async_pool, schema=schema or supa_schema, config=config, embedder=embedder)
        return Awaitably(Memory(admin_pool, schema=schema or supa_schema, config=config, embedder=embedder))

    return make


@pytest.fixture(params=["sync", "async"])
async def base(
    request: pytest.FixtureRequest,
    supa_schema: str,
    admin_pool: psycopg_pool.ConnectionPool[Any],
    admin_async_pool: psycopg_pool.AsyncConnectionPool[Any],
) -> Any:
    """A memory on the migrated schema, not yet bound to anyone (bind it with ``with_auth``)."""
    embedder = HashEmbedder(DIMENSION)
    if request.param == "async":
        return AsyncMemory(admin_async_pool, schema=supa_schema, config=recall_config(), embedder=embedder)
    return Awaitably(Memory(admin_pool, schema=supa_schema, config=recall_config(), embedder=embedder))


def empty_schema(dsn: str, schema: str) -> None:
    """Remove every row (but the migration ledger) so each test starts from nothing."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        names = [
            r
            for (r,) in conn.execute(
                "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE n.nspname = %s AND c.relkind = 'r' AND c.relname <> 'mastra_memory_migrations'",
                (schema,),
            )
        ]
        if names:
            conn.execute(sql.SQL("TRUNCATE {}").format(sql.SQL(", ").join(sql.Identifier(schema, n) for n in names)))
