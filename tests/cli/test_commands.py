"""Every command against the test server (a fresh schema each), with --json parsed and exit codes checked."""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from pathlib import Path

import psycopg
import pytest

from mastra_memory import Memory, Message
from mastra_memory.cli import Exit, hoist_global_options
from mastra_memory.cli._admin import parse_duration
from mastra_memory.storage._migrations import MIGRATIONS
from tests.cli.conftest import Cli


def test_migrate_applies_then_reports_up_to_date(cli: Cli, schema: str) -> None:
    first = cli("migrate")
    assert first.code == 0, first.err
    versions = ", ".join(str(m.version) for m in MIGRATIONS)
    assert f"migrated schema '{schema}' of the database: applied version(s) {versions}\n" == first.out
    second = cli("migrate", "--json")
    assert second.code == 0
    assert second.json() == {"schema": schema, "embedded": False, "applied": []}


def test_global_options_may_follow_the_command() -> None:
    assert hoist_global_options(["threads", "list", "--json", "--schema", "s", "--dsn=x"]) == [
        "--json", "--schema", "s", "--dsn=x", "threads", "list",
    ]
    assert hoist_global_options(["import", "--", "--json"]) == ["import", "--", "--json"]


def test_a_bad_schema_name_is_one_line_and_exit_2(cli: Cli) -> None:
    result = cli("migrate", "--schema", "bad-name", on_schema=False)
    assert result.code == Exit.USAGE == 2
    assert result.err.startswith("mastra-memory: error: schema name 'bad-name' is not allowed")
    assert result.err.count("\n") == 1 and "Traceback" not in result.err


def test_usage_errors_exit_2_with_one_line(cli: Cli) -> None:
    unknown = cli("frobnicate")
    assert unknown.code == 2
    assert unknown.err.startswith("mastra-memory: error: No such command 'frobnicate'")
    bad_value = cli("threads", "list", "--limit", "many")
    assert bad_value.code == 2
    assert "--limit" in bad_value.err and bad_value.err.count("\n") == 1


def test_an_unreachable_database_exits_4(cli: Cli) -> None:
    result = cli("threads", "list", dsn="postgresql://nobody@127.0.0.1:1/none?connect_timeout=1")
    assert result.code == Exit.DATABASE == 4
    assert result.err.startswith("mastra-memory: error: ")
    assert result.err.count("\n") == 1


def test_an_unmigrated_schema_exits_5_and_says_to_migrate(cli: Cli) -> None:
    result = cli("threads", "list")  # a DSN is given, so reads do not migrate
    assert result.code == Exit.SCHEMA == 5
    assert "mastra-memory migrate" in result.err


def test_debug_shows_the_traceback(cli: Cli) -> None:
    cli("migrate")
    result = cli("--debug", "threads", "show", "nope")
    assert result.code == Exit.NOT_FOUND
    assert "Traceback (most recent call last)" in result.err
    assert result.err.rstrip().splitlines()[-1].startswith("mastra-memory: error: ")


def test_threads_list_and_show(cli: Cli, memory: Memory) -> None:
    trip = memory.create_thread("user-ada", thread_id="trip", title="Trip [planning]")
    memory.create_thread("user-bob", thread_id="bob-1", title="Bob's")
    memory.save_messages([
        Message.user("I'm flying to Lisbon on May 3rd.", thread_id=trip.id),
        Message.assistant("Noted: Lisbon, May 3rd.", thread_id=trip.id),
    ])
    listing = cli("threads", "list", "--resource", "user-ada", "--json").json()
    assert listing["total"] == 1 and [t["id"] for t in listing["threads"]] == ["trip"]
    assert listing["threads"][0]["title"] == "Trip [planning]"
    table = cli("threads", "list")
    assert table.code == 0 and "2 thread(s)" in table.out
    assert "Trip [planning]" in table.out  # brackets are shown, not read as markup
    shown = cli("threads", "show", "trip", "--json").json()
    assert shown["thread"]["resourceId"] == "user-ada"
    assert [m["content"]["parts"][0]["text"] for m in shown["messages"]] == [
        "I'm flying to Lisbon on May 3rd.", "Noted: Lisbon, May 3rd.",
    ]
    newest = cli("threads", "show", "trip", "-n", "1", "--json").json()
    assert [m["role"] for m in newest["messages"]] == ["assistant"]
    assert "Lisbon" in cli("threads", "show", "trip").out


def test_showing_a_missing_thread_exits_3(cli: Cli, memory: Memory) -> None:
    result = cli("threads", "show", "nope")
    assert result.code == Exit.NOT_FOUND == 3
    assert result.err == f"mastra-memory: error: thread 'nope' does not exist in schema '{memory.schema}'\n"


def test_recall_shows_hits_sources_working_memory_and_tokens(cli: Cli, memory: Memory) -> None:
    memory.create_thread("user-ada", thread_id="old", title="Trip planning")
    memory.save_messages([
        Message.user("I'm flying to Lisbon on May 3rd for a conference.", thread_id="old"),
        Message.assistant("Great, Lisbon is lovely in May.", thread_id="old"),
        Message.user("My cat is called Pixel.", thread_id="old"),
    ])
    memory.create_thread("user-ada", thread_id="new", title="Today")
    memory.update_resource("user-ada", working_memory="# User\n- **Name**: Ada")
    cli("backfill-embeddings", "--scan")  # the fixture's memory saved without recall; embed now
    result = cli("recall", "new", "Which city am I flying to in May?", "--top-k", "2", "--json")
    assert result.code == 0, result.err
    ctx = result.json()
    assert ctx["resource_id"] == "user-ada" and ctx["working_memory"] == "# User\n- **Name**: Ada"
    texts = [h["message"]["content"]["parts"][0]["text"] for h in ctx["hits"]]
    assert texts[0] == "I'm flying to Lisbon on May 3rd for a conference."
    assert ctx["hits"][0]["message"]["threadId"] == "old" and ctx["hits"][0]["same_thread"] is False
    assert ctx["sources"][ctx["hits"][0]["message"]["id"]] == "recall"
    assert ctx["tokens"]["total"] == ctx["tokens"]["system"] + ctx["tokens"]["history"] + ctx["tokens"]["recall"]
    assert any("Lisbon" in block for block in ctx["system"])
    screen = cli("recall", "new", "Which city am I flying to in May?")
    assert "Trip planning" in screen.out and "tokens:" in screen.out and "working memory" in screen.out


def test_recall_for_an_unknown_thread_needs_a_resource(cli: Cli, memory: Memory) -> None:
    assert cli("recall", "nope", "anything").code == Exit.NOT_FOUND
    assert cli("recall", "nope", "anything", "--resource", "someone", "--json").json()["hits"] == []


def test_working_memory_set_and_get(cli: Cli, memory: Memory, tmp_path: Path) -> None:
    memory.create_thread("user-ada", thread_id="t1")
    saved = cli("working-memory", "set", "t1", "--text", "# Ada\n- lives in Lyon", "--json").json()
    assert saved == {"saved": True, "working_memory": "# Ada\n- lives in Lyon", "message": None}
    assert cli("working-memory", "get", "t1", "--json").json()["working_memory"] == "# Ada\n- lives in Lyon"
    assert memory.get_resource("user-ada").working_memory == "# Ada\n- lives in Lyon"  # type: ignore[union-attr]
    doc = tmp_path / "wm.md"
    doc.write_text("# Ada\n- moved to Porto\n", encoding="utf-8")
    assert cli("working-memory", "set", "--resource", "user-ada", "--file", str(doc)).code == 0
    got = cli("working-memory", "get", "--resource", "user-ada", "--json").json()
    assert got["working_memory"] == "# Ada\n- moved to Porto\n"
    assert "moved to Porto" in cli("working-memory", "get", "t1").out
    # thread scope keeps the document in the thread's metadata, as Mastra does
    assert cli("working-memory", "set", "t1", "--scope", "thread", "--text", "thread notes").code == 0
    assert memory.get_thread("t1").metadata == {"workingMemory": "thread notes"}  # type: ignore[union-attr]


def test_working_memory_input_errors_exit_2(cli: Cli, memory: Memory) -> None:
    assert cli("working-memory", "set", "t1").code == 2  # neither --text nor --file
    assert cli("working-memory", "get").code == 2  # neither a thread nor --resource
    missing = cli("working-memory", "set", "--resource", "r", "--file", "/nonexistent/wm.md")
    assert missing.code == 2 and "cannot read /nonexistent/wm.md" in missing.err


def test_sql_prints_a_migration_that_applies_cleanly(cli: Cli, pg_dsn: str, schema: str) -> None:
    result = cli("sql", "--dim", "256")
    assert result.code == 0, result.err
    assert result.out.splitlines()[1] == "BEGIN;"
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute(result.out)
    assert cli("migrate", "--json").json()["applied"] == []  # the script did what migrate does
    with psycopg.connect(pg_dsn) as conn:
        tables = {r for (r,) in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = %s", (schema,))}
    assert {"mastra_threads", "mastra_messages", "mastra_resources", "memory_messages_256"} <= tables


def test_sql_supabase_prints_row_level_security(cli: Cli, schema: str) -> None:
    result = cli("sql", "--supabase", "--dim", "256", "--json")
    assert result.code == 0, result.err
    script = result.json()["sql"]
    assert "ENABLE ROW LEVEL SECURITY" in script and "CREATE POLICY" in script and schema in script
    assert cli("sql", "--membership").code == 2  # --membership is a Supabase option


def test_commands_whose_module_is_missing_exit_7(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "mastra_memory.supabase", None)  # as if it were not installed
    for args in (("sql", "--supabase"), ("doctor",)):
        result = cli(*args)
        assert result.code == Exit.UNAVAILABLE == 7
        assert result.err.startswith(f"mastra-memory: error: {args[0]}") and "mastra_memory.supabase" in result.err


def test_doctor_reports_checks(cli: Cli) -> None:
    import mastra_memory.supabase as supabase

    if not hasattr(supabase, "doctor"):
        pytest.skip("mastra_memory.supabase.doctor is not in this version yet")
    cli("migrate")
    result = cli("doctor", "--json")
    report = result.json()
    assert report["checks"] and all({"name", "ok", "detail"} <= set(c) for c in report["checks"])
    assert result.code == (0 if report["ok"] else Exit.CHECKS_FAILED)


def test_backfill_embeddings_embeds_history_written_without_recall(cli: Cli, memory: Memory) -> None:
    memory.create_thread("r", thread_id="t")
    memory.save_messages([Message.user(f"message {i}", thread_id="t") for i in range(5)])
    assert cli("backfill-embeddings", "--json").json() == {"embedded": 0, "scan": False}  # nothing queued
    assert cli("backfill-embeddings", "--scan", "--batch-size", "2", "--json").json()["embedded"] == 5
    assert "embedded 5 message(s)" in cli("backfill-embeddings", "--scan", "--resource", "r").out


def test_sweep_deletes_old_threads(cli: Cli, memory: Memory) -> None:
    if not hasattr(memory, "sweep_threads"):
        pytest.skip("Memory.sweep_threads is not in this version yet")
    old = datetime(2020, 1, 1, tzinfo=timezone.utc)
    memory.save_thread("old", "r", created_at=old, updated_at=old)
    memory.create_thread("r", thread_id="new")
    dry = cli("sweep", "--older-than", "2021-01-01", "--dry-run", "--json").json()
    assert dry["thread_ids"] == ["old"] and dry["dry_run"] is True
    assert memory.get_thread("old") is not None
    done = cli("sweep", "--older-than", "2021-01-01")
    assert done.code == 0 and "deleted 1 thread(s)" in done.out
    assert memory.get_thread("old") is None and memory.get_thread("new") is not None
    assert cli("sweep", "--idle-for", "3650d", "--json").json()["thread_ids"] == []


def test_sweep_input_errors_exit_2(cli: Cli) -> None:
    assert cli("sweep").code == 2
    assert "not a duration" in cli("sweep", "--idle-for", "soon").err
    assert "not an ISO date" in cli("sweep", "--older-than", "yesterday").err


def test_durations() -> None:
    assert parse_duration("30d").days == 30
    assert parse_duration("1d12h").total_seconds() == 36 * 3600
    assert parse_duration("2w").days == 14


def test_bench_prints_figures_and_one_statement_per_call(cli: Cli, pg_dsn: str) -> None:
    result = cli("bench", "--threads", "2", "--turns", "2", "--reads", "5", "--contexts", "5", "--json",
                 on_schema=False)
    assert result.code == 0, result.err
    figures = result.json()["results"]
    assert [f["operation"] for f in figures] == [
        "save turn (2 messages, embedded)", "read last 20 messages", "context (history + hybrid recall)",
    ]
    assert [f["calls"] for f in figures] == [4, 5, 5]
    assert [f["statements_per_call"] for f in figures] == [1.0, 1.0, 1.0]
    with psycopg.connect(pg_dsn) as conn:  # its throwaway schema is gone
        left = conn.execute("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'mastra_memory_bench_%'").fetchone()
    assert left == (0,)
