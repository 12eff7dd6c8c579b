"""mastra-memory side by side with its peers: one workload, one server, one run, with ratios.

The peers: this library (``Memory`` and ``AsyncMemory``); langchain-postgres'
``PostgresChatMessageHistory`` (sync and async); LlamaIndex's ``PostgresChatStore`` from
llama-index-storage-chat-store-postgres (sync and async); and Mastra itself (``@mastra/memory`` +
``@mastra/pg``, the npm packages, run by Node through bench/compare_mastra.mjs). Each gets its own
database on the same PostgreSQL server.

From a fresh clone:

    python -m venv .venv && .venv/bin/pip install -e ".[bench]"   # the library + the Python peers
    (cd tests/interop && npm ci)                                 # Mastra's pinned npm packages (Node >= 20)
    .venv/bin/python bench/compare.py                           # embedded PostgreSQL in a temp dir
    .venv/bin/python bench/compare.py --dsn postgresql://… --json

A default run takes 30 to 35 s on a quiet 2-core machine, and up to 3 minutes when the machine is loaded.

A peer that cannot run here (Node missing, a package not installed) is named with the reason, and
the others go on.

Workload (deterministic, seed 42), per peer:
- seed 20 "read" threads and 20 "conversation" threads of 200 messages each (one resource);
- **append a turn** (a user message and an assistant reply) to a conversation thread, round robin;
- **read the last 20 messages** of a random read thread of 200 (LangChain and LlamaIndex have no
  "last N" read: they fetch the whole history and the bench keeps its last 20).
Peers are interleaved: each of 50 rounds runs a block of 10 appends for every peer, then a block of
10 reads, in an order rotated every round, so machine load falls on all of them alike. Latency is taken
around the library call (in Node for Mastra); messages/s = messages / time inside the calls.

Then **semantic recall** on a few thousand messages (30 threads of 100, one resource), with the
same deterministic 384-d embedder on both sides (mastra_memory.embedding.HashEmbedder and its JS
twin tests/interop/embedder.mjs): our ``context(query=…)`` (vectors only, as Mastra; and hybrid,
our default) against Mastra's ``recall({vectorSearchString, perPage: 0})``, top 5, ±2 neighbours,
200 distinct queries in blocks of 10. Mastra twice: the instance that saved the messages, and a
second instance on the same data (as after a restart), which behaves differently (see the docs).

**Statements and round trips** are counted in a separate, untimed pass through a small proxy on
a Unix socket (bench/compare_proxy.py) that reads the wire protocol, the same way for every driver:
a statement is one CommandComplete from the server (BEGIN and COMMIT count); a round trip is the
client sending again after the server answered. Write transactions are the transaction ids consumed,
so they are exact only on a server nothing else writes to (the default embedded one).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

import psycopg
from _common import database, summary
from compare_mastra import Mastra, MastraRecall, MastraRecallSecond, Node
from compare_peers import (
    Db,
    LangChain,
    LangChainAsync,
    LlamaIndex,
    LlamaIndexAsync,
    Msg,
    Ours,
    OursAsync,
    OursRecall,
    OursRecallHybrid,
    Peer,
    Turn,
)
from compare_proxy import CountingProxy
from psycopg import sql
from turns import TOPICS, Rng, next_xid, sentence

BASE = datetime(2025, 1, 1, tzinfo=timezone.utc)
PEERS: list[type[Peer]] = [Ours, OursAsync, LangChain, LangChainAsync, LlamaIndex, LlamaIndexAsync, Mastra]


class Text:
    """Messages like those of Mastra's peer bench (turns.py's generator), ids and times in sequence."""

    def __init__(self, seed: int) -> None:
        self.rng = Rng(seed)
        self.seq = 0

    def msg(self, tid: str, role: str, text: str) -> Msg:
        self.seq += 1
        return Msg(f"m-{self.seq:07d}", tid, role, text, BASE + timedelta(seconds=self.seq))

    def turn(self, tid: str, t: int) -> Turn:
        topic = TOPICS[t % len(TOPICS)].split()
        user = sentence(self.rng, topic, 8 + int(self.rng() * 10)) + "?"
        assistant = sentence(self.rng, topic, 20 + int(self.rng() * 25)) + "."
        return self.msg(tid, "user", user), self.msg(tid, "assistant", assistant)

    def thread(self, tid: str, t: int, messages: int) -> list[Msg]:
        return [m for _ in range(messages // 2) for m in self.turn(tid, t)]


class Workload:
    """Every message of the history phase, made up front from one seed: all peers get the same text."""

    def __init__(self, seed: int, threads: int, history: int, rounds: int, ops: int) -> None:
        text = Text(seed)
        self.read_threads = {f"read-{t:03d}": text.thread(f"read-{t:03d}", t, history) for t in range(threads)}
        self.conv_threads = {f"conv-{t:03d}": text.thread(f"conv-{t:03d}", t, history) for t in range(threads)}
        conv = list(self.conv_threads)

        def turn(i: int) -> Turn:  # the i-th appended turn: round robin over the conversations
            return text.turn(conv[i % len(conv)], i % len(conv))

        self.warmup = [turn(i) for i in range(10)]
        self.appends = [[turn(r * ops + i) for i in range(ops)] for r in range(rounds)]
        self.counted = [turn(i) for i in range(40)]
        reads = list(self.read_threads)
        self.reads = [[reads[int(text.rng() * len(reads))] for _ in range(ops)] for _ in range(rounds)]

    def seed(self) -> dict[str, list[Msg]]:
        return {**self.read_threads, **self.conv_threads}


CREATED: list[str] = []  # databases this run made, dropped at the end


def db_name(peer: type[Peer]) -> str:
    return f"cmp_{peer.key.replace('-', '_')}"


def recreate(dsn: str, name: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    CREATED.append(name)


def drop_created(dsn: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        for name in dict.fromkeys(CREATED):
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def counted(
    peer_cls: type[Peer],
    dsn: str,
    db: str,
    proxy: CountingProxy,
    ops: dict[str, Callable[[Peer], int]],
    prime: Callable[[Peer], object] | None = None,
) -> dict[str, dict[str, Any]]:
    """Statements, round trips and write transactions per operation, through the proxy (untimed).

    A fresh instance of the peer connects through the proxy. ``prime`` first does what the timed
    instance did before it was measured; each op runs once unmeasured, so connection set-up and
    first-use queries stay out of the counts.
    """
    peer = peer_cls()
    peer.open(Db.of(dsn, db, host=proxy.host, port=proxy.port))
    out = {}
    try:
        if prime is not None:
            prime(peer)
        for name, op in ops.items():
            op(peer)
            before, xid = proxy.snapshot(), next_xid(dsn)
            n = op(peer)
            seen, xids = proxy.snapshot().minus(before), next_xid(dsn) - xid
            out[name] = {
                "statements": round(seen.statements / n, 2),
                "round_trips": round(seen.round_trips / n, 2),
                "write_transactions": round(xids / n, 2),
                "statement_kinds": {k: round(v / n, 2) for k, v in sorted(seen.tags.items())},
            }
    finally:
        peer.close()
    return out


def append_op(turns: Iterator[Turn], n: int = 10) -> Callable[[Peer], int]:
    def op(peer: Peer) -> int:
        peer.append([next(turns) for _ in range(n)])
        return n

    return op


def read_op(thread_ids: list[str]) -> Callable[[Peer], int]:
    def op(peer: Peer) -> int:
        peer.read(thread_ids)
        return len(thread_ids)

    return op


def search_op(calls: list[tuple[str, str]]) -> Callable[[Peer], int]:
    def op(peer: Peer) -> int:
        return len(peer.search(calls)[0])

    return op


def history_phase(
    dsn: str, peers: list[type[Peer]], wl: Workload, proxy: CountingProxy, skipped: dict[str, str]
) -> dict[str, Any]:
    results: dict[str, Any] = {}
    live: dict[str, Peer] = {}
    for cls in list(peers):
        db = db_name(cls)
        recreate(dsn, db)
        peer = cls()
        t = time.perf_counter()
        try:
            peer.open(Db.of(dsn, db))
            peer.create(wl.seed())
            peer.append(wl.warmup)
            peer.read(list(wl.read_threads)[:10])
        except Exception as exc:  # a peer that cannot run here is reported, and the others go on
            skipped[cls.key] = f"failed to set up: {exc!r}"[:500]
            log(f"  skipping {cls.label}: {skipped[cls.key]}")
            peers.remove(cls)
            continue
        live[cls.key] = peer
        log(f"  {cls.label}: seeded {len(wl.seed())} threads in {time.perf_counter() - t:.1f} s")
    append_ms: dict[str, list[float]] = {k: [] for k in live}
    read_ms: dict[str, list[float]] = {k: [] for k in live}
    returned = dict.fromkeys(live, 0)
    keys = list(live)
    for r, (turns, reads) in enumerate(zip(wl.appends, wl.reads, strict=True)):
        order = keys[r % len(keys) :] + keys[: r % len(keys)]
        for k in order:
            append_ms[k] += live[k].append(turns)
        for k in order:
            ms, n = live[k].read(reads)
            read_ms[k] += ms
            returned[k] += n
        if (r + 1) % 10 == 0 or r + 1 == len(wl.appends):
            log(f"  round {r + 1}/{len(wl.appends)} done")
    for k, peer in live.items():
        peer.close()
        turns_n = len(append_ms[k])
        results[k] = {
            "label": peer.label,
            "append_turn": {
                **summary(append_ms[k]),
                "messages_per_second": round(2 * turns_n / sum(append_ms[k]) * 1000, 1),
            },
            "read_last_20": {**summary(read_ms[k]), "avg_messages_returned": round(returned[k] / len(read_ms[k]), 2)},
        }
        if isinstance(peer, Mastra):  # Node's own count on the timed instance, a cross-check of the proxy's
            for op in ("append_turn", "read_last_20"):
                results[k][op]["node_pg_queries_per_call"] = peer.queries_per_call(op)
    log("  counting statements and round trips (untimed, through the proxy)")
    for cls in peers:
        ops = {"append_turn": append_op(iter(wl.counted)), "read_last_20": read_op(list(wl.read_threads)[:10])}
        for op, counts in counted(cls, dsn, db_name(cls), proxy, ops).items():
            results[cls.key][op].update(counts)
    return results


def recall_phase(dsn: str, n: int, calls: int, rounds: int, seed: int, proxy: CountingProxy) -> dict[str, Any]:
    text, per_thread = Text(seed + 1), 100
    threads = {f"sem-{t:03d}": text.thread(f"sem-{t:03d}", t, per_thread) for t in range(max(1, n // per_thread))}
    queries: dict[str, None] = {}  # distinct, so Mastra's embedding cache never hits; in drawing order
    while len(queries) < calls * rounds + 20:
        queries[sentence(text.rng, TOPICS[int(text.rng() * len(TOPICS))].split(), 6)] = None
    tids = list(threads)
    plan = [(tids[int(text.rng() * len(tids))], q) for q in queries]
    peers: list[type[Any]] = [OursRecall, OursRecallHybrid]
    if Mastra.node is not None:
        peers += [MastraRecall, MastraRecallSecond]
    # The second peer of each pair reads the first one's database.
    owner = {OursRecallHybrid: OursRecall, MastraRecallSecond: MastraRecall}
    dbs = {OursRecall: "cmp_recall_ours", MastraRecall: "cmp_recall_mastra"}
    live: dict[str, Any] = {}
    for cls in peers:
        peer, db = cls(), dbs[owner.get(cls, cls)]
        if cls not in owner:
            recreate(dsn, db)
        peer.open(Db.of(dsn, db))
        if cls not in owner:
            t = time.perf_counter()
            peer.create(threads)
            log(f"  {cls.label}: saved {n} messages with vectors in {time.perf_counter() - t:.1f} s")
        peer.append([text.turn(tids[0], 0)])  # a live agent saves as well as recalls
        live[cls.key] = peer
    for name in {dbs[owner.get(cls, cls)] for cls in peers}:  # fresh statistics, so the planner sees the loaded tables
        with psycopg.connect(Db.of(dsn, name).conninfo, autocommit=True) as conn:
            conn.execute("ANALYZE")
    for peer in live.values():
        peer.search(plan[-20:-10])  # warm-up
    ms: dict[str, list[float]] = {k: [] for k in live}
    returned = dict.fromkeys(live, 0)
    keys = list(live)
    for r in range(rounds):
        block = plan[r * calls : (r + 1) * calls]
        for k in keys[r % len(keys) :] + keys[: r % len(keys)]:
            got, m = live[k].search(block)
            ms[k] += got
            returned[k] += m
    results: dict[str, Any] = {}
    for k, peer in live.items():
        peer.close()
        results[k] = {
            "label": peer.label,
            "messages": n,
            "search": {**summary(ms[k]), "avg_messages_returned": round(returned[k] / len(ms[k]), 2)},
        }
        if isinstance(peer, Mastra):
            results[k]["search"]["node_pg_queries_per_call"] = peer.queries_per_call("search")
    for cls in peers:
        if cls is MastraRecall:
            # A fresh instance through the proxy would behave like MastraRecallSecond, so this one's
            # statements are Node's count on the timed instance. node-postgres sends one query per
            # round trip; the proxy's and Node's counts agree on every other Mastra operation.
            q = results[cls.key]["search"]["node_pg_queries_per_call"]
            results[cls.key]["search"].update(statements=q, round_trips=q, counted_by="node pg.Client#query")
            continue
        ops = {"search": search_op(plan[-10:])}
        counts = counted(
            cls, dsn, dbs[owner.get(cls, cls)], proxy, ops, prime=append_op(iter([text.turn(tids[0], 0)]), 1)
        )
        results[cls.key]["search"].update(counts["search"])
    return results


def log(*args: Any) -> None:
    print(*args, file=sys.stderr, flush=True)


def versions() -> dict[str, str]:
    out = {}
    for dist in (
        "mastra-memory",
        "langchain-postgres",
        "langchain-core",
        "llama-index-storage-chat-store-postgres",
        "llama-index-core",
        "psycopg",
        "asyncpg",
        "SQLAlchemy",
    ):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "not installed"
    return out


def times(a: float, b: float) -> str:
    """``a / b`` as "2.5x": how many times more (or slower) ``a`` is than ``b``."""
    return f"{a / b:.1f}x" if b else "-"


def table(title: str, header: list[str], rows: list[list[Any]]) -> None:
    cells = [header, *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    log(f"\n{title}")
    for row in cells:
        log("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))))


def report(result: dict[str, Any]) -> None:
    """The tables, on stderr: each figure, then the ratio of each peer to mastra-memory."""
    if result.get("history"):
        report_history(result["history"], result["config"]["history"])
    if result.get("recall"):
        report_recall(result["recall"])
    for key, why in result["skipped"].items():
        log(f"\nskipped {key}: {why}")


def report_history(hist: dict[str, Any], history: int) -> None:
    ours = hist.get("ours")
    rows = []
    for r in hist.values():
        a = r["append_turn"]
        row = [r["label"], a["messages_per_second"], a["p50_ms"], a["p95_ms"]]
        row += [a.get(k, "-") for k in ("statements", "round_trips", "write_transactions")]
        if ours:
            o = ours["append_turn"]
            row += [
                times(o["messages_per_second"], a["messages_per_second"]),
                times(a["p50_ms"], o["p50_ms"]),
                times(a["p95_ms"], o["p95_ms"]),
            ]
        rows.append(row)
    ratios = ["Memory msg/s ÷ peer", "peer p50 ÷ Memory", "p95 ÷"] if ours else []
    table(
        f"Append a turn (user + assistant) to a conversation of {history}+ messages:",
        ["peer", "msg/s", "p50 ms", "p95 ms", "statements", "round trips", "write xacts", *ratios],
        rows,
    )
    rows = []
    for r in hist.values():
        a = r["read_last_20"]
        row = [r["label"], a["p50_ms"], a["p95_ms"], a["avg_messages_returned"]]
        row += [a.get(k, "-") for k in ("statements", "round_trips")]
        if ours:
            o = ours["read_last_20"]
            row += [times(a["p50_ms"], o["p50_ms"]), times(a["p95_ms"], o["p95_ms"])]
        rows.append(row)
    table(
        f"Read the last 20 messages of a thread of {history}:",
        ["peer", "p50 ms", "p95 ms", "messages", "statements", "round trips", *ratios[1:]],
        rows,
    )


def report_recall(rec: dict[str, Any]) -> None:
    base = rec["ours-recall"]["search"]
    rows = []
    for r in rec.values():
        s = r["search"]
        row = [r["label"], s["p50_ms"], s["p95_ms"], s["avg_messages_returned"]]
        row += [s.get(k, "-") for k in ("statements", "round_trips")]
        rows.append([*row, times(s["p50_ms"], base["p50_ms"]), times(s["p95_ms"], base["p95_ms"])])
    table(
        f"Semantic recall over {rec['ours-recall']['messages']} messages (top 5, ±2 neighbours, resource scope):",
        ["peer", "p50 ms", "p95 ms", "messages", "statements", "round trips", "p50 ÷ ours", "p95 ÷"],
        rows,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--dsn",
        help="PostgreSQL server (default: an embedded server in a temporary directory); "
        "needs CREATEDB: every peer gets a cmp_* database, dropped and re-created",
    )
    parser.add_argument(
        "--peers",
        default=",".join(p.key for p in PEERS),
        help="comma-separated subset of: " + ", ".join(p.key for p in PEERS),
    )
    parser.add_argument("--threads", type=int, default=20, help="read threads, and conversation threads (default 20)")
    parser.add_argument("--history", type=int, default=200, help="messages per seeded thread (default 200)")
    parser.add_argument(
        "--rounds", type=int, default=50, help="rounds of interleaved blocks (default 50; 0 skips appends and reads)"
    )
    parser.add_argument("--ops", type=int, default=10, help="appends, and reads, per peer per round (default 10)")
    parser.add_argument("--recall-messages", type=int, default=3000, help="0 skips semantic recall (default 3000)")
    parser.add_argument(
        "--recall-calls", type=int, default=200, help="recall calls per peer, in blocks of 10 (default 200)"
    )
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--keep", action="store_true", help="keep the cmp_* databases (default: dropped at the end)")
    parser.add_argument(
        "--mastra-dir",
        type=Path,
        default=Mastra.root,
        help="folder whose node_modules holds @mastra/* (default tests/interop) and that has embedder.mjs",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object with every figure as the last line")
    args = parser.parse_args()

    wanted = set(args.peers.split(","))
    Mastra.root = args.mastra_dir
    peers, skipped = [], {}
    for cls in PEERS:
        if cls.key in wanted:
            why = cls.missing()
            if why:
                skipped[cls.key] = why
                log(f"skipping {cls.label}: {why}")
            else:
                peers.append(cls)
    t0, load0 = time.perf_counter(), os.getloadavg()
    wl = Workload(args.seed, args.threads, args.history, args.rounds, args.ops)
    config = {k: getattr(args, k) for k in ("threads", "history", "rounds", "ops", "recall_messages", "recall_calls")}
    result: dict[str, Any] = {"config": config, "skipped": skipped}
    with database(args.dsn) as dsn:
        proxy = CountingProxy(dsn)
        try:
            if Mastra in peers:  # one Node process for every Mastra stack of the run
                Mastra.node = Node(Mastra.root)
            if args.rounds:
                log("append and read history:")
                result["history"] = history_phase(dsn, peers, wl, proxy, skipped)
            if Mastra.node is not None and Mastra not in peers:  # it failed: no Mastra in recall either
                Mastra.node.close()
                Mastra.node = None
            if args.recall_messages:
                log("semantic recall:")
                result["recall"] = recall_phase(
                    dsn, args.recall_messages, 10, -(-args.recall_calls // 10), args.seed, proxy
                )
            with psycopg.connect(dsn) as conn:
                row = conn.execute("SELECT current_setting('server_version'), current_setting('synchronous_commit')")
                server = row.fetchone()
        finally:
            proxy.close()
            if Mastra.node is not None:
                result["mastra_versions"] = Mastra.node.info
                Mastra.node.close()
            if not args.keep:
                drop_created(dsn)
    result["machine"] = {
        "postgres": server[0] if server else None,
        "synchronous_commit": server[1] if server else None,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "loadavg_start": [round(x, 2) for x in load0],
        "loadavg_end": [round(x, 2) for x in os.getloadavg()],
        "seconds": round(time.perf_counter() - t0, 1),
    }
    result["versions"] = versions()
    report(result)
    log(f"\nmachine: {result['machine']}\nversions: {result['versions']} {result.get('mastra_versions', '')}")
    if args.json:
        print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
