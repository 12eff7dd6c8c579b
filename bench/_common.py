"""What the bench scripts share: a database to run on, and latency percentiles."""

from __future__ import annotations

import os
import statistics
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

from mastra_memory.embedded import EmbeddedPostgres


@contextmanager
def database(dsn: str | None) -> Iterator[str]:
    """``dsn`` as given, or an embedded PostgreSQL in a temporary directory, stopped afterwards."""
    if dsn is not None:
        yield dsn
        return
    with tempfile.TemporaryDirectory() as tmp:
        server = EmbeddedPostgres(os.path.join(tmp, "pgdata"))
        try:
            yield server.start()
        finally:
            server.stop()


def pct(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank), as the Mastra peer bench computes it."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(-(-p * len(ordered) // 100)) - 1))]


def summary(latencies_ms: list[float]) -> dict[str, float]:
    return {
        "calls": len(latencies_ms),
        "p50_ms": round(pct(latencies_ms, 50), 3),
        "p95_ms": round(pct(latencies_ms, 95), 3),
        "mean_ms": round(statistics.fmean(latencies_ms), 3),
    }
