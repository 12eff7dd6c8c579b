"""``doctor``: a clean verdict on the migrated schema, and a precise one on each thing broken."""

from __future__ import annotations

import psycopg
import pytest
from psycopg import sql

from mastra_memory import InvalidInputError
from mastra_memory.supabase import DoctorCheck, doctor

from ..support import drop_schema, fresh_schema
from .conftest import DIMENSION, Supa, apply_migration


def _verdicts(checks: list[DoctorCheck]) -> dict[str, bool | None]:
    return {c.name: c.ok for c in checks}


def test_a_migrated_schema_passes_every_check(supa: Supa, supa_schema: str) -> None:
    checks = doctor(supa.admin, schema=supa_schema)
    assert [c for c in checks if c.ok is False] == []
    verdicts = _verdicts(checks)
    assert verdicts["pgvector iterative scan"] is True
    assert verdicts["recall search functions"] is True
    assert verdicts[f"table memory_messages_{DIMENSION}"] is True
    assert verdicts["roles"] is True and verdicts["auth"] is True
    assert all(c.detail for c in checks)


def test_each_weakness_is_reported_with_its_fix(supa: Supa) -> None:
    schema = fresh_schema()
    try:
        apply_migration(supa.admin, schema, dimension=DIMENSION)
        s = sql.Identifier(schema)
        with psycopg.connect(supa.superuser, autocommit=True) as conn:
            conn.execute(sql.SQL("ALTER TABLE {}.mastra_threads DISABLE ROW LEVEL SECURITY").format(s))
            conn.execute(sql.SQL("GRANT SELECT ON {}.mastra_resources TO anon").format(s))
            conn.execute(sql.SQL("DROP POLICY mastra_memory_messages_insert ON {}.mastra_messages").format(s))
            conn.execute(sql.SQL("ALTER FUNCTION {}.mastra_memory_raise(text, text) RESET search_path").format(s))
        verdicts = {c.name: c for c in doctor(supa.admin, schema=schema)}
        assert verdicts["table mastra_threads"].ok is False
        assert "enable row level security" in verdicts["table mastra_threads"].detail
        assert verdicts["table mastra_resources"].ok is False and "anon" in verdicts["table mastra_resources"].detail
        assert verdicts["table mastra_messages"].ok is False and "INSERT" in verdicts["table mastra_messages"].detail
        assert verdicts["function mastra_memory_raise"].ok is False
        assert verdicts["table mastra_observational_memory"].ok is True
    finally:
        drop_schema(supa.superuser, schema)


def test_a_schema_without_the_migration_is_reported(supa: Supa) -> None:
    verdicts = {c.name: c for c in doctor(supa.admin, schema="no_such_schema")}
    assert verdicts["tables"].ok is False and "mastra-memory sql --supabase" in verdicts["tables"].detail


def test_a_login_that_cannot_act_as_users_is_reported(supa: Supa, supa_schema: str) -> None:
    checks = doctor(supa.outsider, schema=supa_schema)
    assert _verdicts(checks)["roles"] is False, checks


def test_a_plain_postgres_is_not_taken_for_supabase(pg15_dsn: str) -> None:
    # PostgreSQL 15 on this machine has none of Supabase's roles (unless a test made them there).
    with psycopg.connect(pg15_dsn) as conn:
        has_roles = conn.execute("SELECT count(*) FROM pg_roles WHERE rolname = 'authenticated'").fetchone()
    if has_roles and has_roles[0]:
        pytest.skip("the PostgreSQL 15 server has Supabase's roles")
    assert _verdicts(doctor(pg15_dsn))["roles"] is False


def test_pooler_and_ssl_settings_are_judged_from_the_dsn() -> None:
    # Nothing listens on 127.0.0.1:6543 here; the DSN checks come first, then the connection fails.
    verdicts = {c.name: c for c in doctor("postgresql://postgres@127.0.0.1:6543/postgres?connect_timeout=2")}
    assert verdicts["pooler"].ok is True and verdicts["ssl"].ok is None
    assert verdicts["connection"].ok is False
    remote = {c.name: c for c in doctor("host=192.0.2.1 port=5432 user=x sslmode=prefer connect_timeout=1")}
    assert remote["ssl"].ok is False and "sslmode=require" in remote["ssl"].detail
    assert remote["pooler"].ok is None


def test_bad_input_is_refused() -> None:
    with pytest.raises(InvalidInputError):
        doctor("host=localhost", schema="bad name")
    with pytest.raises(InvalidInputError):
        doctor("not a dsn = = =")
