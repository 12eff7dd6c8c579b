"""The observational-memory docs example runs offline on the embedded server, as a user would run it."""

from __future__ import annotations

import tempfile
from pathlib import Path

from tests.support import run_example


def test_observational_memory_example_replaces_messages_with_observations() -> None:
    # Its own temporary directory, not tmp_path: with several pytest sessions at once, pytest's
    # clean-up of old numbered base directories can remove another session's tmp_path mid-test.
    with tempfile.TemporaryDirectory(prefix="mm-om-example-") as home:
        out = run_example("observational_memory.py", Path(home))
    lines = out.splitlines()
    assert lines[0] == "observed now: True; raw messages left: 0"
    assert lines[1] == "<observations>"
    assert lines[2].startswith("Date: May 1, 2025 (") and lines[2].endswith(" ago)")
    assert "* 🔴 (09:31) User stated they are vegetarian." in lines
    assert "* (09:32) Assistant suggested booking a fado show in Alfama." in lines  # 🟡 stripped for the agent
    assert lines[-1].startswith("generation 0, ") and lines[-1].endswith(", 4 messages observed")
