"""docs/examples/processors.py runs offline (embedded PostgreSQL, scripted title model) and shows each feature."""

from __future__ import annotations

from pathlib import Path

from tests.support import run_example


def test_processors_example_runs(tmp_path: Path) -> None:
    out = run_example("processors.py", tmp_path)
    lines = out.splitlines()
    assert lines[0] == "Title: Packing for Lisbon in May"
    assert lines[1] == "Kept: Lisbon with Clara"
    assert lines[2] == "Background title: Dinner ideas"
    assert lines[3].startswith("Context: 5 messages, ")
    assert lines[4] == "Without tool calls: 5 messages, 0 tool calls"
    assert lines[5] == (
        "Within 40 tokens: ['Any tips for the beach?', 'Bring sunscreen; the Atlantic stays cold until July.', "
        "'And where should we have dinner?']"
    )
