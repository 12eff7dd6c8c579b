"""docs/examples/langchain_agent.py runs offline (embedded PostgreSQL, fake model) and shows recall working."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("langchain", reason="langchain is not installed: pip install 'mastra-memory[langchain]'")

from mastra_memory.embedded import EmbeddedPostgres

ROOT = Path(__file__).resolve().parents[2]


def test_langchain_agent_example_runs(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "docs" / "examples" / "langchain_agent.py")],
        capture_output=True,
        text=True,
        env={**os.environ, "MASTRA_MEMORY_HOME": str(tmp_path)},
        timeout=180,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Stored as Mastra rows: [('user', ['text']), ('assistant', ['step-start', 'tool-invocation', " in out
    today = out.split("Thread 'today'", 1)[1]
    assert "remembered from a different conversation" in today
    assert "- user: I'm flying to Lisbon on May 3rd. Book me a fado show." in today
    assert out.rstrip().endswith("Answer: You are flying to Lisbon.")
    EmbeddedPostgres(tmp_path / "pgdata").wipe()
