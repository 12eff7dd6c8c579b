"""Observational memory runs on both servers: ``mem_factory`` here is the root one, parametrized
over PostgreSQL 18 (embedded, pgvector) and the machine's PostgreSQL 15 as well (its SQL needs
no extension), like the storage suite's ``mem`` fixture."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.conftest import MemoryFactory, make_memory
from tests.support import drop_schema, fresh_schema


@pytest.fixture(params=["pg18", "pg15"])
async def mem_factory(request: pytest.FixtureRequest, flavour: str, pg_dsn: str, _resources: None) -> AsyncIterator[
    MemoryFactory
]:
    dsn = request.getfixturevalue("pg15_dsn") if request.param == "pg15" else pg_dsn
    made: list[str] = []

    async def factory(schema: str | None = None, **kwargs: Any) -> Any:
        name = schema or fresh_schema()
        made.append(name)
        return await make_memory(flavour, dsn, name, **kwargs)

    factory.dsn = dsn  # type: ignore[attr-defined]  # tests that also need raw SQL on the same server
    yield factory
    for name in made:
        drop_schema(dsn, name)
