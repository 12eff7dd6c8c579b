"""The observational-memory docs example runs offline on the embedded server, as a user would run it."""

from __future__ import annotations

from pathlib import Path

from tests.support import run_example


def test_observational_memory_example_replaces_messages_with_observations(tmp_path: Path) -> None:
    out = run_example("observational_memory.py", tmp_path)
    lines = out.splitlines()
    assert lines[0] == "observed now: True; raw messages left: 0"
    assert lines[1] == "<observations>"
    assert lines[2].startswith("Date: May 1, 2025 (") and lines[2].endswith(" ago)")
    assert "* 🔴 (09:31) User stated they are vegetarian." in lines
    assert "* (09:32) Assistant suggested booking a fado show in Alfama." in lines  # 🟡 stripped for the agent
    assert lines[-1].startswith("generation 0, ") and lines[-1].endswith(", 4 messages observed")
