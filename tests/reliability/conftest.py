"""Hypothesis budgets for the reliability suite, and a private server for the fault tests.

``ci`` (the default) keeps the whole directory well under two minutes on a shared two-core
machine; ``deep`` (``HYPOTHESIS_PROFILE=deep``) searches much harder for a local run. No deadline:
every example talks to a real PostgreSQL, whose timing says nothing about correctness.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

from mastra_memory.embedded import EmbeddedPostgres

_COMMON = {
    "deadline": None,
    "derandomize": False,
    # The storage fixtures are per test, not per example: examples use fresh ids instead.
    "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
}
settings.register_profile("ci", max_examples=15, **_COMMON)  # type: ignore[arg-type]
settings.register_profile("deep", max_examples=400, **_COMMON)  # type: ignore[arg-type]
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="module")
def server() -> Iterator[EmbeddedPostgres]:
    """A private embedded PostgreSQL (one per test module) that tests may stop; each test leaves it running."""
    with tempfile.TemporaryDirectory(prefix="mastra-memory-private-") as tmp:
        pg = EmbeddedPostgres(os.path.join(tmp, "pgdata"))
        pg.start()
        yield pg
        pg.stop()
