"""The generated Supabase migration: applies (twice) on the emulated Supabase database, and carries
RLS, policies, grants and function settings as promised."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from mastra_memory import InvalidInputError, Memory
from mastra_memory.storage._migrations import latest_version
from mastra_memory.supabase import supabase_migration

from ..support import drop_schema, fresh_schema
from .conftest import DIMENSION, Supa, apply_migration


def _rows(dsn: str, query: str, *params: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(dsn) as conn:
        return conn.execute(query, params).fetchall()  # type: ignore[arg-type]


def test_the_migration_applies_twice_and_migrate_then_has_nothing_to_do(supa: Supa) -> None:
    schema = fresh_schema()
    try:
        apply_migration(supa.admin, schema, dimension=DIMENSION)
        first = _rows(supa.superuser, "SELECT version FROM " + f'"{schema}".mastra_memory_migrations ORDER BY 1')
        apply_migration(supa.admin, schema, dimension=DIMENSION)
        assert _rows(supa.superuser, f'SELECT version FROM "{schema}".mastra_memory_migrations ORDER BY 1') == first
        assert first[-1] == (latest_version(),)
        # The app's own start-up migrate() (as the admin login) finds the schema up to date.
        with Memory.connect(supa.admin, schema=schema, migrate=False, min_size=0, max_size=1) as memory:
            assert memory.migrate() == []
    finally:
        drop_schema(supa.superuser, schema)


def test_policies_are_for_authenticated_and_read_the_subject_once_per_statement(supa: Supa, supa_schema: str) -> None:
    policies = _rows(
        supa.superuser,
        "SELECT tablename, policyname, roles::text[], coalesce(qual, '') || coalesce(with_check, '')"
        " FROM pg_policies WHERE schemaname = %s",
        supa_schema,
    )
    assert len(policies) >= 4 * 6 + 1
    for table, name, roles, expression in policies:
        assert roles == ["authenticated"], (table, name)
        # Never a bare per-row auth.jwt(): always the sub-select, which PostgreSQL runs once.
        assert expression.count("auth.jwt()") == expression.count("SELECT (auth.jwt()"), (table, name, expression)
    assert all("auth.jwt()" in e for t, _, _, e in policies if t in ("mastra_threads", "mastra_resources"))


def test_every_table_has_rls_and_anon_has_no_grant(supa: Supa, supa_schema: str) -> None:
    rows = _rows(
        supa.superuser,
        "SELECT c.relname, c.relrowsecurity, has_table_privilege('anon', c.oid, 'SELECT, INSERT, UPDATE, DELETE'),"
        " has_table_privilege('service_role', c.oid, 'SELECT')"
        " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relkind = 'r'",
        supa_schema,
    )
    expected = {"mastra_threads", "mastra_messages", "mastra_resources", f"memory_messages_{DIMENSION}"}
    assert {r[0] for r in rows} >= expected
    for table, rls, anon, service in rows:
        assert rls and not anon and service, table


def test_functions_have_an_empty_search_path_and_are_not_callable_by_anon(supa: Supa, supa_schema: str) -> None:
    rows = _rows(
        supa.superuser,
        "SELECT p.proname, p.prosecdef, p.proconfig, has_function_privilege('anon', p.oid, 'EXECUTE'),"
        " has_function_privilege('authenticated', p.oid, 'EXECUTE')"
        " FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = %s",
        supa_schema,
    )
    definers = {name for name, definer, *_ in rows if definer}
    # Only the ownership probes and the statistics trigger run as their owner.
    probes = {"mastra_memory_may_use_thread", "mastra_memory_may_use_message", "mastra_memory_recall_stats_sync"}
    assert definers == probes
    for name, _, config, anon, authenticated in rows:
        assert 'search_path=""' in (config or []), name
        assert not anon and authenticated, name
    search = [config for name, _, config, *_ in rows if name.startswith("mastra_memory_search_")]
    assert len(search) == 2 and all("hnsw.iterative_scan=relaxed_order" in c for c in search)


def test_without_a_dimension_there_is_no_vector_table_and_no_pgvector_statement() -> None:
    text = supabase_migration(dimension=None)
    assert "public\".\"memory_messages_" not in text and "CREATE EXTENSION" not in text
    assert "ENABLE ROW LEVEL SECURITY" in text


@pytest.mark.parametrize("dimension", [0, -1, 2001, 3.5, True, "384"])
def test_bad_dimensions_are_refused(dimension: Any) -> None:
    with pytest.raises(InvalidInputError, match="dimension"):
        supabase_migration(dimension=dimension)


def test_bad_schema_names_are_refused() -> None:
    with pytest.raises(InvalidInputError, match="schema"):
        supabase_migration(schema='x"; drop table y; --')


def test_the_migration_never_grants_to_anon() -> None:
    text = supabase_migration(membership=True).lower()
    assert "to anon" not in text and "to public" not in text
    assert "from public, anon" in text


def test_the_migration_applies_twice_in_public_too(supa: Supa) -> None:
    # The test database is our own, so its public schema is free to use.
    for _ in range(2):
        apply_migration(supa.admin, "public", dimension=1536, membership=True)
    rows = _rows(
        supa.superuser,
        "SELECT count(*) FILTER (WHERE c.relrowsecurity), count(*) FROM pg_class c"
        " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind = 'r'"
        " AND (c.relname LIKE 'mastra%%' OR c.relname = 'memory_messages')",
    )
    assert rows[0][0] == rows[0][1] >= 9  # the Mastra tables, ours, memory_messages (1536-d), members
