"""`mastra-memory demo`, end to end as a user runs it, and its optional LangChain agent step."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from mastra_memory.demo import load_conversation
from mastra_memory.embedded import EmbeddedPostgres
from tests.cli.conftest import Cli
from tests.support import send_json, serving


def _run_demo(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "OPENAI_API_KEY", "OPENAI_BASE_URL")}
    return subprocess.run(
        [sys.executable, "-m", "mastra_memory.cli", "demo", *args],
        capture_output=True, text=True, env={**env, "MASTRA_MEMORY_HOME": str(home), "COLUMNS": "120"}, timeout=300,
    )


def test_the_demo_runs_offline_on_the_embedded_server_and_every_fact_is_in_context(tmp_path: Path) -> None:
    try:
        first = _run_demo(tmp_path)
        assert first.returncode == 0, first.stderr
        conversation = load_conversation()
        assert f"stored 5 sessions ({conversation.message_count} messages)" in first.stdout
        assert f"✓ {len(conversation.questions)}/{len(conversation.questions)} questions" in first.stdout
        assert first.stdout.count("✓ Q") == len(conversation.questions) and "✗" not in first.stdout
        assert "✓ 'Dr. Costa': Learning Portuguese (22 Apr 2025)" in first.stdout  # where the fact came from
        assert "set OPENAI_API_KEY" in first.stdout  # how to turn the agent step on
        # Again, as JSON: the same rows are rewritten (no duplicates) and every check passes.
        again = _run_demo(tmp_path, "--json")
        assert again.returncode == 0, again.stderr
        report = json.loads(again.stdout)
        assert report["passed"] == report["checked"] == len(conversation.questions)
        assert report["agent"] is None and report["schema"] == "mastra_memory_demo"
        for question in report["questions"]:
            assert all(f["found"] and f["where"] for f in question["facts"])
            assert question["context"]["tokens"]["total"] > 0
    finally:
        EmbeddedPostgres(tmp_path / "pgdata").wipe()


class FakeChat(ThreadingHTTPServer):
    """An OpenAI-compatible /v1/chat/completions on 127.0.0.1 that answers with a fixed text and
    keeps what it was sent (a test double of the model server, not of our code)."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _ChatHandler)
        self.requests: list[dict[str, Any]] = []


class _ChatHandler(BaseHTTPRequestHandler):
    server: FakeChat

    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.requests.append(body)
        reply = {
            "id": "chatcmpl-1", "object": "chat.completion", "created": 0, "model": body["model"],
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": "Your dog is Biscuit, a beagle."}}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        }
        send_json(self, 200, reply)


@pytest.fixture
def chat_server() -> Iterator[FakeChat]:
    with serving(FakeChat()) as server:
        yield server


def test_with_a_model_server_a_langchain_agent_answers_from_the_same_memory(
    cli: Cli, chat_server: FakeChat, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("OPENAI_BASE_URL", f"http://127.0.0.1:{chat_server.server_address[1]}/v1")
    monkeypatch.setenv("MASTRA_MEMORY_DEMO_MODEL", "fake-model")
    result = cli("demo", "-q", "What is my dog called, and what breed is he?", "--json")
    assert result.code == 0, result.err
    report = result.json()
    assert report["agent"] == [{
        "question": "What is my dog called, and what breed is he?",
        "answer": "Your dog is Biscuit, a beagle.",
        "facts_mentioned": [],  # a question of one's own has no facts to check
    }]
    assert len(chat_server.requests) == 1 and chat_server.requests[0]["model"] == "fake-model"
    system = chat_server.requests[0]["messages"][0]["content"]
    assert "allergic to shellfish" in system  # working memory reached the model
    assert "flying with Biscuit, my beagle" in system  # so did a recalled message of another thread


def test_an_unreachable_model_server_is_a_provider_error(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:1/v1")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    result = cli("demo", "-q", "Where do I live?")
    assert result.code == 6
    assert result.err.startswith("mastra-memory: error: the chat model 'gpt-4o-mini' failed")
    assert result.err.count("\n") == 1
