"""The embedded default (no DSN), as a user runs it; the CLI's own tests are in tests/cli/."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from mastra_memory.embedded import EmbeddedPostgres, default_data_dir
from tests.support import run_example

ROOT = Path(__file__).resolve().parents[2]

START_AND_WRITE = """
import sys
from mastra_memory import Memory, Message
with Memory.connect(data_dir=sys.argv[1]) as memory:
    thread = memory.create_thread("r-" + sys.argv[2])
    memory.save_messages([Message.user("hello from " + sys.argv[2], thread_id=thread.id)])
    print(len(memory.list_threads().threads))
"""


def test_two_processes_starting_the_embedded_server_at_once_both_work(tmp_path: Path) -> None:
    data_dir = tmp_path / "pgdata"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", START_AND_WRITE, str(data_dir), name],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("a", "b")
    ]
    outputs = [p.communicate(timeout=120) for p in procs]
    for proc, (_, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err
    assert sorted(int(out.strip()) for out, _ in outputs)[-1] == 2  # the second one saw both threads
    server = EmbeddedPostgres(data_dir)
    dsn = server.start()
    with psycopg.connect(dsn) as conn:
        texts = conn.execute("SELECT content FROM mastra_messages ORDER BY content").fetchall()
    assert [t for (t,) in texts] == [
        '{"format":2,"parts":[{"type":"text","text":"hello from a"}]}',
        '{"format":2,"parts":[{"type":"text","text":"hello from b"}]}',
    ]
    server.wipe()
    assert not data_dir.exists()


def test_stop_keeps_the_data_and_a_new_start_finds_it(tmp_path: Path) -> None:
    server = EmbeddedPostgres(tmp_path / "pgdata")
    with psycopg.connect(server.start(), autocommit=True) as conn:
        conn.execute("CREATE TABLE kept (x int)")
    server.stop()
    assert not (tmp_path / "pgdata" / "postmaster.pid").exists()
    server.stop()  # stopping a stopped server is fine
    with psycopg.connect(EmbeddedPostgres(tmp_path / "pgdata").start()) as conn:
        assert conn.execute("SELECT count(*) FROM kept").fetchone() == (0,)
    EmbeddedPostgres(tmp_path / "pgdata").wipe()


def test_the_data_directory_follows_mastra_memory_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MASTRA_MEMORY_HOME", str(tmp_path))
    assert default_data_dir() == tmp_path / "pgdata"
    monkeypatch.delenv("MASTRA_MEMORY_HOME")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    if sys.platform.startswith("linux"):
        assert default_data_dir() == tmp_path / "xdg" / "mastra-memory" / "pgdata"


def test_quickstart_example_runs_on_the_embedded_default(tmp_path: Path) -> None:
    out = run_example("quickstart.py", tmp_path)
    lines = out.splitlines()
    assert lines[0].endswith("user: I'm flying to Lisbon on May 3rd. Remind me to book a fado show.")
    assert lines[2].endswith("user: Also, I'm vegetarian.")
    assert lines[-1] == "user-ada has 1 thread(s); this one holds 3 message(s)"


def test_recall_example_finds_the_answer_in_another_thread(tmp_path: Path) -> None:
    out = run_example("recall.py", tmp_path)
    assert out.startswith("The following messages were remembered from a different conversation:")
    assert "- user: I'm flying to Lisbon on May 3rd for a conference." in out
    assert "user: Which city am I flying to in May?" in out
    assert "recalled " in out.splitlines()[-1]


def test_working_memory_example_shares_the_profile_across_threads(tmp_path: Path) -> None:
    out = run_example("working_memory.py", tmp_path)
    assert out.startswith("tool 'updateWorkingMemory' takes ['memory']")
    assert "- **First Name**: Ada\n- **Location**: Lyon" in out


def test_every_docs_example_is_run_by_a_test() -> None:
    tests = "\n".join(p.read_text() for p in (ROOT / "tests").rglob("test_*.py"))
    examples = sorted(p.name for p in (ROOT / "docs" / "examples").glob("*.py"))
    assert examples, "docs/examples is empty"
    assert [name for name in examples if f'"{name}"' not in tests] == []
