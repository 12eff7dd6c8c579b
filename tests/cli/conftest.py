"""Fixtures for the CLI tests: run ``main()`` in-process on a fresh schema of the test server."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from mastra_memory import Memory, MemoryConfig
from mastra_memory.cli import main
from tests.support import drop_schema, fresh_schema


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


Cli = Callable[..., Result]


@pytest.fixture
def schema(pg_dsn: str) -> Iterator[str]:
    name = fresh_schema()
    yield name
    drop_schema(pg_dsn, name)


@pytest.fixture
def cli(pg_dsn: str, schema: str, capsys: pytest.CaptureFixture[str]) -> Cli:
    """``cli("threads", "list", "--json")``: the command on this test's schema, as a user types it."""

    def run(*args: str, dsn: str | None = pg_dsn, on_schema: bool = True) -> Result:
        capsys.readouterr()
        argv = list(args)
        if on_schema:
            argv += ["--schema", schema]
        if dsn is not None:
            argv += ["--dsn", dsn]
        code = main(argv)
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


@pytest.fixture
def memory(pg_dsn: str, schema: str) -> Iterator[Memory]:
    """A plain Memory on the test's schema, to set up data and check what commands did."""
    with Memory.connect(pg_dsn, schema=schema, config=MemoryConfig(), min_size=0, max_size=2) as m:
        yield m
