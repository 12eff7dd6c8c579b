"""The LlamaIndex docs examples (docs/examples/llamaindex_*.py) run offline (embedded PostgreSQL, mock LLM)."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("llama_index.core", reason="llama-index is not installed: pip install 'mastra-memory[llama-index]'")

from tests.support import run_example


def test_llamaindex_agent_example_runs(tmp_path: Path) -> None:
    out = run_example("llamaindex_agent.py", tmp_path)
    assert "Stored as Mastra rows: [('user', ['text']), ('assistant', ['step-start', 'tool-invocation', " in out
    today = out.split("Thread 'today'", 1)[1]
    assert "remembered from a different conversation" in today
    assert "- user: I'm flying to Lisbon on May 3rd. Book me a fado show." in today
    assert today.rstrip().endswith("[user] Which city am I flying to in May?")


def test_llamaindex_blocks_example_runs(tmp_path: Path) -> None:
    out = run_example("llamaindex_blocks.py", tmp_path)
    profile = out.split("Working memory after Monday:", 1)[1].split("Monday as Mastra rows:", 1)[0]
    assert "- **First Name**: Ada" in profile and "- **Location**: Lyon" in profile
    assert "Monday as Mastra rows: ['user', 'assistant', 'user', 'assistant']" in out
    friday = out.split("Friday, a new thread", 1)[1]
    assert "<working_memory>" in friday and "<semantic_recall>" in friday
    recalled = friday.split("<semantic_recall>", 1)[1]
    assert "- user: I'm flying to Lisbon on May 3rd for a fado show." in recalled
    assert friday.rstrip().endswith("[user] Which city am I flying to in May?")


def test_llamaindex_chat_store_example_runs(tmp_path: Path) -> None:
    out = run_example("llamaindex_chat_store.py", tmp_path)
    assert "Mastra rows: [('user', \"I'm flying to Lisbon on May 3rd.\"), ('assistant'," in out
    assert "Newest two: ['Book a table for two at a fado house.', 'Done: dinner and fado at 20:30.']" in out
    assert "Removed: Great, Lisbon in May is lovely." in out
    assert "Keys (threads of user-ada): ['trip']" in out
    assert "Recalled: " in out and "| thread: trip" in out
