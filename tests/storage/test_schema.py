"""Our migrations create exactly Mastra's memory tables, coexist with Mastra's own DDL, and are safe to race."""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from mastra_memory import Memory
from mastra_memory.storage import latest_version
from tests.support import drop_schema, fresh_schema

REFERENCE = Path(__file__).resolve().parents[3] / "shared" / "reference" / "mastra_pg_schema.sql"
MEMORY_TABLES = ("mastra_threads", "mastra_messages", "mastra_resources", "mastra_observational_memory")


def _reference_text() -> str:
    if not REFERENCE.exists():
        pytest.skip(f"{REFERENCE} is not there (it lives in ../shared beside the checkout)")
    return REFERENCE.read_text()


def reference_columns() -> dict[str, list[tuple[str, str, str, str | None]]]:
    """(name, type, nullable, default) per memory table, parsed from @mastra/pg's pg_dump."""
    tables: dict[str, list[tuple[str, str, str, str | None]]] = {}
    for name, body in re.findall(r"CREATE TABLE public\.(\w+) \((.*?)\n\);", _reference_text(), re.S):
        if name not in MEMORY_TABLES:
            continue
        cols = []
        for line in body.strip().splitlines():
            m = re.match(r'\s*("?)([\w]+)\1 (.+?)(?: DEFAULT (.+?))?( NOT NULL)?,?$', line)
            assert m, line
            _, col, typ, default, notnull = m.groups()
            cols.append((col, typ, "NO" if notnull else "YES", default))
        tables[name] = cols
    assert set(tables) == set(MEMORY_TABLES)
    return tables


def reference_indexes() -> set[tuple[str, str]]:
    found = set()
    for name, table, definition in re.findall(
        r"CREATE (?:UNIQUE )?INDEX (\w+) ON public\.(\w+) USING (.+?);", _reference_text()
    ):
        if table in MEMORY_TABLES:
            found.add((name, f"{table} USING {definition}"))
    return found


def catalog_columns(conn: psycopg.Connection[Any], schema: str) -> dict[str, list[tuple[str, str, str, str | None]]]:
    rows = conn.execute(
        "SELECT table_name, column_name, data_type, is_nullable, column_default FROM information_schema.columns "
        "WHERE table_schema = %s AND table_name = ANY(%s) ORDER BY table_name, ordinal_position",
        (schema, list(MEMORY_TABLES)),
    ).fetchall()
    out: dict[str, list[tuple[str, str, str, str | None]]] = {}
    for table, col, typ, nullable, default in rows:
        out.setdefault(table, []).append((col, typ, nullable, default))
    return out


def catalog_indexes(conn: psycopg.Connection[Any], schema: str) -> set[tuple[str, str]]:
    rows = conn.execute(
        "SELECT indexname, tablename, indexdef FROM pg_indexes WHERE schemaname = %s AND tablename = ANY(%s)",
        (schema, list(MEMORY_TABLES)),
    ).fetchall()
    return {(name, f"{table} USING {definition.split(' USING ', 1)[1]}") for name, table, definition in rows}


@pytest.fixture
def schema(pg_dsn: str) -> Any:
    name = fresh_schema()
    yield name
    drop_schema(pg_dsn, name)


def test_migrated_tables_match_mastra_column_by_column(pg_dsn: str, schema: str) -> None:
    with Memory.connect(pg_dsn, schema=schema) as memory:
        assert memory.schema == schema
    with psycopg.connect(pg_dsn) as conn:
        ours = catalog_columns(conn, schema)
    expected = reference_columns()
    for table, columns in expected.items():
        got = [(c, t, n, d) for c, t, n, d in ours[table]]
        want = [
            (c, t.replace("timestamp without time zone", "timestamp without time zone"), n, d) for c, t, n, d in columns
        ]
        assert got == want, f"{table} differs from @mastra/pg"


def test_mastra_indexes_exist_under_mastras_names(pg_dsn: str) -> None:
    # In public, index names are exactly Mastra's; this test uses its own database schema "public"
    # of a scratch database so it cannot collide with other tests.
    with psycopg.connect(pg_dsn, autocommit=True) as admin:
        admin.execute("DROP DATABASE IF EXISTS mm_index_names")
        admin.execute("CREATE DATABASE mm_index_names")
    dsn = psycopg.conninfo.make_conninfo(pg_dsn, dbname="mm_index_names")
    try:
        with Memory.connect(dsn):
            pass
        with psycopg.connect(dsn) as conn:
            ours = catalog_indexes(conn, "public")
        assert reference_indexes() <= ours
        extra = {name for name, _ in ours - reference_indexes()}
        assert all(name.endswith("_pkey") or name.startswith("mastra_memory_") for name in extra), extra
    finally:
        with psycopg.connect(pg_dsn, autocommit=True) as admin:
            admin.execute("DROP DATABASE IF EXISTS mm_index_names WITH (FORCE)")


def mastra_ddl_for(schema: str) -> list[str]:
    """Mastra's own CREATE TABLE / PRIMARY KEY / CREATE INDEX statements for the memory tables, moved to ``schema``."""
    text = _reference_text()
    statements = []
    for name, body in re.findall(r"CREATE TABLE public\.(\w+) \((.*?)\n\);", text, re.S):
        if name in MEMORY_TABLES:
            statements.append(f'CREATE TABLE "{schema}".{name} ({body}\n)')
    for table, constraint in re.findall(
        r"ALTER TABLE ONLY public\.(\w+)\n\s+(ADD CONSTRAINT \w+ PRIMARY KEY \(\w+\));", text
    ):
        if table in MEMORY_TABLES:
            statements.append(f'ALTER TABLE ONLY "{schema}".{table} {constraint}')
    for name, table, definition in re.findall(r"CREATE INDEX (\w+) ON public\.(\w+) USING (.+?);", text):
        if table in MEMORY_TABLES:
            prefixed = name if name == "idx_om_lookup_key" else f"{schema}_{name}"  # as @mastra/pg names them
            statements.append(f'CREATE INDEX "{prefixed}" ON "{schema}".{table} USING {definition}')
    return statements


def test_migrating_after_mastra_init_changes_nothing_of_mastras(pg_dsn: str, schema: str) -> None:
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        for statement in mastra_ddl_for(schema):
            conn.execute(statement)  # type: ignore[arg-type]
        before_cols, before_idx = catalog_columns(conn, schema), catalog_indexes(conn, schema)
        conn.execute(
            sql.SQL(
                "INSERT INTO {}.mastra_threads VALUES ('t1', 'r1', 'kept', NULL, now(), now(), now(), now())"
            ).format(sql.Identifier(schema))
        )
    with Memory.connect(pg_dsn, schema=schema) as memory:
        assert memory.get_thread("t1") is not None
    with psycopg.connect(pg_dsn) as conn:
        assert catalog_columns(conn, schema) == before_cols
        after_idx = catalog_indexes(conn, schema)
    assert before_idx <= after_idx
    assert {name for name, _ in after_idx - before_idx} == {"mastra_memory_messages_resource_idx"}


def test_migrate_is_idempotent_and_recorded(pg_dsn: str, schema: str) -> None:
    with Memory.connect(pg_dsn, schema=schema, migrate=False) as memory:
        assert memory.migrate() == list(range(1, latest_version() + 1))
        assert memory.migrate() == []
    with psycopg.connect(pg_dsn) as conn:
        versions = conn.execute(
            sql.SQL("SELECT version FROM {} ORDER BY 1").format(sql.Identifier(schema, "mastra_memory_migrations"))
        ).fetchall()
    assert [v for (v,) in versions] == list(range(1, latest_version() + 1))


def test_concurrent_migrations_take_turns(pg_dsn: str, schema: str) -> None:
    errors: list[BaseException] = []
    applied: list[list[int]] = []
    start = threading.Barrier(6)

    def run() -> None:
        try:
            with Memory.connect(pg_dsn, schema=schema, migrate=False, min_size=0, max_size=1) as memory:
                start.wait()
                applied.append(memory.migrate())
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    workers = [threading.Thread(target=run) for _ in range(6)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert errors == []
    assert sorted(applied, key=len) == [[]] * 5 + [list(range(1, latest_version() + 1))]


def test_migrates_into_a_quoted_schema_name(pg_dsn: str) -> None:
    schema = "MixedCase_" + fresh_schema()
    try:
        with Memory.connect(pg_dsn, schema=schema) as memory:
            thread = memory.create_thread("r1")
            assert memory.get_thread(thread.id) == thread
    finally:
        drop_schema(pg_dsn, schema)


def test_non_vector_tables_migrate_without_pgvector(pg15_dsn: str) -> None:
    schema = fresh_schema()
    try:
        with psycopg.connect(pg15_dsn) as conn:
            assert conn.execute("SELECT count(*) FROM pg_extension WHERE extname = 'vector'").fetchone() == (0,)
        with Memory.connect(pg15_dsn, schema=schema) as memory:
            assert memory.create_thread("r1").resource_id == "r1"
        with psycopg.connect(pg15_dsn) as conn:
            assert set(catalog_columns(conn, schema)) == set(MEMORY_TABLES)
    finally:
        drop_schema(pg15_dsn, schema)
