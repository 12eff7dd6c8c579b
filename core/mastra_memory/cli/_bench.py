"""``bench``: a short, built-in benchmark of an agent's three memory calls.

It measures what one agent turn costs: saving the turn (embedding included), reading the
newest history, and assembling the context with hybrid recall. It runs in a throwaway schema
(dropped afterwards) and counts SQL statements on the client, so the one-statement-per-call
design is shown, not claimed. bench/turns.py and bench/recall.py are the full benchmarks.
"""

from __future__ import annotations

import random
import statistics
import time
import uuid
from collections.abc import Callable
from functools import partial
from typing import Annotated, Any

import psycopg
import psycopg_pool
import typer
from psycopg import sql
from rich.table import Table

from .._config import MemoryConfig, SemanticRecall
from .._connect import configure_connection, connection_kwargs
from .._memory import Memory
from .._types import Message
from ..embedded import EmbeddedPostgres
from . import _common as c
from ._app import app

_SUBJECTS = ["my sister", "the landlord", "our team", "the dentist", "my neighbour", "the airline", "the bank"]
_VERBS = ["moved", "rescheduled", "cancelled", "confirmed", "asked about", "forgot", "paid for"]
_OBJECTS = ["the flight to Oslo", "the kitchen repair", "the quarterly report", "the violin lesson",
            "the vet appointment", "the tax return", "the birthday dinner", "the database upgrade"]
_WHEN = ["on Monday", "next week", "in March", "after lunch", "before the holidays", "tomorrow morning"]


def _sentence(rng: random.Random) -> str:
    return f"{rng.choice(_SUBJECTS)} {rng.choice(_VERBS)} {rng.choice(_OBJECTS)} {rng.choice(_WHEN)}."


class _CountingCursor(psycopg.Cursor[Any]):
    """Counts every statement a plan sends (the figure the benchmark reports per call)."""

    statements = 0

    def execute(self, *args: Any, **kwargs: Any) -> Any:
        _CountingCursor.statements += 1
        return super().execute(*args, **kwargs)


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


def _measure(label: str, calls: list[Callable[[], Any]], bar: Any) -> dict[str, Any]:
    task = bar.add_task(label, total=len(calls))
    latencies: list[float] = []
    before = _CountingCursor.statements
    start = time.perf_counter()
    for call in calls:
        t = time.perf_counter()
        call()
        latencies.append((time.perf_counter() - t) * 1000)
        bar.advance(task)
    elapsed = time.perf_counter() - start
    return {
        "operation": label,
        "calls": len(calls),
        "per_second": round(len(calls) / elapsed, 1) if elapsed else None,
        "p50_ms": round(_percentile(latencies, 50), 2),
        "p95_ms": round(_percentile(latencies, 95), 2),
        "mean_ms": round(statistics.fmean(latencies), 2),
        "statements_per_call": round((_CountingCursor.statements - before) / len(calls), 2),
    }


@app.command()
def bench(
    threads: Annotated[int, typer.Option(min=1, help="Threads of one resource.")] = 20,
    turns: Annotated[int, typer.Option(min=1, help="Turns (user + assistant message) per thread.")] = 10,
    reads: Annotated[int, typer.Option(min=1, help="History reads.")] = 200,
    contexts: Annotated[int, typer.Option(min=1, help="Context assemblies with recall.")] = 100,
    seed: Annotated[int, typer.Option(help="Seed of the generated conversation.")] = 7,
) -> None:
    """A short benchmark (well under a minute): save turns, read history, assemble context."""
    dsn = c.settings.dsn if c.settings.dsn is not None else EmbeddedPostgres().start()
    schema = c.settings.schema or f"mastra_memory_bench_{uuid.uuid4().hex[:8]}"
    rng = random.Random(seed)
    config = MemoryConfig(last_messages=20, semantic_recall=SemanticRecall(top_k=4, message_range=1))
    kwargs = {**connection_kwargs(dsn, None), "cursor_factory": _CountingCursor}
    pool = psycopg_pool.ConnectionPool(dsn, kwargs=kwargs, min_size=1, max_size=2, configure=configure_connection,
                                       open=False, name="mastra-memory-bench")
    pool.open(wait=True, timeout=30)
    results: list[dict[str, Any]] = []
    try:
        memory = Memory(pool, config=config, schema=schema)
        memory.migrate()
        memory.context("warm-up", "bench-user", query="load the embedder and the vector table")
        ids = [memory.create_thread("bench-user", title=f"bench {i}").id for i in range(threads)]

        def save(thread_id: str) -> Callable[[], Any]:
            pair = [Message.user(_sentence(rng), thread_id=thread_id),
                    Message.assistant(_sentence(rng), thread_id=thread_id)]
            return lambda: memory.save_messages(pair)

        with c.progress() as bar:
            results.append(_measure("save turn (2 messages, embedded)", [save(t) for _ in range(turns) for t in ids],
                                    bar))
            picks = [rng.choice(ids) for _ in range(reads)]
            results.append(_measure("read last 20 messages", [partial(memory.recall, t, last_messages=20)
                                                              for t in picks], bar))
            asks = [(rng.choice(ids), _sentence(rng)) for _ in range(contexts)]
            results.append(_measure("context (history + hybrid recall)",
                                    [partial(memory.context, t, "bench-user", query=q) for t, q in asks], bar))
    finally:
        if c.settings.schema is None:  # our throwaway schema; a schema the user named is left in place
            with pool.connection() as conn:
                conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
        pool.close()
    if c.settings.json:
        c.print_json({"threads": threads, "turns": turns, "embedder": "local (256-d)", "results": results})
        return
    table = Table("operation", "calls", "per second", "p50 ms", "p95 ms", "statements/call",
                  title=f"{c.where()}: {threads} threads x {turns} turns, offline 256-d embedder",
                  title_justify="left")
    for r in results:
        table.add_row(r["operation"], str(r["calls"]), str(r["per_second"]), str(r["p50_ms"]), str(r["p95_ms"]),
                      str(r["statements_per_call"]))
    c.out.print(table)
    c.out.print("[dim]Figures vary with the machine; bench/turns.py and bench/recall.py are the full benchmarks "
                "(docs/benchmarks.md).[/]")
