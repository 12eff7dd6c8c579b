"""Faults against real servers: a restart in the middle of saving a turn, killed connections, an
exhausted pool, an embedder that fails or times out.

Restarts use a private embedded PostgreSQL of this module (the session's shared server is never
stopped). Embedders here are fakes for mechanics, named for what they do: one that stops the
database while it "embeds", one that fails or times out on demand.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from typing import Any

import numpy as np
import psycopg
import pytest

from mastra_memory import (
    MemoryConfig,
    Message,
    MessageUpdate,
    PoolTimeoutError,
    ProviderError,
    SemanticRecall,
    StorageError,
)
from mastra_memory.embedded import EmbeddedPostgres
from mastra_memory.embedding import EmbeddingMatrix, HashEmbedder

from ._helpers import connect, sql_count, start, wait_for_lock_waiters

RECALL = MemoryConfig(last_messages=10, semantic_recall=SemanticRecall(top_k=3, message_range=0))


def dsn_of(server: EmbeddedPostgres) -> str:
    return server.start()  # already running: only hands back the DSN


async def retry_until_saved(mem: Any, messages: list[Message], attempts: int = 30) -> list[BaseException]:
    """Save until it lands (what a caller does after a failure); returns the failures on the way."""
    failures: list[BaseException] = []
    for _ in range(attempts):
        try:
            await mem.save_messages(messages)
            return failures
        except StorageError as exc:
            failures.append(exc)
            await asyncio.sleep(0.2)
    raise AssertionError(f"the save never landed: {failures[-1]!r}")


def turn(thread_id: str, n: int) -> list[Message]:
    """One agent turn: the user's message and the assistant's reply, with ids chosen by the caller
    (as the framework adapters do), which is what makes a retried save an idempotent upsert."""
    return [
        Message.user(f"question {n}", id=f"{thread_id}-u{n}", thread_id=thread_id),
        Message.assistant(f"answer {n}", id=f"{thread_id}-a{n}", thread_id=thread_id),
    ]


async def test_a_restart_during_a_save_fails_cleanly_and_the_retry_lands_exactly_once(
    server: EmbeddedPostgres, flavour: str
) -> None:
    schema = f"faults_{uuid.uuid4().hex[:8]}"
    dsn = dsn_of(server)
    mem = await connect(flavour, dsn, schema=schema, min_size=2)
    try:
        await mem.create_thread("ada", thread_id="t")
        await mem.save_messages(turn("t", 1))
        # Park the save of turn 2 on the thread's row lock, then stop the server under it.
        blocker = psycopg.connect(dsn)
        try:
            blocker.execute(
                psycopg.sql.SQL("SELECT 1 FROM {} WHERE id = 't' FOR UPDATE").format(
                    psycopg.sql.Identifier(schema, "mastra_threads")
                )
            )
            saving = start(mem, lambda m: m.save_messages(turn("t", 2)))
            await wait_for_lock_waiters(dsn, 1, schema)
            await asyncio.to_thread(server.stop)
        finally:
            blocker.close()  # its server is gone: close without a commit
        assert not (server.data_dir / "postmaster.pid").exists(), "the server did not stop"
        [outcome] = await asyncio.gather(saving, return_exceptions=True)
        assert isinstance(outcome, StorageError), f"the interrupted save gave {outcome!r}, not a StorageError"
        assert isinstance(outcome.__cause__, psycopg.Error)  # the driver's error, translated once
        dsn = await asyncio.to_thread(server.start)
        # Nothing of turn 2 landed: the statement died before its commit.
        assert sql_count(dsn, schema, "SELECT count(*) FROM mastra_messages") == 2
        # The pool's old connections died with the server; the retry still works the first time.
        saved = await mem.save_messages(turn("t", 2))
        first_times = [m.created_at for m in saved]
        # A retry after a lost acknowledgement (the commit landed, the reply did not) changes nothing.
        again = await mem.save_messages(turn("t", 2))
        assert [m.created_at for m in again] == first_times
        listed = (await mem.list_messages("t", per_page=None)).messages
        assert [m.id for m in listed] == ["t-u1", "t-a1", "t-u2", "t-a2"]
        assert [m.text for m in listed] == ["question 1", "answer 1", "question 2", "answer 2"]
        assert sql_count(dsn, schema, "SELECT count(*) FROM mastra_messages") == 4
    finally:
        await mem.close()


class ServerStoppingEmbedder(HashEmbedder):
    """Fake embedder for mechanics: the first time it embeds documents, it stops the database,
    as if PostgreSQL restarted between the embedding and the transaction of a save."""

    def __init__(self, server: EmbeddedPostgres) -> None:
        super().__init__()
        self.server: EmbeddedPostgres | None = server

    def embed_documents(self, texts: Sequence[str]) -> EmbeddingMatrix:
        if self.server is not None:
            self.server.stop()
            self.server = None
        return super().embed_documents(texts)

    async def aembed_documents(self, texts: Sequence[str]) -> EmbeddingMatrix:
        return await asyncio.to_thread(self.embed_documents, texts)


async def test_a_restart_between_embedding_and_saving_loses_nothing_on_retry(
    server: EmbeddedPostgres, flavour: str
) -> None:
    schema = f"faults_{uuid.uuid4().hex[:8]}"
    dsn = dsn_of(server)
    embedder = ServerStoppingEmbedder(server)
    mem = await connect(flavour, dsn, schema=schema, config=RECALL, embedder=embedder, timeout=2)
    try:
        embedder.server = None  # the thread is created with the server up
        await mem.create_thread("ada", thread_id="t")
        embedder.server = server
        with pytest.raises(StorageError):  # PoolTimeoutError: no connection to the stopped server in time
            await mem.save_messages(turn("t", 1))
        dsn = await asyncio.to_thread(server.start)
        assert sql_count(dsn, schema, "SELECT count(*) FROM mastra_messages") == 0
        # The pool reconnects on its own back-off schedule, so retry as a client would.
        failures = await retry_until_saved(mem, turn("t", 1))
        assert all(isinstance(f, StorageError) for f in failures)
        assert [m.id for m in (await mem.recall("t")).messages] == ["t-u1", "t-a1"]
        vectors = sql_count(dsn, schema, "SELECT count(*) FROM memory_messages_384 WHERE vector_id LIKE 't-%%'")
        assert vectors == 2  # one per message: the retry wrote the vectors with the messages
    finally:
        await mem.close()


async def test_killed_pool_connections_are_replaced_before_the_next_call(pg_dsn: str, flavour: str) -> None:
    schema = f"faults_{uuid.uuid4().hex[:8]}"
    app = f"mm-kill-{uuid.uuid4().hex[:8]}"
    mem = await connect(flavour, f"{pg_dsn}&application_name={app}", schema=schema, min_size=4, max_size=4)
    try:
        await mem.create_thread("ada", thread_id="t")
        for round_ in range(3):
            with psycopg.connect(pg_dsn, autocommit=True) as admin:
                killed = admin.execute(
                    "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity"
                    " WHERE application_name = %s",
                    (app,),
                ).fetchone()
                assert killed is not None and killed[0] >= 1
                for _ in range(1000):  # pg_terminate_backend only signals: wait until they are gone
                    gone = admin.execute(
                        "SELECT count(*) = 0 FROM pg_stat_activity WHERE application_name = %s", (app,)
                    ).fetchone()
                    if gone == (True,):
                        break
                    await asyncio.sleep(0.01)
            # Every call after the kill works, not just "eventually": dead connections never reach a plan.
            for n in range(4):
                await mem.save_messages([Message.user(f"r{round_} n{n}", thread_id="t")])
        assert len((await mem.list_messages("t", per_page=None)).messages) == 12
    finally:
        await mem.close()
        with psycopg.connect(pg_dsn, autocommit=True) as admin:
            admin.execute(psycopg.sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(psycopg.sql.Identifier(schema)))


async def test_an_exhausted_pool_times_out_clearly_and_recovers(pg_dsn: str, flavour: str) -> None:
    schema = f"faults_{uuid.uuid4().hex[:8]}"
    mem = await connect(flavour, pg_dsn, schema=schema, min_size=1, max_size=2, timeout=0.5)
    try:
        await mem.create_thread("ada", thread_id="t")
        with psycopg.connect(pg_dsn) as blocker:  # both pooled connections get stuck behind this lock
            blocker.execute(
                psycopg.sql.SQL("SELECT 1 FROM {} WHERE id = 't' FOR UPDATE").format(
                    psycopg.sql.Identifier(schema, "mastra_threads")
                )
            )
            stuck = [start(mem, lambda m, i=i: m.save_messages(turn("t", i))) for i in (1, 2)]
            await wait_for_lock_waiters(pg_dsn, 2, schema)
            with pytest.raises(PoolTimeoutError, match="max_size") as timed_out:
                await mem.get_thread("t")
            assert isinstance(timed_out.value, StorageError)
            blocker.rollback()
        await asyncio.gather(*stuck)  # the parked saves finish once the lock is gone
        assert len((await mem.list_messages("t", per_page=None)).messages) == 4
        assert (await mem.get_thread("t")) is not None  # the pool serves again
    finally:
        await mem.close()
        with psycopg.connect(pg_dsn, autocommit=True) as admin:
            admin.execute(psycopg.sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(psycopg.sql.Identifier(schema)))


class FlakyEmbedder(HashEmbedder):
    """Fake embedder for mechanics: works, fails (raises), times out (raises TimeoutError after a
    short wait, as an HTTP client with a timeout does), or returns garbage, on demand."""

    mode = "ok"

    def _check(self) -> None:
        if self.mode == "fail":
            raise ConnectionError("embedding service unavailable")
        if self.mode == "timeout":
            raise TimeoutError("embedding request timed out after 0.05 s")

    def embed_documents(self, texts: Sequence[str]) -> EmbeddingMatrix:
        self._check()
        if self.mode == "nan":
            return np.full((len(texts), self.dimension), np.nan, dtype=np.float32)
        return super().embed_documents(texts)

    def embed_query(self, text: str) -> EmbeddingMatrix:
        self._check()
        return super().embed_query(text)

    async def aembed_documents(self, texts: Sequence[str]) -> EmbeddingMatrix:
        if self.mode == "timeout":
            await asyncio.sleep(0.05)
        return self.embed_documents(texts)

    async def aembed_query(self, text: str) -> EmbeddingMatrix:
        if self.mode == "timeout":
            await asyncio.sleep(0.05)
        return self.embed_query(text)


def backlog(mem: Any) -> list[str]:
    from tests.storage._raw import run

    return [r["message_id"] for r in run(mem, "SELECT message_id FROM mastra_memory_embedding_backlog ORDER BY 1")]


def vector_texts(mem: Any) -> dict[str, str]:
    from tests.storage._raw import run

    rows = run(mem, "SELECT vector_id, metadata->>'content' AS content FROM memory_messages_384 ORDER BY 1")
    return {r["vector_id"]: r["content"] for r in rows}


@pytest.mark.parametrize("outage", ["fail", "timeout", "nan"])
async def test_an_embedder_outage_keeps_messages_and_backfill_catches_up(mem_factory: Any, outage: str) -> None:
    embedder = FlakyEmbedder()
    mem = await mem_factory(config=RECALL, embedder=embedder)
    await mem.create_thread("ada", thread_id="t")
    await mem.save_messages([Message.user("my cat is called Miso", id="m0", thread_id="t")])
    embedder.mode = outage
    saved = await mem.save_messages(turn("t", 1) + turn("t", 2))
    assert [m.id for m in saved] == ["t-u1", "t-a1", "t-u2", "t-a2"]
    # Edited while the embedder is down: the old text's vector must not keep answering for it.
    await mem.update_messages([MessageUpdate(id="m0", content={"parts": [{"type": "text", "text": "a dog, Rex"}]})])
    assert [m.id for m in (await mem.recall("t")).messages] == ["m0", "t-u1", "t-a1", "t-u2", "t-a2"]
    assert backlog(mem) == ["m0", "t-a1", "t-a2", "t-u1", "t-u2"]
    assert vector_texts(mem) == {}  # nothing stale, nothing half-written
    with pytest.raises(ProviderError):  # a backfill during the outage stops and keeps the queue
        await mem.backfill_embeddings(batch_size=2)
    assert len(backlog(mem)) == 5
    embedder.mode = "ok"
    assert await mem.backfill_embeddings(batch_size=2) == 5  # three batches
    assert backlog(mem) == []
    assert vector_texts(mem) == {
        "m0": "a dog, Rex",
        "t-u1": "question 1",
        "t-a1": "answer 1",
        "t-u2": "question 2",
        "t-a2": "answer 2",
    }
    await mem.create_thread("ada", thread_id="later")
    hits = (await mem.context("later", "ada", query="a dog, Rex")).hits
    assert hits and hits[0].message.id == "m0"


async def test_a_message_deleted_while_queued_leaves_the_queue(mem_factory: Any) -> None:
    embedder = FlakyEmbedder()
    mem = await mem_factory(config=RECALL, embedder=embedder)
    await mem.create_thread("ada", thread_id="t")
    embedder.mode = "fail"
    await mem.save_messages(turn("t", 1))
    await mem.delete_messages(["t-u1"])
    assert backlog(mem) == ["t-a1"]
    embedder.mode = "ok"
    assert await mem.backfill_embeddings() == 1
    assert list(vector_texts(mem)) == ["t-a1"]
