"""Embedders and chat models that never answer: a time limit turns them into ordinary failures.

Without a limit a hung embedder blocked ``save_messages`` forever. With ``embed_timeout`` the call
becomes a ProviderError after that long, and what already happens on an embedder failure applies:
the messages are saved and queued for backfill, recall falls back on keywords. ``model_timeout``
does the same for chat models (a title generation keeps the old title).

The embedders and the chat model are fakes for mechanics that hang on a ``threading.Event`` until
the test's teardown releases it (bounded, so a broken build cannot hang the run for good).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator, Sequence
from typing import Any

import pytest

from mastra_memory import InvalidInputError, MemoryConfig, Message, SemanticRecall
from mastra_memory.embedding import EmbeddingMatrix, HashEmbedder

from ..conftest import make_memory
from ..processors.fakes import ScriptedChatModel
from ..support import drop_schema, fresh_schema

LIMITED = MemoryConfig(
    last_messages=10, semantic_recall=SemanticRecall(top_k=3, message_range=0), embed_timeout=0.3, model_timeout=0.3
)
HANG_LIMIT = 30.0  # seconds a fake hangs at most when nothing releases it


@pytest.fixture
def gate() -> Iterator[threading.Event]:
    """What the hanging fakes wait on; set in teardown, so abandoned calls end with the test."""
    event = threading.Event()
    yield event
    event.set()


class HangingEmbedder(HashEmbedder):
    """Fake embedder for mechanics: while ``hang`` is on, every call waits for the gate."""

    def __init__(self, gate: threading.Event) -> None:
        super().__init__()
        self.gate = gate
        self.hang = False

    def _wait(self) -> None:
        if self.hang:
            self.gate.wait(HANG_LIMIT)

    async def _await(self) -> None:
        for _ in range(int(HANG_LIMIT * 100)):  # cancellable, unlike a thread
            if not self.hang or self.gate.is_set():
                return
            await asyncio.sleep(0.01)

    def embed_documents(self, texts: Sequence[str]) -> EmbeddingMatrix:
        self._wait()
        return super().embed_documents(texts)

    def embed_query(self, text: str) -> EmbeddingMatrix:
        self._wait()
        return super().embed_query(text)

    async def aembed_documents(self, texts: Sequence[str]) -> EmbeddingMatrix:
        await self._await()
        return super().embed_documents(texts)

    async def aembed_query(self, text: str) -> EmbeddingMatrix:
        await self._await()
        return super().embed_query(text)


class BlockingHangingEmbedder:
    """The same with blocking methods only (no ``aembed_*``): AsyncMemory runs it on a thread,
    which cannot be cancelled, only abandoned."""

    def __init__(self, gate: threading.Event) -> None:
        self.inner = HashEmbedder()
        self.dimension = self.inner.dimension
        self.model_id = self.inner.model_id
        self.gate = gate
        self.hang = False

    def embed_documents(self, texts: Sequence[str]) -> EmbeddingMatrix:
        if self.hang:
            self.gate.wait(HANG_LIMIT)
        return self.inner.embed_documents(texts)

    def embed_query(self, text: str) -> EmbeddingMatrix:
        if self.hang:
            self.gate.wait(HANG_LIMIT)
        return self.inner.embed_query(text)


@pytest.fixture(params=["sync", "async", "async-blocking-embedder"])
async def hung(request: pytest.FixtureRequest, pg_dsn: str, gate: threading.Event) -> Any:
    """(memory, embedder) with recall on and the embedder ready to hang."""
    flavour, _, kind = str(request.param).partition("-")
    embedder: Any = BlockingHangingEmbedder(gate) if kind else HangingEmbedder(gate)
    schema = fresh_schema()
    mem = await make_memory(flavour, pg_dsn, schema, config=LIMITED, embedder=embedder)
    yield mem, embedder
    gate.set()
    drop_schema(pg_dsn, schema)


def backlog(mem: Any) -> list[str]:
    from tests.storage._raw import run

    return [r["message_id"] for r in run(mem, "SELECT message_id FROM mastra_memory_embedding_backlog ORDER BY 1")]


async def test_a_hung_embedder_does_not_block_saving(hung: Any) -> None:
    mem, embedder = hung
    await mem.create_thread("ada", thread_id="t")
    embedder.hang = True
    saved = await mem.save_messages([
        Message.user("my cat is called Miso", id="u1", thread_id="t"),
        Message.assistant("Nice name!", id="a1", thread_id="t"),
    ])
    assert [m.id for m in saved] == ["u1", "a1"]
    assert [m.id for m in (await mem.list_messages("t", per_page=None)).messages] == ["u1", "a1"]
    assert backlog(mem) == ["a1", "u1"]  # queued, as after any embedder failure
    embedder.hang = False
    assert await mem.backfill_embeddings() == 2
    assert backlog(mem) == []


async def test_a_hung_embedder_leaves_recall_to_keywords(hung: Any) -> None:
    mem, embedder = hung
    await mem.create_thread("ada", thread_id="old")
    await mem.save_messages([Message.user("my cat is called Miso", id="u1", thread_id="old")])
    await mem.create_thread("ada", thread_id="new")
    embedder.hang = True
    ctx = await mem.context("new", "ada", query="what is my cat called")
    assert [h.message.id for h in ctx.hits] == ["u1"]  # found by its words
    error = ctx.diagnostics.recall_error
    assert error is not None and "recalled by keywords only" in error and "embed_timeout" in error


async def test_a_hung_chat_model_keeps_the_title(mem_factory: Any, gate: threading.Event) -> None:
    mem = await mem_factory(config=MemoryConfig(model_timeout=0.3))
    await mem.create_thread("ada", thread_id="t")
    await mem.save_messages([Message.user("Packing for Lisbon?", thread_id="t", resource_id="ada")])
    model = ScriptedChatModel("Packing for Lisbon", gate=gate)  # waits for the gate before answering
    thread = await mem.generate_title("t", model)
    assert thread.title == ""
    assert model.started.is_set()  # it was asked, and abandoned


@pytest.mark.parametrize("bad", [0, -1, True, "30"])
def test_time_limits_must_be_positive_numbers(bad: Any) -> None:
    with pytest.raises(InvalidInputError, match="embed_timeout"):
        MemoryConfig(embed_timeout=bad)
    with pytest.raises(InvalidInputError, match="model_timeout"):
        MemoryConfig(model_timeout=bad)
    assert MemoryConfig(embed_timeout=None, model_timeout=None).embed_timeout is None  # no limit
