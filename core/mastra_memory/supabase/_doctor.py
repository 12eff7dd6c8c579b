"""``doctor``: read a database's catalog and say, item by item, whether memory is safe to serve there.

It changes nothing. Each :class:`DoctorCheck` has a verdict: ``True`` (fine), ``False`` (fix it:
the detail says how) or ``None`` (not applicable, or a warning worth reading).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict

from .._connect import needs_unprepared
from .._errors import InvalidInputError
from ..storage._tables import check_schema_name
from ._migration import EXTENSION_SCHEMA, MEMBERS_TABLE, MESSAGE_CHECK_FN, THREAD_CHECK_FN

__all__ = ["DoctorCheck", "doctor"]

_API_ROLES = ("anon", "authenticated", "service_role")
_MEMORY_TABLES = ("mastra_threads", "mastra_messages", "mastra_resources", "mastra_observational_memory")
_READ_ONLY = ("mastra_memory_recall_stats", MEMBERS_TABLE)  # users read these; a trigger or the service role writes
_NOT_USERS = ("mastra_memory_migrations",)
_DEFINERS = (THREAD_CHECK_FN, MESSAGE_CHECK_FN, "mastra_memory_recall_stats_sync")
_LOCAL_HOSTS = ("", "localhost", "127.0.0.1", "::1")
_ITERATIVE_SCAN = (0, 8, 0)


@dataclass(frozen=True, slots=True)
class DoctorCheck:
    """One verdict: ``ok`` is True (fine), False (must be fixed) or None (not applicable / warning)."""

    name: str
    ok: bool | None
    detail: str


def doctor(dsn: str, *, schema: str = "public") -> list[DoctorCheck]:
    """Check a (Supabase) database for memory: connection and pooler settings, the tables, RLS on
    every table, policies, grants, functions, pgvector and its iterative index scans.

    Connect with the role the application uses (on Supabase: ``postgres``). Nothing is changed.

    Raises:
        InvalidInputError: the DSN or schema name is malformed.
    """
    check_schema_name(schema)
    checks = _connection_settings(dsn)
    try:
        with psycopg.connect(dsn, autocommit=True, prepare_threshold=None, connect_timeout=10) as conn:
            _database(conn, schema, checks)
    except psycopg.OperationalError as exc:
        checks.append(DoctorCheck("connection", False, f"cannot connect: {str(exc).strip()}"))
    except psycopg.Error as exc:  # a catalog query this login may not run: report it, keep what we have
        checks.append(DoctorCheck("catalog", False, f"could not inspect the database: {str(exc).strip()}"))
    return checks


def _connection_settings(dsn: str) -> list[DoctorCheck]:
    try:
        info = conninfo_to_dict(dsn)
    except psycopg.ProgrammingError as exc:
        raise InvalidInputError(f"the database DSN is malformed: {exc}") from exc
    checks = []
    if needs_unprepared(dsn):
        checks.append(
            DoctorCheck(
                "pooler",
                True,
                "transaction pooler (port 6543): Memory.connect switches prepared statements off; every operation "
                "is one transaction with its own role and claims, so nothing depends on the session",
            )
        )
    else:
        checks.append(
            DoctorCheck(
                "pooler",
                None,
                "direct or session-mode connection: fine for a long-lived server; serverless functions should use "
                "the transaction pooler (port 6543) with prepare=False",
            )
        )
    hosts = str(info.get("host") or "").split(",")
    mode = str(info.get("sslmode") or "prefer")
    if all(h.strip() in _LOCAL_HOSTS or h.startswith("/") for h in hosts):
        checks.append(DoctorCheck("ssl", None, "a local connection: TLS not needed"))
    elif mode in ("require", "verify-ca", "verify-full"):
        checks.append(DoctorCheck("ssl", True, f"sslmode={mode}"))
    else:
        checks.append(
            DoctorCheck(
                "ssl", False, f"sslmode={mode} may fall back to plaintext; add sslmode=require (or verify-full)"
            )
        )
    return checks


def _one(conn: psycopg.Connection[Any], query: str, *params: Any) -> Any:
    row = conn.execute(query, params).fetchone()
    return None if row is None else row[0]


def _database(conn: psycopg.Connection[Any], schema: str, checks: list[DoctorCheck]) -> None:
    """Append the verdicts one by one, so a failing catalog query keeps the ones before it."""
    checks.append(DoctorCheck("connection", True, f"connected as {_one(conn, 'SELECT current_user::text')}"))
    roles = {r for (r,) in conn.execute("SELECT rolname FROM pg_roles WHERE rolname = ANY(%s)", (list(_API_ROLES),))}
    missing = [r for r in _API_ROLES if r not in roles]
    if missing:
        checks.append(DoctorCheck("roles", False, f"roles {missing} are missing: this is not a Supabase database"))
        return
    member = _one(conn, "SELECT pg_has_role(current_user, 'authenticated', 'MEMBER')")
    checks.append(
        DoctorCheck(
            "roles",
            bool(member),
            "this login may act as authenticated (memory.with_auth works)"
            if member
            else "this login is not a member of authenticated: with_auth() will fail closed; connect as postgres",
        )
    )
    has_auth = _one(
        conn,
        "SELECT EXISTS (SELECT 1 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
        " WHERE n.nspname = 'auth' AND p.proname = 'jwt')",
    )
    checks.append(
        DoctorCheck(
            "auth", bool(has_auth), "auth.jwt() exists" if has_auth else "auth.jwt() is missing (no Supabase Auth)"
        )
    )
    checks += _pgvector(conn)
    checks += _tables(conn, schema)
    checks += _functions(conn, schema)


def _pgvector(conn: psycopg.Connection[Any]) -> list[DoctorCheck]:
    row = conn.execute(
        "SELECT e.extversion, n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace"
        " WHERE e.extname = 'vector'"
    ).fetchone()
    if row is None:
        return [DoctorCheck("pgvector", None, "not installed: semantic recall is off (create extension vector)")]
    version, where = row
    parts = tuple(int(p) for p in str(version).split(".")[:3] if p.isdigit())
    iterative = parts >= _ITERATIVE_SCAN
    return [
        DoctorCheck("pgvector", True, f"version {version} in schema {where}"),
        DoctorCheck(
            "pgvector iterative scan",
            iterative,
            "hnsw.iterative_scan available: filtered (per-user) recall keeps scanning until it has k hits"
            if iterative
            else f"pgvector {version} lacks iterative index scans (0.8.0+): per-user recall can miss results; "
            "run `alter extension vector update`",
        ),
        DoctorCheck(
            "pgvector schema",
            True if where == EXTENSION_SCHEMA else None,
            f"in {where}"
            + ("" if where == EXTENSION_SCHEMA else f"; the generated migration expects {EXTENSION_SCHEMA}"),
        ),
    ]


def _tables(conn: psycopg.Connection[Any], schema: str) -> list[DoctorCheck]:
    rows = conn.execute(
        "SELECT c.relname, c.relrowsecurity,"
        " (SELECT array_agg(DISTINCT p.cmd) FROM pg_policies p WHERE p.schemaname = n.nspname"
        "  AND p.tablename = c.relname AND 'authenticated' = ANY(p.roles)),"
        " has_table_privilege('authenticated', c.oid, 'SELECT'),"
        " has_table_privilege('authenticated', c.oid, 'INSERT, UPDATE, DELETE'),"
        " has_table_privilege('service_role', c.oid, 'SELECT, INSERT, UPDATE, DELETE'),"
        " has_table_privilege('anon', c.oid, 'SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER')"
        " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = %s AND c.relkind IN ('r', 'p')"
        " AND (c.relname LIKE 'mastra\\_%%' OR c.relname LIKE 'memory\\_messages%%') ORDER BY c.relname",
        (schema,),
    ).fetchall()
    found = {r[0] for r in rows}
    missing = [t for t in _MEMORY_TABLES if t not in found]
    checks = [
        DoctorCheck(
            "tables",
            not missing,
            f"schema {schema}: {len(found)} memory tables"
            if not missing
            else f"schema {schema} lacks {missing}: apply the migration from `mastra-memory sql --supabase`",
        )
    ]
    for name, rls, commands, read, write, service, anon in rows:
        checks.append(_table_verdict(name, rls, set(commands or ()), read, write, service, anon))
    return checks


def _table_verdict(
    name: str, rls: bool, commands: set[str], read: bool, write: bool, service: bool, anon: bool
) -> DoctorCheck:
    """RLS on, the expected policies for authenticated, grants to authenticated/service_role, none to anon."""
    problems = []
    if not rls:
        problems.append(f"row-level security is off: alter table {name} enable row level security")
    if anon:
        problems.append("anon has privileges: revoke all on it from anon")
    if name in _NOT_USERS:
        expected_commands: set[str] = set()
        if read or write:
            problems.append("authenticated may use it; revoke all from authenticated")
    elif name in _READ_ONLY:
        expected_commands = {"SELECT"}
        if not read:
            problems.append("authenticated cannot read it: grant select")
    else:
        expected_commands = {"SELECT", "INSERT", "UPDATE", "DELETE"}
        if not (read and write):
            problems.append("authenticated lacks select/insert/update/delete: grant them")
        if not service:
            problems.append("service_role lacks select/insert/update/delete: grant them (BYPASSRLS is not a grant)")
    absent = expected_commands - commands
    if absent:
        problems.append(f"no policy to authenticated for {sorted(absent)}: users will see or write nothing")
    if problems:
        return DoctorCheck(f"table {name}", False, "; ".join(problems))
    return DoctorCheck(f"table {name}", True, "RLS on, policies and grants in place, nothing for anon")


def _functions(conn: psycopg.Connection[Any], schema: str) -> list[DoctorCheck]:
    rows = conn.execute(
        "SELECT p.proname, p.prosecdef, coalesce(p.proconfig, '{}'), has_function_privilege('anon', p.oid, 'EXECUTE')"
        " FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
        " WHERE n.nspname = %s AND p.proname LIKE 'mastra\\_memory\\_%%' ORDER BY p.proname",
        (schema,),
    ).fetchall()
    checks = []
    search = [config for name, _, config, _ in rows if name.startswith("mastra_memory_search_")]
    if search:
        iterative = all(any(c.startswith("hnsw.iterative_scan=") for c in config) for config in search)
        checks.append(
            DoctorCheck(
                "recall search functions",
                iterative,
                "set hnsw.iterative_scan themselves (works through the transaction pooler)"
                if iterative
                else "lack hnsw.iterative_scan: re-apply the migration",
            )
        )
    for name, definer, config, anon in rows:
        problems = []
        if 'search_path=""' not in config:
            problems.append("search_path is not pinned to '': re-apply the migration")
        if definer and name not in _DEFINERS:
            problems.append("SECURITY DEFINER: it would bypass row-level security")
        if anon:
            problems.append("anon may execute it: revoke execute from public, anon")
        checks.append(
            DoctorCheck(
                f"function {name}", not problems, "; ".join(problems) or "invoker rights or a known probe, pinned"
            )
        )
    return checks
