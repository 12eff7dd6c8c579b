"""A Supabase-like database on the embedded PostgreSQL, and memories acting as its users.

``supa`` (session): a database of its own in the test server, with Supabase's API roles, the
``auth.*`` helpers and pgvector in ``extensions`` (``emulation.sql``), and ``mm_supabase_admin``,
a non-superuser login with BYPASSRLS that may become every API role, like Supabase's ``postgres``.
``supa_schema`` (module): a fresh schema with the generated migration applied by that login.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import psycopg_pool
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

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
        # As on Supabase, the database (hence schema public, through pg_database_owner) is postgres's.
        conn.execute(sql.SQL("ALTER DATABASE {} OWNER TO mm_supabase_admin").format(sql.Identifier(name)))
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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pgbouncer_binary() -> str | None:
    found = shutil.which("pgbouncer")
    return found or next((p for p in ("/usr/sbin/pgbouncer", "/usr/bin/pgbouncer") if os.path.exists(p)), None)


@pytest.fixture(scope="session")
def pgbouncer(supa: Supa) -> Iterator[str]:
    """A real PgBouncer in transaction mode in front of the test database; yields its DSN.

    One server connection (``default_pool_size = 1``) serves every client, so any session state
    one operation left behind would reach the next one. Skipped only when PgBouncer is not
    installed (``apt-get install -y pgbouncer``; scripts/test.sh does it as root), failed under CI.
    """
    binary = pgbouncer_binary()
    if binary is None:
        message = "pgbouncer is not installed: run `apt-get install -y pgbouncer` (scripts/test.sh does as root)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    server = conninfo_to_dict(supa.admin)
    port = _free_port()
    with tempfile.TemporaryDirectory(prefix="mm-pgbouncer-") as tmp:
        os.chmod(tmp, 0o755)  # PgBouncer may run as another user (below)
        users = os.path.join(tmp, "users.txt")
        with open(users, "w") as f:
            f.write('"mm_supabase_admin" ""\n"postgres" ""\n')
        ini = os.path.join(tmp, "pgbouncer.ini")
        with open(ini, "w") as f:
            f.write(
                f"[databases]\n{supa.database} = host={server['host']} port={server.get('port') or 5432}"
                f" dbname={supa.database}\n"
                f"[pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
                f"auth_type = trust\nauth_file = {users}\npool_mode = transaction\ndefault_pool_size = 1\n"
                "max_client_conn = 100\nignore_startup_parameters = extra_float_digits\n"
            )
        for path in (users, ini):
            os.chmod(path, 0o644)
        # PgBouncer refuses to run as root; the embedded server runs as "pgserver" then, so do we.
        command = [binary, ini] + (["-u", "pgserver"] if os.geteuid() == 0 else [])
        log = open(os.path.join(tmp, "pgbouncer.log"), "w")  # noqa: SIM115 - closed below
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        dsn = make_conninfo(host="127.0.0.1", port=port, dbname=supa.database, user="mm_supabase_admin")
        try:
            deadline = time.monotonic() + 15
            while True:
                try:
                    with psycopg.connect(dsn, connect_timeout=2, prepare_threshold=None) as conn:
                        conn.execute("SELECT 1")
                    break
                except psycopg.OperationalError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        log.flush()
                        with open(os.path.join(tmp, "pgbouncer.log")) as f:
                            pytest.fail(f"pgbouncer did not start: {f.read()}")
                    time.sleep(0.1)
            yield dsn
        finally:
            process.terminate()
            process.wait(timeout=10)
            log.close()


@pytest.fixture(scope="module", params=["direct", "pgbouncer"])
def admin_dsn(request: pytest.FixtureRequest, supa: Supa) -> str:
    """The admin login, straight to PostgreSQL or through PgBouncer in transaction mode."""
    return str(request.getfixturevalue("pgbouncer")) if request.param == "pgbouncer" else supa.admin


def pool_kwargs() -> dict[str, Any]:
    # Prepared statements off: a transaction pooler cannot keep them (as on Supabase's port 6543).
    return {"autocommit": True, "prepare_threshold": None}


@pytest.fixture(scope="module")
def admin_pool(admin_dsn: str) -> Iterator[psycopg_pool.ConnectionPool[Any]]:
    pool: psycopg_pool.ConnectionPool[Any] = psycopg_pool.ConnectionPool(
        admin_dsn, kwargs=pool_kwargs(), configure=configure_connection, min_size=1, max_size=4, open=False
    )
    pool.open(wait=True)
    yield pool
    pool.close()


@pytest.fixture(scope="module")
async def admin_async_pool(admin_dsn: str) -> AsyncIterator[psycopg_pool.AsyncConnectionPool[Any]]:
    pool: psycopg_pool.AsyncConnectionPool[Any] = psycopg_pool.AsyncConnectionPool(
        admin_dsn,
        kwargs=pool_kwargs(),
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
