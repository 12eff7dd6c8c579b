"""Semantic and hybrid recall through ``Memory.context()``: latency, SQL statements, ANN accuracy.

Workload A (real text, the workload of ../shared/peers/mastra/bench.mjs): 10,000 messages in 100
threads of one resource, saved as turns through ``Memory.save_messages`` with semantic recall on
(so our save path embeds them and writes the vectors), then 200 ``context()`` calls, each with a
different thread and a distinct query, ``SemanticRecall(top_k=5, message_range=2,
scope="resource")``: vector only (``hybrid=False``, what Mastra does) and hybrid (the default),
each with ``last_messages=0`` (Mastra's ``perPage: 0``) and ``last_messages=20``.

Workload B (synthetic vectors, scale): ``--n`` messages (default 300,000; 1,000,000 takes about 20
minutes on 2 cores, 15 of them building the HNSW index) written straight
into a migrated schema with ``INSERT … SELECT generate_series`` (random unit vectors, Gaussian
then L2-normalised, ``--dim`` dimensions; metadata and text as our save path writes them),
spread over 100 resources: ``res-big`` holds 1 % of the rows, ``res-small`` 0.1 %, 98 others
share the rest, interleaved in time. The vector table's indexes are dropped before the load and
rebuilt after it under the same names (``maintenance_work_mem`` raised; build times reported).
Then ``context()`` in both resources with query vectors from ``SyntheticQueryEmbedder``, and the
search function ``context()`` calls (an exact scan for a small scope, HNSW with iterative scan for
a big one: ``storage._vectors.exact_search``) against an exact scan of the resource.

Statements are counted on the client (every ``execute``), as in bench/turns.py.

    python bench/recall.py                          # A and B on an embedded server in a temp dir
    python bench/recall.py --dsn postgresql://... --workload a --json
    python bench/recall.py --workload b --n 1000000 --keep   # keep the schema to re-measure (--reuse)
    python bench/recall.py --workload b --vectors clustered   # vectors around 1000 centroids

With --json the last line is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np
import psycopg
import psycopg_pool

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import database, summary
from turns import FILLER, TOPICS, CountingCursor, Rng, sentence

from mastra_memory import Memory, MemoryConfig, Message, SemanticRecall
from mastra_memory._connect import configure_connection
from mastra_memory.embedding import HashEmbedder, LocalEmbedder
from mastra_memory.storage._vectors import EXACT_SCAN_K, table_name

RESOURCE = "bench-user"
TOP_K, MESSAGE_RANGE = 5, 2
# Mastra's bench on this machine, this session (/tmp/mastra_run1.json, "recall_semantic" and
# "recall_semantic_plus_last20"): @mastra/memory 1.31.0, 384-d hashed bag-of-words embedder,
# same PostgreSQL 18.4 + pgvector 0.8.5 server. Override with --mastra-json.
MASTRA_SAME_MACHINE = {
    "semantic": {"p50_ms": 20.909, "p95_ms": 29.08, "sql_statements_per_call": 6},
    "semantic_plus_last20": {"p50_ms": 22.682, "p95_ms": 32.913, "sql_statements_per_call": 7},
}
TARGET_P50_10K_MS, TARGET_P95_1M_MS, TARGET_OVERLAP = 5.0, 20.0, 0.95


class SyntheticQueryEmbedder:
    """A stand-in embedder for workload B: ``embed_query`` returns the vector the bench set last.

    The stored vectors are synthetic (written by SQL), so queries are synthetic too: random unit
    vectors from the same distribution. Nothing here is a real embedding model.
    """

    def __init__(self, dimension: int) -> None:
        self._dimension = dimension
        self.vector = np.zeros(dimension, dtype=np.float32)
        self.vector[0] = 1.0

    @property
    def dimension(self) -> int:
        return self._dimension

    @property
    def model_id(self) -> str:
        return f"synthetic-query-{self._dimension}"

    def embed_documents(self, texts: Any) -> np.ndarray:
        return np.tile(self.vector, (len(texts), 1))

    def embed_query(self, text: str) -> np.ndarray:
        return self.vector


def unit_vectors(rng: np.random.Generator, count: int, dim: int) -> np.ndarray:
    v = rng.standard_normal((count, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def vector_text(v: np.ndarray) -> str:
    return "[" + ",".join(repr(float(x)) for x in v) + "]"


def counting_pool(dsn: str) -> psycopg_pool.ConnectionPool[Any]:
    return psycopg_pool.ConnectionPool(
        dsn,
        kwargs={"autocommit": True, "cursor_factory": CountingCursor, "prepare_threshold": 5},
        min_size=1,
        max_size=2,
        configure=configure_connection,
        open=True,
    )


def recall_config(hybrid: bool, last_messages: int = 20) -> MemoryConfig:
    return MemoryConfig(
        last_messages=last_messages,
        semantic_recall=SemanticRecall(top_k=TOP_K, message_range=MESSAGE_RANGE, scope="resource", hybrid=hybrid),
    )


def time_context(
    memory: Memory, calls: list[tuple[str, str, str]], last_messages: int, before: Any = None
) -> tuple[dict[str, Any], list[list[str]]]:
    """Time ``memory.context`` over ``(thread, resource, query)`` calls; hit ids per call."""
    latencies, returned, hits, ids = [], 0, 0, []
    s0 = CountingCursor.statements
    for i, (thread_id, resource_id, query) in enumerate(calls):
        if before is not None:
            before(i)
        t = time.perf_counter()
        ctx = memory.context(thread_id, resource_id, query=query, last_messages=last_messages)
        latencies.append((time.perf_counter() - t) * 1000)
        returned += len(ctx.diagnostics.sources)
        hits += len(ctx.hits)
        ids.append([h.message.id or "" for h in ctx.hits])
    statements = (CountingCursor.statements - s0) / len(calls)
    return {
        **summary(latencies),
        "sql_statements_per_call": round(statements, 2),
        "avg_hits": round(hits / len(calls), 2),
        "avg_messages_returned": round(returned / len(calls), 2),
    }, ids


# --------------------------------------------------------------------------- workload A


def workload_a(
    dsn: str, n: int, threads: int, calls: int, seed: int, embedder_name: str, agreement: int, keep: bool = False
) -> dict[str, Any]:
    rng = Rng(seed)
    schema = f"bench_recall_a_{os.getpid()}"
    pool = counting_pool(dsn)
    embedder = HashEmbedder(384) if embedder_name == "hash384" else LocalEmbedder()
    memory = Memory(pool, schema=schema, config=recall_config(hybrid=True), embedder=embedder)
    memory.migrate()
    thread_ids = [f"bench-thread-{t:04d}" for t in range(threads)]
    for tid in thread_ids:
        memory.create_thread(RESOURCE, thread_id=tid)
    base = datetime(2025, 1, 1, tzinfo=timezone.utc)
    turns = []
    for k in range(n // 2 // threads):
        for t, tid in enumerate(thread_ids):
            topic = TOPICS[t % len(TOPICS)].split()
            texts = [sentence(rng, topic, 8 + int(rng() * 10)) + "?", sentence(rng, topic, 20 + int(rng() * 25)) + "."]
            seq = 2 * (k * threads + t)
            turn = [
                Message.of(
                    role,
                    text,
                    id=f"bm-{seq + j:07d}",
                    thread_id=tid,
                    resource_id=RESOURCE,
                    created_at=base + timedelta(seconds=seq + j),
                )
                for j, (role, text) in enumerate((("user", texts[0]), ("assistant", texts[1])))
            ]
            for m in turn:
                m.type = "text"
            turns.append(turn)
    t0 = time.perf_counter()
    for turn in turns:
        memory.save_messages(turn)
    save_s = time.perf_counter() - t0
    with pool.connection() as conn:
        conn.execute(f'ANALYZE "{schema}".mastra_messages')
        conn.execute(f'ANALYZE "{schema}".memory_messages_{embedder.dimension}')
    print(f"A: saved {n} messages with vectors in {save_s:.1f} s ({n / save_s:.0f} msg/s)", file=sys.stderr)

    # Mastra's bench draws 200 distinct 6-word queries from random topics; its +last20 run appends " again".
    queries: list[str] = []
    while len(queries) < calls + 20:
        q = sentence(rng, TOPICS[int(rng() * len(TOPICS))].split(), 6)
        if q not in queries:
            queries.append(q)
    warm, queries = queries[calls:], queries[:calls]
    recall_threads = [thread_ids[int(rng() * threads)] for _ in range(calls)]

    t_embed = []
    for q in queries:
        t = time.perf_counter()
        embedder.embed_query(q)
        t_embed.append((time.perf_counter() - t) * 1000)
    result: dict[str, Any] = {
        "n_messages": n,
        "threads": threads,
        "embedder": embedder.model_id,
        "dimension": embedder.dimension,
        "save_messages_per_second": round(n / save_s, 1),
        "query_embedding": summary(t_embed),
    }
    for hybrid in (False, True):
        mem = Memory(pool, schema=schema, config=recall_config(hybrid), embedder=embedder)
        # Warm up: the vector-table lookup, and psycopg's server-side prepare after 5 uses per connection.
        for q in warm:
            mem.context(recall_threads[0], RESOURCE, query=q, last_messages=0)
            mem.context(recall_threads[0], RESOURCE, query=q + " again", last_messages=20)
        mode = "hybrid" if hybrid else "vector"
        for last, suffix in ((0, ""), (20, " again")):
            figures, ids = time_context(
                mem, [(t, RESOURCE, q + suffix) for t, q in zip(recall_threads, queries, strict=True)], last
            )
            result[f"{mode}_last{last}"] = figures
            if mode == "vector" and last == 0:
                vector_hits = ids
            print(f"A: {mode:6s} last_messages={last:2d}: {fmt(figures)}", file=sys.stderr)

    # The search function (HNSW, iterative scan) and context()'s hits against an exact scan, on real embeddings.
    table = table_name(embedder.dimension)
    vectors = np.stack([embedder.embed_query(q) for q in queries])
    exact = exact_top(dsn, schema, table, RESOURCE, vectors, TOP_K)
    result["vector_last0"]["hits_vs_exact_overlap"] = round(
        statistics.fmean(len(set(a) & set(b)) / TOP_K for a, b in zip(vector_hits, exact, strict=True)), 4
    )
    search_fn = f'"{schema}"."mastra_memory_search_{table}_resource"'
    result["ann_vs_exact"] = ann_agreement(dsn, schema, table, search_fn, RESOURCE, vectors[:agreement])
    print(
        f"A: context() vector hits vs exact top-5: {result['vector_last0']['hits_vs_exact_overlap']:.1%};"
        f" search function vs exact: {result['ann_vs_exact']}",
        file=sys.stderr,
    )
    if keep:
        result["schema"] = schema
    else:
        with pool.connection() as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
    pool.close()
    return result


# --------------------------------------------------------------------------- workload B

BIG, SMALL = "res-big", "res-small"


def load_sql(schema: str, table: str, dim: int, clustered: bool = False) -> list[str]:
    """Statements that fill the schema: threads, messages, then vectors (metadata as our save writes it).

    Row i (0-based) belongs to ``res-big`` if i % 1000 < 10 (1 %), to ``res-small`` if
    i % 1000 = 10 (0.1 %), else to one of 98 others. Threads: 100 per resource (10 for
    ``res-small``), by block of 1000 rows. Text: 8 to 27 words, 55 % from the row's topic.
    Vectors: Gaussian, L2-normalised; ``clustered``: one of 1000 random unit centroids plus Gaussian
    noise of norm about 1 (cosine to the centroid about 0.7), a rough stand-in for real embeddings.
    """
    noise = f"array(SELECT random_normal() FROM generate_series(1, {dim}) g WHERE length(m.id) > 0)::vector({dim})"
    vector, join, centroids = f"l2_normalize({noise})", "", []
    if clustered:
        vector = f"l2_normalize(c.v + l2_normalize({noise}))"
        join = f' JOIN "{schema}".bench_centroids c ON c.c = abs(hashtext(m.id)) %% 1000'
        centroids = [
            f'CREATE TABLE "{schema}".bench_centroids AS SELECT c,'
            f" l2_normalize(array(SELECT random_normal()"
            f" FROM generate_series(1, {dim}) g WHERE c >= 0)::vector({dim})) AS v FROM generate_series(0, 999) c"
        ]
    rows = (
        "SELECT i, r.rid, r.rid || '-t' || lpad(((i / 1000) %% r.nthreads)::text, 3, '0') AS tid,"
        " 'm-' || lpad(i::text, 8, '0') AS mid, CASE WHEN i %% 2 = 0 THEN 'user' ELSE 'assistant' END AS role,"
        " timestamp '2025-01-01' + make_interval(secs => i) AS created"
        " FROM generate_series(0, %(n)s - 1) i,"
        " LATERAL (SELECT CASE WHEN i %% 1000 < 10 THEN 'res-big' WHEN i %% 1000 = 10 THEN 'res-small'"
        "  ELSE 'res-' || lpad(((i %% 1000 - 11) %% 98)::text, 2, '0') END AS rid,"
        "  CASE WHEN i %% 1000 = 10 THEN 10 ELSE 100 END AS nthreads) r"
    )
    return [
        *centroids,
        f'INSERT INTO "{schema}".mastra_threads (id, "resourceId", title, metadata, "createdAt", "updatedAt",'
        f" \"createdAtZ\", \"updatedAtZ\") SELECT DISTINCT tid, rid, '', NULL::jsonb, timestamp '2025-01-01',"
        f" timestamp '2025-01-01', timestamptz '2025-01-01Z', timestamptz '2025-01-01Z' FROM ({rows}) x",
        f'INSERT INTO "{schema}".mastra_resources (id, "workingMemory", metadata, "createdAt", "updatedAt")'
        f" SELECT DISTINCT rid, NULL, NULL::jsonb, timestamp '2025-01-01', timestamp '2025-01-01' FROM ({rows}) x",
        f'INSERT INTO "{schema}".mastra_messages (id, thread_id, content, role, type, "createdAt", "resourceId",'
        ' "createdAtZ")'
        " SELECT x.mid, x.tid, jsonb_build_object('format', 2, 'parts', jsonb_build_array(jsonb_build_object("
        "  'type', 'text', 'text', w.txt)))::text, x.role, 'text', x.created, x.rid, x.created AT TIME ZONE 'UTC'"
        f" FROM ({rows}) x,"
        " LATERAL (SELECT string_to_array((%(topics)s::text[])[1 + x.i %% %(ntopics)s], ' ') AS tw) t,"
        " LATERAL (SELECT string_agg(CASE WHEN random() < 0.55 + 0 * g"
        "  THEN t.tw[1 + floor(random() * cardinality(t.tw))::int]"
        "  ELSE (%(filler)s::text[])[1 + floor(random() * cardinality(%(filler)s::text[]))::int] END, ' ') AS txt"
        "  FROM generate_series(1, 8 + x.i %% 20) g WHERE x.i >= 0) w",
        f'INSERT INTO "{schema}"."{table}" (vector_id, embedding, metadata)'
        f" SELECT m.id, {vector},"
        "  jsonb_build_object('message_id', m.id, 'thread_id', m.thread_id, 'resource_id', m.\"resourceId\","
        "  'role', m.role, 'content', m.content::jsonb->'parts'->0->>'text', 'created_at',"
        '  to_char(m."createdAtZ" AT TIME ZONE \'UTC\', \'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"\'))'
        f' FROM "{schema}".mastra_messages m{join} ORDER BY m."createdAt"',
    ]


def workload_b(
    dsn: str,
    n: int,
    dim: int,
    calls: int,
    agreement: int,
    seed: int,
    reuse: str | None,
    keep: bool,
    mwm: str,
    clustered: bool = False,
) -> dict[str, Any]:
    if n % 1000:
        raise SystemExit("--n must be a multiple of 1000")
    schema = reuse or f"bench_recall_b_{os.getpid()}"
    table = table_name(dim)
    search_fn = f'"{schema}"."mastra_memory_search_{table}_resource"'
    embedder = SyntheticQueryEmbedder(dim)
    pool = counting_pool(dsn)
    result: dict[str, Any] = {
        "n_messages": n,
        "dimension": dim,
        "vectors": "clustered (1000 centroids)" if clustered else "random unit (Gaussian, L2-normalised)",
    }
    setup = Memory(pool, schema=schema, config=recall_config(hybrid=False), embedder=embedder)
    if reuse is None:
        setup.migrate()
        setup.context("setup", "setup", query="creates the vector table, its indexes and search functions")
        topics = list(TOPICS)
        with psycopg.connect(dsn, autocommit=True) as conn:
            ext = conn.execute("SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'vector'")
            conn.execute(f'SET search_path TO "{schema}", {ext.fetchone()[0]}, pg_catalog')  # type: ignore[index]
            conn.execute("SELECT setseed(%s)", [(seed % 1000) / 1000])
            indexes = conn.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = %s AND tablename = %s"
                " AND indexname <> %s",
                [schema, table, f"{table}_pkey"],
            ).fetchall()
            for name, _ in indexes:
                conn.execute(f'DROP INDEX "{schema}"."{name}"')
            t0 = time.perf_counter()
            timings = {}
            labels = ["centroids"] * clustered + ["threads", "resources", "messages", "vectors"]
            for label, stmt in zip(labels, load_sql(schema, table, dim, clustered), strict=True):
                t = time.perf_counter()
                conn.execute(stmt, {"n": n, "topics": topics, "ntopics": len(topics), "filler": FILLER})
                timings[label] = round(time.perf_counter() - t, 1)
                print(f"B: loaded {label} in {timings[label]} s", file=sys.stderr)
            result["load_s"] = {**timings, "total": round(time.perf_counter() - t0, 1)}
            conn.execute(f"SET maintenance_work_mem = '{mwm}'")
            builds = {}
            for name, indexdef in indexes:
                t = time.perf_counter()
                conn.execute(indexdef)
                builds[name] = round(time.perf_counter() - t, 1)
                print(f"B: built {name} in {builds[name]} s", file=sys.stderr)
            result["index_build_s"] = builds
            result["maintenance_work_mem"] = mwm
            result["max_parallel_maintenance_workers"] = conn.execute(
                "SHOW max_parallel_maintenance_workers"
            ).fetchone()[0]  # type: ignore[index]
            t = time.perf_counter()
            conn.execute(f'VACUUM ANALYZE "{schema}"."{table}"')
            conn.execute(f'VACUUM ANALYZE "{schema}".mastra_messages')
            conn.execute(f'ANALYZE "{schema}".mastra_threads')
            result["vacuum_analyze_s"] = round(time.perf_counter() - t, 1)
    with psycopg.connect(dsn, autocommit=True) as conn:
        sizes = conn.execute(
            "SELECT pg_size_pretty(pg_table_size(%(t)s::regclass)),"
            " pg_size_pretty(pg_relation_size(%(i)s::regclass)), (SELECT count(*) FROM " + f'"{schema}"."{table}")',
            {"t": f'"{schema}"."{table}"', "i": f'"{schema}"."{table}_vector_idx"'},
        ).fetchone()
        assert sizes is not None
        result["table_size"], result["hnsw_size"], rows = sizes
        if rows != n:
            raise SystemExit(f"schema {schema} holds {rows} vectors, not --n {n}")
        counts = dict(
            conn.execute(
                f'SELECT metadata->>\'resource_id\', count(*) FROM "{schema}"."{table}"'
                " WHERE metadata->>'resource_id' IN (%s, %s) GROUP BY 1",
                [BIG, SMALL],
            ).fetchall()
        )
        threads_of = {
            r: [
                row[0]
                for row in conn.execute(
                    f'SELECT id FROM "{schema}".mastra_threads WHERE "resourceId" = %s ORDER BY id', [r]
                ).fetchall()
            ]
            for r in (BIG, SMALL)
        }
        centroids = None
        if conn.execute("SELECT to_regclass(%s)", [f'"{schema}".bench_centroids']).fetchone() != (None,):
            rows_c = conn.execute(f'SELECT v::text FROM "{schema}".bench_centroids ORDER BY c').fetchall()
            centroids = np.array([json.loads(r[0]) for r in rows_c], dtype=np.float32)
            result["vectors"] = "clustered (1000 centroids)"
    print(f"B: {n} vectors, table {result['table_size']}, HNSW {result['hnsw_size']}", file=sys.stderr)

    gen = np.random.default_rng(seed)
    text_rng = Rng(seed)
    for resource in (BIG, SMALL):
        part: dict[str, Any] = {
            "rows": counts[resource],
            "search": "exact" if counts[resource] ** 2 <= EXACT_SCAN_K * n else "hnsw",
        }
        qv = unit_vectors(gen, calls + agreement + 10, dim)
        if centroids is not None:  # queries from the data's distribution: a random centroid plus noise
            qv = centroids[gen.integers(0, len(centroids), len(qv))] + qv
            qv /= np.linalg.norm(qv, axis=1, keepdims=True)
        qtext = [sentence(text_rng, TOPICS[int(text_rng() * len(TOPICS))].split(), 6) for _ in range(calls + 10)]
        threads = threads_of[resource]
        call_list = [(threads[int(text_rng() * len(threads))], resource, qtext[i]) for i in range(calls + 10)]

        def set_vector(i: int, offset: int = 0, qv: np.ndarray = qv) -> None:
            embedder.vector = qv[offset + i]

        exact_ids = exact_top(dsn, schema, table, resource, qv[:calls], TOP_K) if calls else []
        for hybrid in (False, True):
            mem = Memory(pool, schema=schema, config=recall_config(hybrid), embedder=embedder)
            time_context(mem, call_list[calls:], 0, before=lambda i: set_vector(i, calls))  # warm-up, prepare
            figures, ids = time_context(mem, call_list[:calls], 0, before=set_vector)
            if not hybrid:  # context()'s own hits against the exact top 5 of the resource
                figures["hits_vs_exact_overlap"] = round(
                    statistics.fmean(len(set(a) & set(b)) / TOP_K for a, b in zip(ids, exact_ids, strict=True)), 4
                )
            part["hybrid" if hybrid else "vector"] = figures
            print(
                f"B: {resource} ({counts[resource]} rows) {'hybrid' if hybrid else 'vector'}: {fmt(figures)}",
                file=sys.stderr,
            )
        part["ann_vs_exact"] = ann_agreement(dsn, schema, table, search_fn, resource, qv[calls + 10 :])
        print(f"B: {resource} search function ({part['search']}) vs exact: {part['ann_vs_exact']}", file=sys.stderr)
        result[resource] = part

    if not keep and reuse is None:
        with pool.connection() as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
    else:
        result["schema"] = schema
    pool.close()
    return result


def exact_top(dsn: str, schema: str, table: str, resource: str, vectors: np.ndarray, k: int) -> list[list[str]]:
    """The exact nearest ``k`` of a resource: the candidates are materialised first, so no index orders them."""
    stmt = (
        f'WITH c AS MATERIALIZED (SELECT metadata->>\'message_id\' AS id, embedding FROM "{schema}"."{table}"'
        " WHERE metadata->>'resource_id' = %s)"
        " SELECT id FROM c ORDER BY embedding <=> %s::vector, id LIMIT %s"
    )
    with psycopg.connect(dsn, autocommit=True) as conn:
        ext = conn.execute("SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'vector'")
        conn.execute(f"SET search_path TO {ext.fetchone()[0]}, pg_catalog")  # type: ignore[index]
        return [[r[0] for r in conn.execute(stmt, [resource, vector_text(v), k]).fetchall()] for v in vectors]


def ann_agreement(
    dsn: str, schema: str, table: str, search_fn: str, resource: str, vectors: np.ndarray
) -> dict[str, Any]:
    """The search function (exact or HNSW, by the scope's size) against the exact top k, at k = 5 and at
    the 20 candidates context() asks for (then re-ranked to its top 5)."""
    exact = exact_top(dsn, schema, table, resource, vectors, TOP_K)
    out: dict[str, Any] = {"queries": len(vectors)}
    with psycopg.connect(dsn, autocommit=True) as conn:
        ext = conn.execute("SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'vector'")
        vtype = f"{ext.fetchone()[0]}.vector"  # type: ignore[index]
        for k in (TOP_K, 20):
            overlaps, full, ms = [], 0, []
            for v, want in zip(vectors, exact, strict=True):
                t = time.perf_counter()
                got = conn.execute(
                    f"SELECT message_id FROM {search_fn}(%s::{vtype}, %s, %s) ORDER BY distance",
                    [vector_text(v), resource, k],
                ).fetchall()
                ms.append((time.perf_counter() - t) * 1000)
                full += len(got) == k
                overlaps.append(len({r[0] for r in got[:TOP_K]} & set(want)) / TOP_K)
            out[f"k{k}"] = {
                "mean_overlap_top5": round(statistics.fmean(overlaps), 4),
                "queries_with_k_hits": full,
                "p50_ms": round(statistics.median(ms), 3),
            }
    return out


# --------------------------------------------------------------------------- output


def fmt(f: dict[str, Any]) -> str:
    return (
        f"p50 {f['p50_ms']} ms, p95 {f['p95_ms']} ms, {f['sql_statements_per_call']} statement(s)/call, "
        f"{f['avg_hits']} hits, {f['avg_messages_returned']} messages"
        + (f", top-5 overlap with exact {f['hits_vs_exact_overlap']:.1%}" if "hits_vs_exact_overlap" in f else "")
    )


def report(result: dict[str, Any], mastra: dict[str, Any]) -> None:
    lines = []
    a = result.get("a")
    if a:
        lines.append(f"A (10k-style, {a['n_messages']} messages, {a['embedder']} {a['dimension']}-d):")
        for key, ref in (
            ("vector_last0", "semantic"),
            ("vector_last20", "semantic_plus_last20"),
            ("hybrid_last0", "semantic"),
            ("hybrid_last20", "semantic_plus_last20"),
        ):
            f, m = a[key], mastra[ref]
            lines.append(
                f"  {key:14s} p50 {f['p50_ms']:6.2f} ms  p95 {f['p95_ms']:6.2f} ms  {f['sql_statements_per_call']} stmt"
                f"  | Mastra {ref} p50 {m['p50_ms']} / p95 {m['p95_ms']} ms, {m['sql_statements_per_call']} stmt"
                f"  -> Mastra/ours p50 {m['p50_ms'] / f['p50_ms']:.1f}x, p95 {m['p95_ms'] / f['p95_ms']:.1f}x"
            )
        agg = a["ann_vs_exact"]
        lines.append(
            f"  context() vector hits vs exact top-5: {a['vector_last0']['hits_vs_exact_overlap']:.1%};"
            f" search function k=5 {agg['k5']['mean_overlap_top5']:.1%}, k=20 {agg['k20']['mean_overlap_top5']:.1%}"
        )
        v = a["vector_last0"]["p50_ms"]
        lines.append(
            f"  target p50 <= {TARGET_P50_10K_MS} ms (vector, last 0): {'met' if v <= TARGET_P50_10K_MS else 'MISSED'}"
            f" ({v} ms, of which query embedding p50 {a['query_embedding']['p50_ms']} ms)"
        )
    b = result.get("b")
    if b:
        lines.append(f"B ({b['n_messages']} messages, {b['dimension']}-d, vectors {b['vectors']}):")
        for r in (BIG, SMALL):
            part = b[r]
            for mode in ("vector", "hybrid"):
                f = part[mode]
                lines.append(
                    f"  {r:9s} ({part['rows']} rows) {mode:6s}: {fmt(f)}"
                    + (
                        f"  target p95 <= {TARGET_P95_1M_MS} ms: "
                        + ("met" if f["p95_ms"] <= TARGET_P95_1M_MS else "MISSED")
                        if mode == "vector"
                        else ""
                    )
                )
            for k, agg in part["ann_vs_exact"].items():
                if k.startswith("k"):
                    lines.append(
                        f"  {r:9s} search function ({part.get('search', '?')}) k={k[1:]:2s} vs exact top-5:"
                        f" overlap {agg['mean_overlap_top5']:.1%}"
                        f", {agg['queries_with_k_hits']}/{part['ann_vs_exact']['queries']} queries with k hits,"
                        f" p50 {agg['p50_ms']} ms"
                    )
    print("\n".join(lines), file=sys.stderr)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dsn", help="PostgreSQL DSN (default: an embedded server in a temporary directory)")
    parser.add_argument("--workload", choices=["a", "b", "all"], default="all")
    parser.add_argument("--a-n", type=int, default=10_000, help="workload A messages (default 10000)")
    parser.add_argument("--threads", type=int, default=100, help="workload A threads (default 100)")
    parser.add_argument(
        "--embedder",
        choices=["local", "hash384"],
        default="local",
        help="workload A embedder: local = LocalEmbedder 256-d (default), hash384 = Mastra bench's",
    )
    parser.add_argument("--n", type=int, default=300_000, help="workload B messages (default 300000)")
    parser.add_argument(
        "--vectors",
        choices=["random", "clustered"],
        default="random",
        help="workload B vectors: random unit (default) or clustered around 1000 centroids",
    )
    parser.add_argument("--dim", type=int, default=256, help="workload B vector dimension (default 256)")
    parser.add_argument("--calls", type=int, default=200, help="context() calls per variant (default 200)")
    parser.add_argument("--agreement", type=int, default=100, help="queries for HNSW vs exact (default 100)")
    parser.add_argument("--maintenance-work-mem", default="3GB", help="for the index builds of workload B")
    parser.add_argument(
        "--keep", action="store_true", help="keep the schemas (workload B's can be measured again with --reuse SCHEMA)"
    )
    parser.add_argument("--reuse", metavar="SCHEMA", help="measure an already loaded workload B schema")
    parser.add_argument("--mastra-json", help="Mastra bench.mjs JSON output to compare with (default: built-in)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    args = parser.parse_args()
    mastra = MASTRA_SAME_MACHINE
    if args.mastra_json:
        with open(args.mastra_json) as f:
            peer = json.load(f)
        mastra = {"semantic": peer["recall_semantic"], "semantic_plus_last20": peer["recall_semantic_plus_last20"]}
    result: dict[str, Any] = {"mastra_same_machine": mastra, "started": datetime.now(timezone.utc).isoformat()}
    with database(args.dsn) as dsn:
        try:
            with psycopg.connect(dsn) as conn:
                result["server"] = conn.execute(
                    "SELECT current_setting('server_version'), (SELECT extversion FROM pg_extension"
                    " WHERE extname = 'vector'), current_setting('shared_buffers')"
                ).fetchone()
            result["load_average_start"] = os.getloadavg()
            if args.workload in ("a", "all"):
                t = time.perf_counter()
                result["a"] = workload_a(
                    dsn, args.a_n, args.threads, args.calls, args.seed, args.embedder, args.agreement, args.keep
                )
                result["a"]["elapsed_s"] = round(time.perf_counter() - t, 1)
            if args.workload in ("b", "all"):
                t = time.perf_counter()
                result["b"] = workload_b(
                    dsn,
                    args.n,
                    args.dim,
                    args.calls,
                    args.agreement,
                    args.seed,
                    args.reuse,
                    args.keep,
                    args.maintenance_work_mem,
                    args.vectors == "clustered",
                )
                result["b"]["elapsed_s"] = round(time.perf_counter() - t, 1)
        finally:
            if not args.keep:  # also after a failure part-way (the workloads name their schemas by pid)
                with psycopg.connect(dsn, autocommit=True) as conn:
                    for schema in (f"bench_recall_a_{os.getpid()}", f"bench_recall_b_{os.getpid()}"):
                        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    report(result, mastra)
    if args.json:
        print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
