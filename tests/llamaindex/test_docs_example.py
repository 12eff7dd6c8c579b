"""docs/examples/llamaindex_agent.py runs offline (embedded PostgreSQL, mock LLM) and shows recall working."""

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
