"""Persist turns and read history: throughput, latency and SQL statements per call.

The workload mirrors ../shared/peers/mastra/bench.mjs: N messages in 100 threads of one resource,
saved as turns (a user message and an assistant reply, explicit createdAt, type "text"), then
200 reads of a random thread's last 20 messages. Statements are counted on the client (every
execute) and write transactions on the server (transaction ids consumed: each committed write
transaction takes exactly one), so the one-round-trip, one-commit claim is checked, not assumed.

    python bench/turns.py                 # embedded PostgreSQL in a temporary directory
    python bench/turns.py --dsn postgresql://...  --n 10000 --json
    python bench/turns.py --recall hash384   # embed + write vectors on save, like Mastra's bench

With --json the last line is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import datetime, timedelta, timezone
from typing import Any

import psycopg
import psycopg_pool
from _common import database, summary

from mastra_memory import Memory, MemoryConfig, Message, SemanticRecall
from mastra_memory._connect import configure_connection
from mastra_memory.embedding import HashEmbedder, LocalEmbedder

TOPICS = [
    "paris travel flight hotel museum louvre metro booking luggage passport",
    "pasta recipe tomato basil garlic olive oil oven dinner sauce",
    "python code bug error stack trace function import module test",
    "postgres index query vector table schema migration database backup",
    "running marathon training shoes pace heart rate recovery stretch",
    "garden tomatoes soil compost watering seeds sunlight pests harvest",
    "budget savings mortgage interest rate loan bank invoice taxes",
    "guitar chords practice song tuning strings amplifier rhythm melody",
    "dog puppy vet vaccine walk leash food training treats",
    "weather rain forecast umbrella storm temperature wind snow sunny",
]
FILLER = [
    "the",
    "a",
    "to",
    "and",
    "of",
    "i",
    "you",
    "it",
    "is",
    "for",
    "on",
    "with",
    "can",
    "my",
    "please",
    "what",
    "how",
    "about",
    "this",
    "that",
    "next",
    "week",
    "help",
    "need",
]


class Rng:
    """mulberry32, the generator the Mastra peer bench uses, so both write the same kind of text."""

    def __init__(self, seed: int) -> None:
        self.a = seed & 0xFFFFFFFF

    def __call__(self) -> float:
        self.a = (self.a + 0x6D2B79F5) & 0xFFFFFFFF
        t = self.a
        t = ((t ^ (t >> 15)) * (1 | t)) & 0xFFFFFFFF
        t = (t + (((t ^ (t >> 7)) * (61 | t)) & 0xFFFFFFFF)) & 0xFFFFFFFF ^ t
        return ((t ^ (t >> 14)) & 0xFFFFFFFF) / 4294967296


class CountingCursor(psycopg.Cursor[Any]):
    statements = 0

    def execute(self, *args: Any, **kwargs: Any) -> Any:
        CountingCursor.statements += 1
        return super().execute(*args, **kwargs)


def sentence(rng: Rng, topic: list[str], words: int) -> str:
    return " ".join(
        topic[int(rng() * len(topic))] if rng() < 0.55 else FILLER[int(rng() * len(FILLER))] for _ in range(words)
    )


def next_xid(dsn: str) -> int:
    """The next transaction id: every committed write transaction consumes exactly one."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute("SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint").fetchone()
    assert row is not None
    return int(row[0])


def run(dsn: str, n: int, threads: int, calls: int, seed: int, recall: str | None = None) -> dict[str, Any]:
    rng = Rng(seed)
    schema = f"bench_{os.getpid()}"
    pool = psycopg_pool.ConnectionPool(
        dsn,
        kwargs={"autocommit": True, "cursor_factory": CountingCursor},
        min_size=1,
        max_size=2,
        configure=configure_connection,
        open=True,
    )
    config, embedder = None, None
    if recall is not None:  # embed on save and write vectors, as Mastra's bench does
        config = MemoryConfig(last_messages=20, semantic_recall=SemanticRecall(top_k=5, message_range=2))
        embedder = HashEmbedder(384) if recall == "hash384" else LocalEmbedder()
    memory = Memory(pool, schema=schema, config=config, embedder=embedder)
    memory.migrate()
    thread_ids = [f"bench-thread-{t:04d}" for t in range(threads)]
    for tid in thread_ids:
        memory.create_thread("bench-user", thread_id=tid)
    base = datetime(2025, 1, 1, tzinfo=timezone.utc)
    seq = 0

    def message(role: str, tid: str, text: str) -> Message:
        nonlocal seq
        seq += 1
        return Message.of(
            role,
            text,
            id=f"bm-{seq:07d}",
            thread_id=tid,
            resource_id="bench-user",  # type: ignore[arg-type]
            created_at=base + timedelta(seconds=seq),
        )

    turns = []
    for _ in range(n // 2 // threads):
        for t, tid in enumerate(thread_ids):
            topic = TOPICS[t % len(TOPICS)].split()
            turns.append(
                [
                    message("user", tid, sentence(rng, topic, 8 + int(rng() * 10)) + "?"),
                    message("assistant", tid, sentence(rng, topic, 20 + int(rng() * 25)) + "."),
                ]
            )
    for turn in turns:
        for m in turn:
            m.type = "text"

    x0, s0 = next_xid(dsn), CountingCursor.statements
    save_ms = []
    t_start = time.perf_counter()
    for turn in turns:
        t = time.perf_counter()
        memory.save_messages(turn)
        save_ms.append((time.perf_counter() - t) * 1000)
    elapsed = time.perf_counter() - t_start
    save_statements = (CountingCursor.statements - s0) / len(turns)
    save_transactions = (next_xid(dsn) - x0) / len(turns)

    recall_ms = []
    returned = 0
    s1 = CountingCursor.statements
    for _ in range(calls):
        tid = thread_ids[int(rng() * threads)]
        t = time.perf_counter()
        page = memory.recall(tid, resource_id="bench-user", last_messages=20)
        recall_ms.append((time.perf_counter() - t) * 1000)
        returned += len(page.messages)
    recall_statements = (CountingCursor.statements - s1) / calls

    with pool.connection() as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
    pool.close()
    return {
        "n_messages": n,
        "threads": threads,
        "recall": recall,
        "save": {
            **summary(save_ms),
            "messages_per_second": round(n / elapsed, 1),
            "sql_statements_per_call": round(save_statements, 2),
            "write_transactions_per_call": round(save_transactions, 2),
        },
        "recall_last_20": {
            **summary(recall_ms),
            "avg_messages_returned": round(returned / calls, 2),
            "sql_statements_per_call": round(recall_statements, 2),
        },
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dsn", help="PostgreSQL DSN (default: an embedded server in a temporary directory)")
    parser.add_argument("--n", type=int, default=10_000, help="messages to save (default 10000)")
    parser.add_argument("--threads", type=int, default=100)
    parser.add_argument("--calls", type=int, default=200, help="history reads (default 200)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--recall",
        choices=["hash384", "local"],
        help="semantic recall on: embed on save and write vectors (hash384 = the embedder of Mastra's bench)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    args = parser.parse_args()
    if args.n % (2 * args.threads):
        parser.error("--n must be a multiple of 2 * --threads")
    with database(args.dsn) as dsn:
        result = run(dsn, args.n, args.threads, args.calls, args.seed, args.recall)
    s, r = result["save"], result["recall_last_20"]
    print(
        f"save turn (2 messages): {s['messages_per_second']} msg/s, p50 {s['p50_ms']} ms, p95 {s['p95_ms']} ms, "
        f"{s['sql_statements_per_call']} statement(s) and {s['write_transactions_per_call']} write transaction(s)"
        " per call",
        file=sys.stderr,
    )
    print(
        f"recall last 20: p50 {r['p50_ms']} ms, p95 {r['p95_ms']} ms, {r['sql_statements_per_call']} statement(s) "
        f"per call, {r['avg_messages_returned']} messages returned",
        file=sys.stderr,
    )
    if args.json:
        print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
