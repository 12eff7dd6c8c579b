"""The CLI's Supabase commands end to end: `sql --supabase` output applies, `doctor` judges it."""

from __future__ import annotations

import json
import subprocess
import sys

import psycopg

from ..support import drop_schema, fresh_schema
from .conftest import Supa


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from mastra_memory.cli import main; raise SystemExit(main())", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_sql_supabase_applies_twice_and_doctor_passes_it(supa: Supa) -> None:
    schema = fresh_schema()
    try:
        made = cli("sql", "--supabase", "--dim", "256", "--schema", schema, "--membership")
        assert made.returncode == 0, made.stderr
        assert "ENABLE ROW LEVEL SECURITY" in made.stdout and "memory_messages_256" in made.stdout
        for _ in range(2):
            with psycopg.connect(supa.admin) as conn:
                conn.execute(made.stdout)  # type: ignore[arg-type]  # a migration file: many statements
        checked = cli("doctor", "--dsn", supa.admin, "--schema", schema, "--json")
        assert checked.returncode == 0, checked.stdout + checked.stderr
        report = json.loads(checked.stdout)
        assert report["ok"] is True
        names = {c["name"] for c in report["checks"]}
        assert {"table mastra_memory_members", "table memory_messages_256", "pgvector iterative scan"} <= names
    finally:
        drop_schema(supa.superuser, schema)


def test_doctor_fails_on_a_schema_without_the_migration(supa: Supa) -> None:
    checked = cli("doctor", "--dsn", supa.admin, "--schema", "nothing_here", "--json")
    assert checked.returncode != 0
    report = json.loads(checked.stdout)
    assert report["ok"] is False and any(c["name"] == "tables" and c["ok"] is False for c in report["checks"])
