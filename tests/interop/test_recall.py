"""Semantic recall across the two sides, with one deterministic embedder implemented identically in
Python (HashEmbedder) and JavaScript (tests/interop/embedder.mjs): vectors either side writes
are found by the other, in Mastra's own memory_messages_384 table."""

from __future__ import annotations

from typing import Any

from mastra_memory import MemoryConfig, Message, SemanticRecall
from mastra_memory.embedding import HashEmbedder

from . import op
from .conftest import Db, Mastra

CONFIG = MemoryConfig(last_messages=0, semantic_recall=SemanticRecall(top_k=3, message_range=0))


def _mastra_message(message_id: str, thread_id: str, text: str, at: str) -> dict[str, Any]:
    return {
        "id": message_id,
        "threadId": thread_id,
        "resourceId": "alice",
        "role": "user",
        "createdAt": at,
        "content": {"format": 2, "parts": [{"type": "text", "text": text}]},
    }


async def test_we_recall_what_mastra_embedded(mastra: Mastra, mem_factory: Any, db: Db, schema: str) -> None:
    await mastra(
        schema,
        [
            op("createThread", resourceId="alice", threadId="m-trip"),
            op(
                "saveMessages",
                messages=[
                    _mastra_message(
                        "mm-dog", "m-trip", "I adopted a beagle puppy named Biscuit", "2025-01-01T10:00:00.000Z"
                    ),
                    _mastra_message(
                        "mm-cello", "m-trip", "I started cello lessons on Tuesdays", "2025-01-01T10:00:01.000Z"
                    ),
                    _mastra_message(
                        "mm-job", "m-trip", "My new job at the bakery starts Monday", "2025-01-01T10:00:02.000Z"
                    ),
                ],
            ),
        ],
    )
    rows = await db(schema, "SELECT vector_id, metadata FROM memory_messages_384 ORDER BY metadata->>'message_id'")
    assert {r["metadata"]["message_id"] for r in rows} == {"mm-dog", "mm-cello", "mm-job"}
    assert all(r["vector_id"] != r["metadata"]["message_id"] for r in rows)  # Mastra's API path: random ids

    memory = await mem_factory(schema, config=CONFIG, embedder=HashEmbedder(384))
    await memory.create_thread("alice", thread_id="py-now")
    ctx = await memory.context("py-now", "alice", query="what is the name of my beagle puppy")
    assert ctx.hits[0].message.id == "mm-dog"
    assert "- user: I adopted a beagle puppy named Biscuit" in ctx.system[-1]
    vector_only = await mem_factory(
        schema,
        config=MemoryConfig(last_messages=0, semantic_recall=SemanticRecall(top_k=3, message_range=0, hybrid=False)),
        embedder=HashEmbedder(384),
    )
    hits = (await vector_only.context("py-now", "alice", query="cello lessons")).hits
    assert hits[0].message.id == "mm-cello"


async def test_mastra_recalls_what_we_embedded(mastra: Mastra, mem_factory: Any, db: Db, schema: str) -> None:
    memory = await mem_factory(schema, config=CONFIG, embedder=HashEmbedder(384))
    await memory.create_thread("alice", thread_id="py-trip")
    await memory.save_messages(
        [
            Message.user("I adopted a beagle puppy named Biscuit", id="py-dog", thread_id="py-trip"),
            Message.user("I started cello lessons on Tuesdays", id="py-cello", thread_id="py-trip"),
        ]
    )
    rows = await db(schema, "SELECT vector_id, metadata FROM memory_messages_384 ORDER BY vector_id")
    assert [r["vector_id"] for r in rows] == ["py-cello", "py-dog"]  # Mastra's agent path: vector id = message id
    assert set(rows[0]["metadata"]) == {"message_id", "thread_id", "resource_id", "role", "content", "created_at"}

    got = await mastra(
        schema,
        [
            op("createThread", resourceId="alice", threadId="m-now"),
            op(
                "recall",
                threadId="m-now",
                resourceId="alice",
                perPage=0,
                vectorSearchString="beagle puppy named Biscuit",
            ),
            op("vectorQuery", queryText="cello lessons on Tuesdays", topK=1, filter={"resource_id": "alice"}),
            op(
                "saveMessages",
                messages=[
                    _mastra_message("mm-late", "m-now", "Biscuit chewed my cello case", "2030-01-01T10:00:00.000Z"),
                ],
            ),
        ],
    )
    assert "py-dog" in [m["id"] for m in got[1]["messages"]]
    assert got[2][0]["metadata"]["message_id"] == "py-cello"
    # Mastra's own writes keep working on the table as we shaped it (our column and indexes are invisible to it)
    late = await db(schema, "SELECT count(*) AS n FROM memory_messages_384 WHERE metadata->>'message_id' = 'mm-late'")
    assert late[0]["n"] == 1
    ctx = await memory.context("py-trip", "alice", query="what did Biscuit chew")
    assert "mm-late" in [h.message.id for h in ctx.hits]
