"""OpenAIEmbedder against a fake OpenAI-compatible HTTP server on 127.0.0.1 (a test double of the
embeddings endpoint, not a mock of our code): batching, dimensions, retries, timeouts, and what
a timing-out embedder means for saving (nothing is lost; backfill later)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np
import pytest

pytest.importorskip("openai")

import openai

from mastra_memory import MemoryConfig, Message, SemanticRecall
from mastra_memory.embedding import HashEmbedder, OpenAIEmbedder

from ..support import send_json, serving


class FakeEmbeddings(ThreadingHTTPServer):
    """POST /v1/embeddings answered with HashEmbedder vectors; can fail or stall on demand."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.requests: list[dict[str, Any]] = []
        self.fail_next = 0  # answer that many requests with HTTP 500 first
        self.stall = 0.0  # seconds to wait before answering

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that timed out and hung up is part of the tests, not an error

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"


class _Handler(BaseHTTPRequestHandler):
    server: FakeEmbeddings

    def log_message(self, *args: Any) -> None:  # keep test output quiet
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.requests.append(body)
        time.sleep(self.server.stall)
        if self.server.fail_next > 0:
            self.server.fail_next -= 1
            self._send(500, {"error": {"message": "upstream hiccup", "type": "server_error"}})
            return
        dim = body.get("dimensions", 8)
        vectors = HashEmbedder(dim).embed_documents(body["input"]) * 3.0  # not unit length on purpose
        self._send(
            200,
            {
                "object": "list",
                "model": body["model"],
                "data": [
                    {"object": "embedding", "index": i, "embedding": v.tolist()}
                    for i, v in reversed(list(enumerate(vectors)))
                ],
                "usage": {"prompt_tokens": 1, "total_tokens": 1},
            },
        )

    def _send(self, status: int, payload: dict[str, Any]) -> None:
        send_json(self, status, payload)


@pytest.fixture
def fake() -> Iterator[FakeEmbeddings]:
    with serving(FakeEmbeddings()) as server:
        yield server


def embedder(fake: FakeEmbeddings, **kwargs: Any) -> OpenAIEmbedder:
    options: dict[str, Any] = {"dimensions": 8, "api_key": "test-key", "base_url": fake.url, "max_retries": 0}
    return OpenAIEmbedder("text-embedding-3-small", **{**options, **kwargs})


def test_batches_keep_order_and_rows_are_unit_vectors(fake: FakeEmbeddings) -> None:
    texts = ["alpha", "beta gamma", "", "delta", "epsilon"]
    vectors = embedder(fake, batch_size=2).embed_documents(texts)
    assert vectors.shape == (5, 8) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0)
    assert [r["input"] for r in fake.requests] == [["alpha", "beta gamma"], [" ", "delta"], ["epsilon"]]
    assert all(r["dimensions"] == 8 and r["model"] == "text-embedding-3-small" for r in fake.requests)
    assert np.allclose(vectors[3], HashEmbedder(8).embed_documents(["delta"])[0], atol=1e-6)


async def test_the_async_path_gives_the_same_vectors(fake: FakeEmbeddings) -> None:
    e = embedder(fake)
    assert np.allclose(await e.aembed_documents(["one", "two"]), e.embed_documents(["one", "two"]))
    assert (await e.aembed_query("one")).shape == (8,)


def test_server_errors_are_retried_with_backoff(fake: FakeEmbeddings) -> None:
    fake.fail_next = 1
    assert embedder(fake, max_retries=2).embed_query("retry me").shape == (8,)
    assert len(fake.requests) == 2


def test_a_stalled_server_times_out(fake: FakeEmbeddings) -> None:
    fake.stall = 1.0
    with pytest.raises(openai.APITimeoutError):
        embedder(fake, timeout=0.2).embed_query("too slow")


def test_unknown_models_need_a_dimension() -> None:
    with pytest.raises(ValueError, match="dimensions="):
        OpenAIEmbedder("my-own-model")
    assert OpenAIEmbedder("text-embedding-3-large").dimension == 3072


async def test_saving_through_a_timing_out_embedder_loses_nothing(fake: FakeEmbeddings, mem_factory: Any) -> None:
    e = embedder(fake, timeout=0.2)
    mem = await mem_factory(config=MemoryConfig(semantic_recall=SemanticRecall()), embedder=e)
    await mem.create_thread("ada", thread_id="t1")
    fake.stall = 1.0
    saved = await mem.save_messages([Message.user("my beagle is called Biscuit", id="m1", thread_id="t1")])
    assert [m.id for m in saved] == ["m1"]
    fake.stall = 0.0
    assert await mem.backfill_embeddings() == 1
    await mem.create_thread("ada", thread_id="t2")
    hits = (await mem.context("t2", "ada", query="what is my beagle called")).hits
    assert [h.message.id for h in hits] == ["m1"]
