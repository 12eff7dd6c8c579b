"""Fixtures for the interop tests: the real ``@mastra/memory`` + ``@mastra/pg``, run by Node.

- ``mastra``: runs one request through ``node tests/interop/mastra_cli.mjs`` against ``pg_dsn``
  and returns the op results (``await mastra(schema, [op(...), ...])``). A failed request raises
  :class:`MastraCallError` carrying Node's error document and stderr.
- ``schema``: a fresh schema name, dropped after the test (Mastra's 43 tables included).
- ``ours``: makes our ``AsyncMemory`` on a schema (migrating it), like ``mem_factory``.
- ``db``: raw SQL on the test database, in a given schema.

Without ``node`` on PATH or without ``tests/interop/node_modules`` the tests are skipped, saying
which is missing and how to fix it; with ``CI=true`` they error instead, so CI cannot pass
without running them.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from collections.abc import Awaitable, Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

import psycopg
import pytest
from psycopg import sql
from psycopg.rows import dict_row

from tests.support import drop_schema, fresh_schema

from . import Op

INTEROP_DIR = Path(__file__).resolve().parent
CLI = INTEROP_DIR / "mastra_cli.mjs"
NODE_MODULES = INTEROP_DIR / "node_modules"
INSTALL_HINT = "cd tests/interop && npm ci"
PACKAGES = ("@mastra/core", "@mastra/memory", "@mastra/pg", "pg")
CALL_TIMEOUT_S = 120.0


class MastraCallError(AssertionError):
    """A request to the Mastra runner failed; ``document`` is the runner's JSON output."""

    def __init__(self, message: str, document: dict[str, Any] | None, stderr: str) -> None:
        super().__init__(message)
        self.document = document
        self.stderr = stderr


class Mastra(Protocol):
    """``await mastra(schema, ops, memory_options=..., disable_init=..., embedder_dim=...)``."""

    def __call__(
        self,
        schema: str,
        ops: Sequence[Op],
        *,
        memory_options: dict[str, Any] | None = None,
        disable_init: bool | None = None,
        embedder_dim: int | None = None,
    ) -> Awaitable[list[Any]]: ...


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def missing_node_setup() -> str | None:
    """Why the Mastra runner cannot run here (and how to fix it), or None when it can."""
    if shutil.which("node") is None:
        return f"`node` is not on PATH: install Node.js (>= 20), then run `{INSTALL_HINT}`"
    if not NODE_MODULES.is_dir():
        return f"{NODE_MODULES} is missing: run `{INSTALL_HINT}` (needs npm)"
    lacking = [p for p in PACKAGES if not (NODE_MODULES / p / "package.json").is_file()]
    if lacking:
        return f"{NODE_MODULES} lacks {', '.join(lacking)}: run `{INSTALL_HINT}` (needs npm)"
    return None


def require_node_setup() -> str:
    """The path of ``node``; else skip (or, under ``CI=true``, fail) saying what is missing and how to fix it."""
    problem = missing_node_setup()
    if problem is not None:
        if _in_ci():
            pytest.fail(f"Mastra interop tests cannot run under CI=true: {problem}", pytrace=False)
        pytest.skip(f"Mastra interop tests skipped: {problem}")
    found = shutil.which("node")
    assert found is not None
    return found


@pytest.fixture(scope="session")
def node() -> str:
    """Path of ``node``, once ``tests/interop/node_modules`` is known to be installed."""
    return require_node_setup()


def _summary(doc: dict[str, Any] | None, code: int | None, stderr: str) -> str:
    if doc is None:
        return f"mastra_cli.mjs exited {code} without a JSON document; stderr:\n{stderr[-4000:]}"
    err = doc.get("error") or {}
    where = f"op {err.get('op')} ({err.get('opName')})" if err.get("op") is not None else "request"
    lines = [f"Mastra failed at {where}: {err.get('message')}"]
    for key in ("id", "code", "detail", "details"):
        if err.get(key) is not None:
            lines.append(f"  {key}: {json.dumps(err[key])}")
    cause = err.get("cause")
    while isinstance(cause, dict):
        lines.append(f"  cause: {cause.get('message')} (code {cause.get('code')})")
        cause = cause.get("cause")
    if err.get("stack"):
        lines.append(str(err["stack"]))
    return "\n".join(lines)


@pytest.fixture(scope="session")
def mastra(node: str, pg_dsn: str) -> Mastra:
    """Run ops through the real Mastra packages on ``pg_dsn``; returns one result per op."""

    async def call(
        schema: str,
        ops: Sequence[Op],
        *,
        memory_options: dict[str, Any] | None = None,
        disable_init: bool | None = None,
        embedder_dim: int | None = None,
    ) -> list[Any]:
        request: dict[str, Any] = {"dsn": pg_dsn, "schema": schema, "ops": list(ops)}
        if memory_options is not None:
            request["memoryOptions"] = memory_options
        if disable_init is not None:
            request["disableInit"] = disable_init
        if embedder_dim is not None:
            request["embedderDim"] = embedder_dim
        proc = await asyncio.create_subprocess_exec(
            node,
            str(CLI),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            cwd=str(INTEROP_DIR),
        )
        try:
            out, err = await asyncio.wait_for(proc.communicate(json.dumps(request).encode()), CALL_TIMEOUT_S)
        except asyncio.TimeoutError:
            proc.kill()
            await proc.wait()
            raise MastraCallError(f"mastra_cli.mjs did not finish within {CALL_TIMEOUT_S:.0f} s", None, "") from None
        stderr = err.decode(errors="replace")
        try:
            doc: dict[str, Any] | None = json.loads(out)
        except ValueError:
            doc = None
        if proc.returncode != 0 or doc is None or "error" in doc:
            raise MastraCallError(_summary(doc, proc.returncode, stderr), doc, stderr)
        results: list[Any] = doc["results"]
        return results

    return call


@pytest.fixture
def schema(pg_dsn: str) -> Iterator[str]:
    """A schema name no one uses yet; it is dropped, with whatever Mastra put there, after the test."""
    name = fresh_schema()
    try:
        yield name
    finally:
        drop_schema(pg_dsn, name)


@pytest.fixture
def flavour() -> str:
    """One shell is enough here: both run the same plans, and each Node process costs ~1 s."""
    return "async"


Ours = Callable[[str], Awaitable[Any]]


@pytest.fixture
def ours(mem_factory: Callable[..., Awaitable[Any]]) -> Ours:
    """``await ours(schema)``: our migrated ``AsyncMemory`` on that schema (dropped after the test)."""

    async def make(name: str) -> Any:
        return await mem_factory(name)

    return make


Db = Callable[..., Awaitable[list[dict[str, Any]]]]


@pytest.fixture
def db(pg_dsn: str) -> Db:
    """``await db(schema, "SELECT ...", params)``: rows (dicts) of one statement run in ``schema``."""

    async def run(schema_name: str, statement: str, params: Sequence[Any] | None = None) -> list[dict[str, Any]]:
        async with await psycopg.AsyncConnection.connect(pg_dsn, autocommit=True) as conn:
            await conn.execute(sql.SQL("SET search_path TO {}, public").format(sql.Identifier(schema_name)))
            async with conn.cursor(row_factory=dict_row) as cur:
                await cur.execute(statement.encode(), params)
                return await cur.fetchall() if cur.description is not None else []

    return run
