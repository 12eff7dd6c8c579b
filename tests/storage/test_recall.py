"""Semantic and hybrid recall through context(), embedding on save, backfill: real PostgreSQL + pgvector.

Mechanics use HashEmbedder (deterministic bag of words) or embedders made for one test, named as
such. Every test runs through Memory and AsyncMemory (the mem_factory flavours).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np
import psycopg
import pytest

from mastra_memory import (
    ExtensionMissingError,
    InvalidInputError,
    MemoryConfig,
    Message,
    MessageUpdate,
    OwnershipError,
    SchemaError,
)
from mastra_memory._config import SemanticRecall
from mastra_memory.embedding import EmbeddingMatrix, HashEmbedder
from tests.support import drop_schema, fresh_schema

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=timezone.utc)


def recall_config(**settings: Any) -> MemoryConfig:
    last = settings.pop("last_messages", 4)
    return MemoryConfig(last_messages=last, semantic_recall=SemanticRecall(**settings))


class FlatEmbedder:
    """Test embedder whose vectors carry no meaning (all equal): only keywords can find anything."""

    dimension = 16
    model_id = "test/flat-16"

    def embed_documents(self, texts: Sequence[str]) -> EmbeddingMatrix:
        return np.full((len(texts), 16), 0.25, dtype=np.float32)

    def embed_query(self, text: str) -> EmbeddingMatrix:
        return np.full(16, 0.25, dtype=np.float32)


class SwitchableEmbedder(HashEmbedder):
    """HashEmbedder that fails on demand, to play a provider outage."""

    failing = False

    def embed_documents(self, texts: Sequence[str]) -> EmbeddingMatrix:
        if self.failing:
            raise TimeoutError("embedding service timed out")
        return super().embed_documents(texts)

    def embed_query(self, text: str) -> EmbeddingMatrix:
        if self.failing:
            raise TimeoutError("embedding service timed out")
        return super().embed_query(text)


def vector_rows(dsn: str, schema: str, table: str = "memory_messages_384") -> list[tuple[str, dict[str, Any]]]:
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            psycopg.sql.SQL("SELECT vector_id, metadata FROM {} ORDER BY vector_id").format(
                psycopg.sql.Identifier(schema, table)
            )
        ).fetchall()
    return [(vid, meta) for vid, meta in rows]


async def conversation(mem: Any, thread_id: str, texts: list[str], resource: str = "ada", start: int = 0) -> None:
    await mem.create_thread(resource, thread_id=thread_id)
    await mem.save_messages(
        [
            Message.of(
                "user" if i % 2 == 0 else "assistant",
                text,
                id=f"{thread_id}-{i}",
                thread_id=thread_id,
                created_at=T0 + timedelta(minutes=start + i),
            )
            for i, text in enumerate(texts)
        ]
    )


TRIP = [
    "I adopted a beagle puppy named Biscuit last week",
    "Congratulations! Beagles are lovely dogs",
    "We are going hiking in the Alps in July",
    "Pack good boots for the Alps",
    "Also I started learning the cello",
    "The cello is a wonderful instrument",
]


async def test_saving_writes_one_vector_per_text_in_mastras_agent_shape(mem_factory: Any, pg_dsn: str) -> None:
    schema = fresh_schema()
    mem = await mem_factory(schema, config=recall_config(), embedder=HashEmbedder())
    await mem.create_thread("ada", thread_id="t1")
    tool_only = {
        "format": 2,
        "parts": [
            {
                "type": "tool-invocation",
                "toolInvocation": {
                    "state": "result",
                    "toolCallId": "c1",
                    "toolName": "weather",
                    "args": {},
                    "result": {"t": 3},
                },
            }
        ],
    }
    long_text = " ".join(f"word{i}" for i in range(5000))  # ~34k characters: three chunks of <= 16k
    await mem.save_messages(
        [
            Message.user("hello there", id="m1", thread_id="t1", created_at=T0),
            Message.of("assistant", tool_only, id="m2", thread_id="t1", created_at=T0 + timedelta(seconds=1)),
            Message.system("be brief", id="m3", thread_id="t1", created_at=T0 + timedelta(seconds=2)),
            Message.assistant(long_text, id="m4", thread_id="t1", created_at=T0 + timedelta(seconds=3)),
        ]
    )
    rows = vector_rows(pg_dsn, schema)
    assert [vid for vid, _ in rows] == ["m1", "m4", "m4#1", "m4#2"]
    meta = rows[0][1]
    assert meta == {
        "message_id": "m1",
        "thread_id": "t1",
        "resource_id": "ada",
        "role": "user",
        "content": "hello there",
        "created_at": "2025-03-01T09:00:00.000Z",
    }
    assert all(len(meta["content"]) <= 4096 * 4 for _, meta in rows[1:])
    assert " ".join(meta["content"] for _, meta in rows[1:]) == long_text
    # Re-saving with shorter text replaces the chunks: no stale vector stays searchable.
    await mem.save_messages([Message.assistant("short now", id="m4", thread_id="t1")])
    assert [vid for vid, _ in vector_rows(pg_dsn, schema)] == ["m1", "m4"]


async def test_context_recalls_from_another_thread_as_one_dated_block(mem_factory: Any) -> None:
    mem = await mem_factory(config=recall_config(top_k=1, message_range=1), embedder=HashEmbedder())
    await conversation(mem, "trip", TRIP)
    await conversation(mem, "now", ["Good morning", "Morning! How can I help?"], start=100)
    ctx = await mem.context("now", "ada", query="what is the name of my beagle puppy?")
    assert [m.text for m in ctx.messages] == ["Good morning", "Morning! How can I help?"]
    assert ctx.hits[0].message.text == TRIP[0]
    assert not ctx.hits[0].same_thread
    assert [m.text for m in ctx.hits[0].window] == TRIP[:2]  # the hit and one neighbour after it
    block = ctx.system[-1]
    assert block.startswith("The following messages were remembered from a different conversation:")
    assert "\n1 March 2025\n" in block
    assert f"- user: {TRIP[0]}" in block
    assert ctx.diagnostics.sources["trip-0"] == "recall"
    assert ctx.diagnostics.sources["trip-1"] == "neighbour"
    assert ctx.diagnostics.tokens["total"] == sum(ctx.diagnostics.tokens[k] for k in ("history", "recall", "system"))


async def test_same_thread_hits_join_history_in_time_order_and_are_not_repeated(mem_factory: Any) -> None:
    mem = await mem_factory(config=recall_config(top_k=3, message_range=0, last_messages=2), embedder=HashEmbedder())
    await conversation(mem, "trip", TRIP)
    ctx = await mem.context("trip", "ada", query="puppy Biscuit and the cello")
    texts = [m.text for m in ctx.messages]
    assert texts[-2:] == TRIP[-2:]  # history: the last two
    assert TRIP[0] in texts and texts == sorted(texts, key=TRIP.index)  # recalled, merged chronologically
    assert len(texts) == len(set(texts))
    assert all(h.same_thread for h in ctx.hits)
    assert not any(h.message.id in {"trip-4", "trip-5"} for h in ctx.hits)  # history is not recalled again
    assert ctx.system == []


async def test_thread_scope_never_reaches_other_threads(mem_factory: Any) -> None:
    mem = await mem_factory(config=recall_config(scope="thread", last_messages=0), embedder=HashEmbedder())
    await conversation(mem, "trip", TRIP)
    await conversation(mem, "now", ["nothing about pets here"], start=100)
    ctx = await mem.context("now", "ada", query="beagle puppy Biscuit")
    assert all(h.message.thread_id == "now" for h in ctx.hits)


async def test_resource_scope_never_reaches_other_resources(mem_factory: Any) -> None:
    mem = await mem_factory(config=recall_config(last_messages=0), embedder=HashEmbedder())
    await conversation(mem, "bob-trip", TRIP, resource="bob")
    await conversation(mem, "ada-now", ["hi"], start=100)
    ctx = await mem.context("ada-now", "ada", query="beagle puppy Biscuit")
    assert ctx.hits == [] or all(h.message.resource_id == "ada" for h in ctx.hits)
    assert all(m.resource_id == "ada" for m in ctx.messages)


async def test_threshold_drops_weak_vector_hits(mem_factory: Any) -> None:
    loose = await mem_factory(config=recall_config(hybrid=False, last_messages=0), embedder=HashEmbedder())
    await conversation(loose, "trip", TRIP)
    await conversation(loose, "now", ["x"], start=100)
    assert (await loose.context("now", "ada", query="beagle puppy")).hits
    strict = await mem_factory(
        config=recall_config(hybrid=False, last_messages=0, threshold=0.99), embedder=HashEmbedder()
    )
    await conversation(strict, "trip", TRIP)
    await conversation(strict, "now", ["x"], start=100)
    assert (await strict.context("now", "ada", query="beagle puppy")).hits == []


async def test_hybrid_finds_by_keywords_where_vectors_carry_no_meaning(mem_factory: Any) -> None:
    mem = await mem_factory(config=recall_config(top_k=1, message_range=0, last_messages=0), embedder=FlatEmbedder())
    await conversation(mem, "trip", TRIP)
    await conversation(mem, "now", ["x"], start=100)
    assert [h.message.id for h in (await mem.context("now", "ada", query="when I started learning it")).hits] == [
        "trip-4"
    ]
    assert [h.message.id for h in (await mem.context("now", "ada", query="hiking in July")).hits] == ["trip-2"]


async def test_an_empty_query_means_no_recall_and_no_error(mem_factory: Any) -> None:
    mem = await mem_factory(config=recall_config(), embedder=HashEmbedder())
    await conversation(mem, "trip", TRIP)
    for query in (None, "", "   "):
        ctx = await mem.context("trip", "ada", query=query)
        assert ctx.hits == [] and len(ctx.messages) == 4


async def test_context_checks_ownership_in_the_same_statement(mem_factory: Any) -> None:
    mem = await mem_factory(config=recall_config(), embedder=HashEmbedder())
    await conversation(mem, "trip", TRIP)
    with pytest.raises(OwnershipError, match="belongs to another resource"):
        await mem.context("trip", "mallory", query="puppy")
    # a thread that does not exist yet: empty history, recall still works for the resource
    ctx = await mem.context("brand-new", "ada", query="beagle puppy")
    assert ctx.messages == [] and ctx.hits


async def test_failing_embedder_keeps_messages_and_backfill_embeds_them_later(mem_factory: Any, pg_dsn: str) -> None:
    schema = fresh_schema()
    embedder = SwitchableEmbedder()
    mem = await mem_factory(schema, config=recall_config(last_messages=0), embedder=embedder)
    await mem.create_thread("ada", thread_id="t1")
    embedder.failing = True
    saved = await mem.save_messages([Message.user("my beagle is called Biscuit", id="m1", thread_id="t1")])
    assert [m.id for m in saved] == ["m1"]
    assert vector_rows(pg_dsn, schema) == []
    with psycopg.connect(pg_dsn) as conn:
        queued = conn.execute(f'SELECT message_id FROM "{schema}".mastra_memory_embedding_backlog').fetchall()
    assert queued == [("m1",)]
    # while the embedder is down, hybrid recall falls back to keywords and says so
    await mem.create_thread("ada", thread_id="t2")
    ctx = await mem.context("t2", "ada", query="beagle")
    assert ctx.diagnostics.recall_error is not None and "keywords only" in ctx.diagnostics.recall_error
    assert ctx.hits == []  # nothing is indexed yet
    embedder.failing = False
    assert await mem.backfill_embeddings() == 1
    assert [vid for vid, _ in vector_rows(pg_dsn, schema)] == ["m1"]
    assert (await mem.context("t2", "ada", query="beagle")).hits[0].message.id == "m1"
    assert await mem.backfill_embeddings() == 0


async def test_backfill_scan_embeds_history_written_without_recall(mem_factory: Any, pg_dsn: str) -> None:
    schema = fresh_schema()
    plain = await mem_factory(schema)
    await conversation(plain, "trip", TRIP)
    recall = await mem_factory(schema, config=recall_config(), embedder=HashEmbedder())
    assert vector_rows(pg_dsn, schema) == []
    assert await recall.backfill_embeddings(scan=True, batch_size=4) == len(TRIP)
    assert len(vector_rows(pg_dsn, schema)) == len(TRIP)
    with pytest.raises(InvalidInputError, match="semantic recall"):
        await plain.backfill_embeddings()


async def test_updating_text_re_embeds_and_deleting_removes_vectors(mem_factory: Any, pg_dsn: str) -> None:
    schema = fresh_schema()
    mem = await mem_factory(
        schema, config=recall_config(last_messages=0, hybrid=False, top_k=1, message_range=0), embedder=HashEmbedder()
    )
    await conversation(mem, "trip", TRIP)
    await mem.update_messages(
        [MessageUpdate("trip-4", content={"parts": [{"type": "text", "text": "I play the violin"}]})]
    )
    contents = dict((vid, meta["content"]) for vid, meta in vector_rows(pg_dsn, schema))
    assert contents["trip-4"] == "I play the violin"
    await mem.create_thread("ada", thread_id="now")
    assert (await mem.context("now", "ada", query="violin")).hits[0].message.id == "trip-4"
    await mem.delete_messages(["trip-4"])
    assert "trip-4" not in dict(vector_rows(pg_dsn, schema))
    await mem.delete_thread("trip")
    assert vector_rows(pg_dsn, schema) == []


async def test_mastra_shaped_vectors_with_random_ids_are_found_and_cleaned(mem_factory: Any, pg_dsn: str) -> None:
    schema = fresh_schema()
    mem = await mem_factory(
        schema, config=recall_config(last_messages=0, hybrid=False, message_range=0), embedder=HashEmbedder()
    )
    await conversation(mem, "trip", TRIP)
    vector = HashEmbedder().embed_documents(["Biscuit loves the beach"])[0]
    with psycopg.connect(pg_dsn, autocommit=True) as conn:  # Mastra's saveMessages shape: random id, fewer keys
        conn.execute(f'DELETE FROM "{schema}".memory_messages_384 WHERE vector_id = %s', ("trip-2",))
        conn.execute(
            f'INSERT INTO "{schema}".memory_messages_384 (vector_id, embedding, metadata) VALUES (%s, %s::vector, %s)',
            (
                "6b0f6a3e-random",
                "[" + ",".join(map(str, vector.tolist())) + "]",
                psycopg.types.json.Jsonb({"message_id": "trip-2", "thread_id": "trip", "resource_id": "ada"}),
            ),
        )
    await mem.create_thread("ada", thread_id="now")
    hits = (await mem.context("now", "ada", query="Biscuit loves the beach")).hits
    assert hits[0].message.id == "trip-2"
    await mem.delete_messages(["trip-2"])
    assert "6b0f6a3e-random" not in dict(vector_rows(pg_dsn, schema))


async def test_a_table_of_another_dimension_is_a_clear_schema_error(mem_factory: Any, pg_dsn: str) -> None:
    schema = fresh_schema()
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
        conn.execute(
            f'CREATE TABLE "{schema}".memory_messages_384 (id serial, vector_id text NOT NULL, '
            "embedding vector(16), metadata jsonb DEFAULT '{}', namespace varchar(255) DEFAULT 'default')"
        )
    with pytest.raises(SchemaError, match=r"16-dimensional.*384-dimensional"):
        await mem_factory(schema, config=recall_config(), embedder=HashEmbedder())


async def test_without_pgvector_semantic_recall_says_how_to_install_it(pg15_dsn: str) -> None:
    from mastra_memory import Memory

    schema = fresh_schema()
    try:
        with pytest.raises(ExtensionMissingError, match="CREATE EXTENSION vector"):
            Memory.connect(pg15_dsn, schema=schema, config=recall_config(), embedder=HashEmbedder())
        with Memory.connect(pg15_dsn, schema=schema) as plain:  # everything else still works
            assert plain.create_thread("ada").resource_id == "ada"
    finally:
        drop_schema(pg15_dsn, schema)


async def test_filtered_search_returns_top_k_for_a_small_resource_in_a_big_table(mem_factory: Any, pg_dsn: str) -> None:
    schema = fresh_schema()
    mem = await mem_factory(schema, config=recall_config(), embedder=HashEmbedder(dimension=32))
    await mem.create_thread("small", thread_id="probe")
    rng = np.random.default_rng(7)
    vectors = rng.normal(size=(4040, 32)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    owners = ["big"] * 4000 + ["small"] * 40  # the small resource holds 1 % of the table
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        with conn.cursor().copy(
            f'COPY "{schema}".memory_messages_32 (vector_id, embedding, metadata) FROM STDIN'
        ) as copy:
            for i, (vec, owner) in enumerate(zip(vectors, owners, strict=True)):
                meta = psycopg.types.json.Jsonb(
                    {"message_id": f"v{i}", "thread_id": f"t-{owner}", "resource_id": owner}
                )
                copy.write_row((f"v{i}", "[" + ",".join(map(str, vec.tolist())) + "]", meta))
        conn.execute(f'ANALYZE "{schema}".memory_messages_32')
        fn = f'"{schema}".mastra_memory_search_memory_messages_32_resource'
        query_vec = "[" + ",".join(map(str, vectors[4039].tolist())) + "]"
        for owner in ("small", "big"):
            got = [r[0] for r in conn.execute(f"SELECT message_id FROM {fn}(%s::vector, %s, 10)", (query_vec, owner))]
            with conn.transaction():
                conn.execute("SET LOCAL enable_indexscan = off")
                conn.execute("SET LOCAL enable_bitmapscan = off")
                exact = [
                    r[0]
                    for r in conn.execute(
                        f"SELECT vector_id FROM \"{schema}\".memory_messages_32 WHERE metadata->>'resource_id' = %s "
                        "ORDER BY embedding <=> %s::vector LIMIT 10",
                        (owner, query_vec),
                    )
                ]
            assert len(got) == 10, owner  # the promise: top_k hits whenever top_k candidates exist
            assert len(set(got) & set(exact)) >= 9, owner  # agrees with the exact scan
        plan = "\n".join(
            r[0]
            for r in conn.execute(
                f'EXPLAIN SELECT vector_id FROM "{schema}".memory_messages_32'
                " WHERE metadata->>'resource_id' = 'small' "
                "ORDER BY embedding <=> %s::vector LIMIT 10",
                (query_vec,),
            )
        )
    # For a 40-row resource the planner takes the exact path: the resource index, then a sort.
    assert "md_5a823b81" in plan and "Sort" in plan, plan


# --- keyword statistics and the exact/HNSW choice -------------------------------------------------

WORDS = [
    "beagle",
    "puppy",
    "cello",
    "violin",
    "hiking",
    "alps",
    "boots",
    "beach",
    "biscuit",
    "july",
    "music",
    "lesson",
    "garden",
    "tomato",
    "rain",
]


def stats_rows(dsn: str, schema: str, table: str = "memory_messages_384") -> dict[tuple[str, str], tuple[int, int]]:
    """The stored statistics of ``table``, without rows of zero."""
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            f'SELECT scope, scope_id, docs, lexemes FROM "{schema}".mastra_memory_recall_stats'
            " WHERE vector_table = %s AND (docs, lexemes) <> (0, 0)",
            (table,),
        ).fetchall()
    return {(scope, scope_id): (docs, lexemes) for scope, scope_id, docs, lexemes in rows}


def recounted(dsn: str, schema: str, table: str = "memory_messages_384") -> dict[tuple[str, str], tuple[int, int]]:
    """The same figures counted from the vector rows: what the statistics must equal."""
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            f'SELECT s.scope, s.scope_id, count(*), sum(length(v.mastra_memory_tsv)) FROM "{schema}"."{table}" v'
            " CROSS JOIN LATERAL (VALUES ('resource', v.metadata->>'resource_id'),"
            " ('thread', v.metadata->>'thread_id')) s(scope, scope_id) WHERE s.scope_id IS NOT NULL GROUP BY 1, 2"
        ).fetchall()
    return {(scope, scope_id): (docs, int(lexemes)) for scope, scope_id, docs, lexemes in rows}


def sentences(count: int, seed: int) -> list[str]:
    rng = np.random.default_rng(seed)
    return [" ".join(rng.choice(WORDS, size=int(rng.integers(3, 14)))) for _ in range(count)]


async def test_keyword_statistics_stay_exact_through_every_kind_of_write(mem_factory: Any, pg_dsn: str) -> None:
    schema = fresh_schema()
    mem = await mem_factory(schema, config=recall_config(), embedder=HashEmbedder())
    await conversation(mem, "a1", sentences(30, 1))
    await conversation(mem, "a2", sentences(20, 2), start=100)
    await conversation(mem, "b1", sentences(10, 3), resource="bob", start=200)
    assert stats_rows(pg_dsn, schema) == recounted(pg_dsn, schema)
    assert stats_rows(pg_dsn, schema)[("resource", "ada")][0] == 50
    # re-saving with other text (and a long text: chunks), editing, moving, deleting
    await mem.save_messages([Message.assistant("beagle " * 5000, id="a1-3", thread_id="a1")])
    await mem.save_messages([Message.assistant("short again", id="a1-3", thread_id="a1")])
    await mem.update_messages([MessageUpdate("a1-4", content={"parts": [{"type": "text", "text": "rain rain"}]})])
    await mem.update_messages([MessageUpdate("a1-5", thread_id="a2")])
    await mem.delete_messages(["a1-6", "a2-1"])
    await mem.delete_thread("a2")
    assert stats_rows(pg_dsn, schema) == recounted(pg_dsn, schema)
    with psycopg.connect(pg_dsn, autocommit=True) as conn:  # Mastra's own writes: random ids, upserts, deletes
        vector = "[" + ",".join(["0.05"] * 384) + "]"
        for i in range(3):
            conn.execute(
                f'INSERT INTO "{schema}".memory_messages_384 (vector_id, embedding, metadata) VALUES (%s, %s, %s)'
                " ON CONFLICT (namespace, vector_id) DO UPDATE SET embedding = EXCLUDED.embedding,"
                " metadata = EXCLUDED.metadata",
                (
                    "uuid-1",
                    vector,
                    psycopg.types.json.Jsonb(
                        {"message_id": "x", "thread_id": f"mt{i}", "resource_id": "ada", "content": "garden " * i}
                    ),
                ),
            )
        conn.execute(f"DELETE FROM \"{schema}\".memory_messages_384 WHERE metadata->>'thread_id' = 'b1'")
    assert stats_rows(pg_dsn, schema) == recounted(pg_dsn, schema)
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute(f'TRUNCATE "{schema}".memory_messages_384')
    assert stats_rows(pg_dsn, schema) == {} == recounted(pg_dsn, schema)


def test_keyword_statistics_stay_exact_under_concurrent_writers(pg_dsn: str) -> None:
    import threading

    from mastra_memory import Memory

    schema = fresh_schema()
    try:
        with Memory.connect(pg_dsn, schema=schema, config=recall_config(), embedder=HashEmbedder()):
            pass  # migrated, vector table and triggers made
        vector = "[" + ",".join(["0.05"] * 384) + "]"
        errors: list[BaseException] = []

        def writer(w: int) -> None:
            try:
                with psycopg.connect(pg_dsn) as conn:
                    for i in range(25):
                        with conn.transaction():
                            for j in range(3):
                                conn.execute(
                                    f'INSERT INTO "{schema}".memory_messages_384 (vector_id, embedding, metadata)'
                                    " VALUES (%s, %s, %s)",
                                    (
                                        f"w{w}-{i}-{j}",
                                        vector,
                                        psycopg.types.json.Jsonb(
                                            {
                                                "message_id": f"w{w}-{i}-{j}",
                                                "thread_id": f"t{(w + i) % 3}",
                                                "resource_id": "shared",
                                                "content": " ".join(WORDS[: 1 + (i + j) % 10]),
                                            }
                                        ),
                                    ),
                                )
                            if i % 4 == 3:
                                conn.execute(
                                    f'DELETE FROM "{schema}".memory_messages_384 WHERE vector_id = %s',
                                    (f"w{w}-{i - 1}-0",),
                                )
            except BaseException as exc:  # reported below: a thread's failure must fail the test
                errors.append(exc)

        workers = [threading.Thread(target=writer, args=(w,)) for w in range(4)]
        for t in workers:
            t.start()
        for t in workers:
            t.join()
        assert errors == []
        stats = stats_rows(pg_dsn, schema)
        assert stats == recounted(pg_dsn, schema)
        assert stats[("resource", "shared")][0] == 4 * (25 * 3 - 6)
    finally:
        drop_schema(pg_dsn, schema)


REFERENCE_BM25 = """
WITH q AS (SELECT lexeme FROM unnest(to_tsvector('english', %(query)s))),
docs AS (SELECT metadata->>'message_id' AS id, mastra_memory_tsv AS tsv FROM {table}
         WHERE metadata->>'resource_id' = %(resource)s),
n AS (SELECT count(*)::numeric AS n, avg(length(tsv))::numeric AS avglen FROM docs),
terms AS (SELECT d.id, u.lexeme, COALESCE(array_length(u.positions, 1), 1) AS tf, length(d.tsv) AS len
          FROM docs d, unnest(d.tsv) u WHERE u.lexeme IN (SELECT lexeme FROM q)),
df AS (SELECT lexeme, count(DISTINCT id) AS df FROM terms GROUP BY lexeme)
SELECT t.id FROM terms t JOIN df USING (lexeme), n GROUP BY t.id
ORDER BY sum(ln(1 + (n.n - df.df + 0.5) / (df.df + 0.5)) * t.tf * 2.2
             / (t.tf + 1.2 * (1 - 0.75 + 0.75 * t.len / n.avglen))) DESC, t.id
LIMIT %(k)s
"""


async def test_keyword_ranking_is_plain_bm25_with_and_without_stored_statistics(mem_factory: Any, pg_dsn: str) -> None:
    schema = fresh_schema()
    embedder = SwitchableEmbedder()
    mem = await mem_factory(schema, config=recall_config(top_k=8, message_range=0, last_messages=0), embedder=embedder)
    for t in range(4):
        await conversation(mem, f"k{t}", sentences(40, 10 + t), start=100 * t)
    await conversation(mem, "other", sentences(40, 99), resource="bob", start=900)  # not counted for ada
    await mem.create_thread("ada", thread_id="now")
    embedder.failing = True  # keywords only: the hits are then the BM25 ranking itself
    queries = ["beagle puppy in the rain", "cello lesson", "hiking boots for the alps in july", "tomato garden"]
    table = psycopg.sql.Identifier(schema, "memory_messages_384")
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        want = [
            [
                r[0]
                for r in conn.execute(
                    psycopg.sql.SQL(REFERENCE_BM25).format(table=table), {"query": q, "resource": "ada", "k": 8}
                )
            ]
            for q in queries
        ]
    cached = [[h.message.id for h in (await mem.context("now", "ada", query=q)).hits] for q in queries]
    assert cached == want
    with psycopg.connect(pg_dsn, autocommit=True) as conn:  # no statistics row: counted in the statement
        conn.execute(f'DELETE FROM "{schema}".mastra_memory_recall_stats')
    counted = [[h.message.id for h in (await mem.context("now", "ada", query=q)).hits] for q in queries]
    assert counted == want


async def test_keyword_ranking_counts_repeated_words(mem_factory: Any, pg_dsn: str) -> None:
    """Term frequency survives the statement's filtering of each tsvector down to the query's lexemes."""
    schema = fresh_schema()
    embedder = SwitchableEmbedder()
    mem = await mem_factory(schema, config=recall_config(top_k=3, message_range=0, last_messages=0), embedder=embedder)
    # Same three lexemes in both; only "rain"'s frequency differs. A lost tf would tie them, and the
    # tie would fall to the smaller id, the single "rain".
    texts = ["rain cloud today", "rain rain rain cloud today", "sunny warm dry", "a quiet library evening"]
    await conversation(mem, "tf", texts)
    await mem.create_thread("ada", thread_id="now")
    embedder.failing = True
    hits = [h.message.id for h in (await mem.context("now", "ada", query="rain")).hits]
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        want = [
            r[0]
            for r in conn.execute(
                psycopg.sql.SQL(REFERENCE_BM25).format(table=psycopg.sql.Identifier(schema, "memory_messages_384")),
                {"query": "rain", "resource": "ada", "k": 3},
            )
        ]
    assert hits == want == ["tf-1", "tf-0"]


def hnsw_scans(conn: psycopg.Connection[Any], schema: str, table: str) -> int:
    conn.execute("SELECT pg_stat_force_next_flush()")
    conn.execute("SELECT pg_stat_clear_snapshot()")
    row = conn.execute(
        "SELECT idx_scan FROM pg_stat_user_indexes WHERE schemaname = %s AND indexrelname = %s",
        (schema, f"{table}_vector_idx"),
    ).fetchone()
    assert row is not None
    return int(row[0])


async def test_search_is_exact_for_a_small_share_of_the_table_and_hnsw_for_a_big_one(
    mem_factory: Any, pg_dsn: str
) -> None:
    schema = fresh_schema()
    mem = await mem_factory(schema, config=recall_config(), embedder=HashEmbedder(dimension=32))
    await mem.create_thread("small", thread_id="probe")
    rng = np.random.default_rng(11)
    vectors = rng.normal(size=(3000, 32)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    table = "memory_messages_32"
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        with conn.cursor().copy(f'COPY "{schema}".{table} (vector_id, embedding, metadata) FROM STDIN') as copy:
            for i, vec in enumerate(vectors):
                owner = "small" if i % 10 == 0 else "big"
                meta = psycopg.types.json.Jsonb(
                    {"message_id": f"v{i}", "thread_id": f"t-{owner}", "resource_id": owner}
                )
                copy.write_row((f"v{i}", "[" + ",".join(map(str, vec.tolist())) + "]", meta))
        conn.execute(f'ANALYZE "{schema}".{table}')
        query_vec = "[" + ",".join(map(str, vectors[5].tolist())) + "]"

        def search(owner: str) -> list[str]:
            fn = f'"{schema}".mastra_memory_search_{table}_resource'
            return [r[0] for r in conn.execute(f"SELECT message_id FROM {fn}(%s::vector, %s, 10)", (query_vec, owner))]

        def exact(owner: str) -> list[str]:
            return [
                r[0]
                for r in conn.execute(
                    f'WITH c AS MATERIALIZED (SELECT vector_id, embedding FROM "{schema}".{table}'
                    " WHERE metadata->>'resource_id' = %s) SELECT vector_id FROM c ORDER BY embedding <=> %s::vector"
                    " LIMIT 10",
                    (owner, query_vec),
                )
            ]

        before = hnsw_scans(conn, schema, table)
        # 300 rows of 3,000: read and sorted exactly, without the HNSW index
        assert search("small") == exact("small")
        assert hnsw_scans(conn, schema, table) == before
        # 2,700 rows of 3,000: HNSW, which returns k hits and agrees with the exact scan
        got = search("big")
        assert len(got) == 10 and len(set(got) & set(exact("big"))) >= 9
        assert hnsw_scans(conn, schema, table) == before + 1
        # Without statistics rows (e.g. hidden by RLS) the scope's rows are counted: the same choices.
        conn.execute(f'DELETE FROM "{schema}".mastra_memory_recall_stats')
        assert search("small") == exact("small")
        assert hnsw_scans(conn, schema, table) == before + 1
        assert len(search("big")) == 10
        assert hnsw_scans(conn, schema, table) == before + 2
