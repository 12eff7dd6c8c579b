"""Helpers for tests (schemas per test); fixtures are in conftest.py."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]


def fresh_schema() -> str:
    return "t_" + uuid.uuid4().hex[:16]


def drop_schema(dsn: str, schema: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(psycopg.sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(psycopg.sql.Identifier(schema)))


def run_example(name: str, home: Path, timeout: float = 180) -> str:
    """Run ``docs/examples/<name>`` as a user would (its own embedded server under ``home``,
    wiped afterwards) and return its output; a failing run fails the test with its stderr."""
    from mastra_memory.embedded import EmbeddedPostgres

    result = subprocess.run(
        [sys.executable, str(ROOT / "docs" / "examples" / name)],
        capture_output=True,
        text=True,
        env={**os.environ, "MASTRA_MEMORY_HOME": str(home)},
        timeout=timeout,
    )
    EmbeddedPostgres(home / "pgdata").wipe()
    assert result.returncode == 0, result.stderr
    return result.stdout
