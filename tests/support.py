"""Helpers for tests (schemas per test); fixtures are in conftest.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, TypeVar

import psycopg

ROOT = Path(__file__).resolve().parents[1]
S = TypeVar("S", bound=HTTPServer)


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


def send_json(handler: BaseHTTPRequestHandler, status: int, payload: Any) -> None:
    """Answer a fake HTTP server's request with ``payload`` as a JSON body."""
    raw = json.dumps(payload).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(raw)))
    handler.end_headers()
    handler.wfile.write(raw)


@contextmanager
def serving(server: S) -> Iterator[S]:
    """Run a fake HTTP server (an OpenAI-compatible API, say) on a daemon thread for a test."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
