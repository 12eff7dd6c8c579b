"""OpenAIChatModel against a fake OpenAI-compatible HTTP server on 127.0.0.1 (a test double of the
chat-completions endpoint, not a mock of our code): requests, retries, timeouts, and observational
memory running through it end to end."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

pytest.importorskip("openai")

from mastra_memory import MemoryConfig, Message, ObservationalMemory, ProviderError
from mastra_memory.models import AsyncChatModel, ChatModel, ChatTurn, OpenAIChatModel
from mastra_memory.observational._prompts import messages_tokens

from ..support import send_json, serving
from .fakes import observer_reply


class FakeChat(ThreadingHTTPServer):
    """POST /v1/chat/completions answered with ``reply``; can fail or stall on demand."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.requests: list[dict[str, Any]] = []
        self.reply = "hello"
        self.fail_next = 0
        self.stall = 0.0

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that timed out and hung up is part of the tests

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"


class _Handler(BaseHTTPRequestHandler):
    server: FakeChat

    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.requests.append({**body, "authorization": self.headers.get("Authorization")})
        time.sleep(self.server.stall)
        if self.server.fail_next > 0:
            self.server.fail_next -= 1
            self._send(500, {"error": {"message": "upstream hiccup", "type": "server_error"}})
            return
        self._send(200, {
            "id": "chatcmpl-1", "object": "chat.completion", "created": 0, "model": body["model"],
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": self.server.reply}}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        })

    def _send(self, status: int, payload: dict[str, Any]) -> None:
        send_json(self, status, payload)


@pytest.fixture
def fake() -> Iterator[FakeChat]:
    with serving(FakeChat()) as server:
        yield server


def chat(fake: FakeChat, **kwargs: Any) -> OpenAIChatModel:
    options: dict[str, Any] = {"api_key": "test-key", "base_url": fake.url, "max_retries": 0}
    return OpenAIChatModel("gpt-test", **{**options, **kwargs})


def test_it_sends_the_turns_and_returns_the_text(fake: FakeChat) -> None:
    model = chat(fake, temperature=0.1, extra={"seed": 7})
    assert isinstance(model, ChatModel) and isinstance(model, AsyncChatModel)
    out = model.complete([ChatTurn("system", "be brief"), ChatTurn("user", "hi")], max_tokens=50)
    assert out == "hello" and model.model_id == "gpt-test"
    (sent,) = fake.requests
    assert sent["messages"] == [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}]
    assert (sent["model"], sent["temperature"], sent["max_completion_tokens"], sent["seed"]) == ("gpt-test", 0.1, 50, 7)
    assert sent["authorization"] == "Bearer test-key"


async def test_the_async_path_gives_the_same_reply(fake: FakeChat) -> None:
    assert await chat(fake).acomplete([ChatTurn("user", "hi")]) == "hello"


def test_the_key_and_server_can_come_from_the_environment(fake: FakeChat, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "env-key")
    monkeypatch.setenv("OPENAI_BASE_URL", fake.url)
    assert OpenAIChatModel("gpt-test", max_retries=0).complete([ChatTurn("user", "hi")]) == "hello"
    assert fake.requests[0]["authorization"] == "Bearer env-key"


def test_server_errors_are_retried_then_reported(fake: FakeChat) -> None:
    fake.fail_next = 1
    assert chat(fake, max_retries=1).complete([ChatTurn("user", "hi")]) == "hello"
    assert len(fake.requests) == 2
    fake.fail_next = 5
    with pytest.raises(ProviderError, match="gpt-test"):
        chat(fake).complete([ChatTurn("user", "hi")])


async def test_a_stalled_server_times_out_as_a_provider_error(fake: FakeChat) -> None:
    fake.stall = 1.0
    with pytest.raises(ProviderError, match="Timeout"):
        await chat(fake, timeout=0.2).acomplete([ChatTurn("user", "too slow")])


async def test_observational_memory_runs_through_it(fake: FakeChat, mem_factory: Any) -> None:
    fake.reply = observer_reply(["🔴 (09:00) User stated their cat is called Miso"])
    msgs = [Message.user("my cat is called Miso", id="c1", thread_id="t1")]
    cfg = ObservationalMemory(model=chat(fake), observation_tokens=messages_tokens(msgs))
    mem = await mem_factory(config=MemoryConfig(observational_memory=cfg))
    await mem.create_thread("ada", thread_id="t1")
    await mem.save_messages(msgs)
    ctx = await mem.context("t1", "ada")
    assert ctx.observations.observed_now
    assert any("Miso" in block for block in ctx.system)
    assert fake.requests[0]["messages"][0]["role"] == "system"


async def test_a_timing_out_model_keeps_the_history(fake: FakeChat, mem_factory: Any) -> None:
    fake.stall = 1.0
    msgs = [Message.user("my cat is called Miso", id="c1", thread_id="t1")]
    cfg = ObservationalMemory(model=chat(fake, timeout=0.2), observation_tokens=messages_tokens(msgs))
    mem = await mem_factory(config=MemoryConfig(observational_memory=cfg))
    await mem.create_thread("ada", thread_id="t1")
    await mem.save_messages(msgs)
    ctx = await mem.context("t1", "ada")
    assert ctx.observations.error is not None and "Timeout" in ctx.observations.error
    assert [m.id for m in ctx.messages] == ["c1"]
    assert await mem.get_observations("t1", "ada") is None
