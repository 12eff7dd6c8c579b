"""export / import: JSON Lines per thread, and a round trip that gives back exactly what went out."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import psycopg

from mastra_memory import Memory, MemoryConfig, Message
from mastra_memory.cli import Exit
from tests.cli.conftest import Cli
from tests.support import drop_schema, fresh_schema

TOOL_TURN = {
    "format": 2,
    "parts": [
        {"type": "step-start"},
        {"type": "reasoning", "reasoning": "look it up", "details": [{"type": "text", "text": "look it up"}]},
        {
            "type": "tool-invocation",
            "toolInvocation": {
                "state": "result", "toolCallId": "call_1", "toolName": "weather",
                "args": {"city": "Lisbon"}, "result": {"temp": 21, "sky": ["sun", "clouds"]},
            },
        },
        {"type": "text", "text": "It is 21 °C and sunny in Lisbon."},
        {"type": "file", "mimeType": "image/png", "data": "aGVsbG8="},
        {"type": "data-custom", "data": {"kept": "verbatim"}},
    ],
    "content": "It is 21 °C and sunny in Lisbon.",
    "metadata": {"model": "gpt-4o-mini", "usage": {"tokens": 42}},
    "toolInvocations": [{"state": "result", "toolCallId": "call_1", "toolName": "weather", "args": {}}],
}


def _populate(memory: Memory) -> None:
    start = datetime(2025, 3, 1, 9, 30, 15, 123000, tzinfo=timezone.utc)
    memory.save_thread("trip", "user-ada", title="Trip — Lisbon", metadata={"tags": ["travel"], "n": 1.5},
                       created_at=start, updated_at=start)
    memory.save_messages([
        Message.user("What's the weather in Lisbon?", id="m1", thread_id="trip", created_at=start),
        Message.of("assistant", TOOL_TURN, id="m2", thread_id="trip", created_at=start.replace(second=16)),
        Message.system("Be brief.", id="m3", thread_id="trip", created_at=start.replace(second=17)),
    ])
    memory.create_thread("user-ada", thread_id="empty", title="", metadata={"workingMemory": "thread notes"})
    memory.create_thread("user-bob", thread_id="bob", title="Bob")
    memory.save_messages([Message.user("hi", id="b1", thread_id="bob")])
    memory.update_resource("user-ada", working_memory="# Ada\n- Lisbon in May", metadata={"plan": "pro"})


def _lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _without_resource_times(lines: list[dict[str, object]]) -> list[dict[str, object]]:
    out = []
    for line in lines:
        if "resource" in line:
            resource = dict(line["resource"])  # type: ignore[call-overload]
            resource.pop("createdAt")
            resource.pop("updatedAt")
            line = {"resource": resource}
        out.append(line)
    return out


def test_export_then_import_is_exact(cli: Cli, memory: Memory, pg_dsn: str, tmp_path: Path) -> None:
    _populate(memory)
    first = tmp_path / "first.jsonl"
    result = cli("export", "-o", str(first), "--json")
    assert result.code == 0, result.err
    assert result.json() == {"output": str(first), "threads": 3, "messages": 4, "resources": 1}
    lines = _lines(first)
    assert lines[0] == {"format": "mastra-memory/export", "version": 1}
    assert {t["thread"]["id"] for t in lines if "thread" in t} == {"trip", "empty", "bob"}  # type: ignore[index]
    trip = next(t for t in lines if "thread" in t and t["thread"]["id"] == "trip")  # type: ignore[index]
    assert trip["messages"][1]["content"] == TOOL_TURN  # type: ignore[index]

    other = fresh_schema()
    try:
        imported = cli("--schema", other, "import", str(first), on_schema=False)
        assert imported.code == 0, imported.err
        assert "imported 3 thread(s), 4 message(s), 1 resource(s)" in imported.out
        second = tmp_path / "second.jsonl"
        assert cli("--schema", other, "export", "-o", str(second), on_schema=False).code == 0
        # Identical, line for line: ids, times (to the millisecond), titles, metadata, every content
        # part. Only the resource row's own timestamps are the import's (no API sets them).
        assert _without_resource_times(_lines(second)) == _without_resource_times(lines)
        with Memory.connect(pg_dsn, schema=other, config=MemoryConfig(), min_size=0, max_size=1) as copy:
            assert copy.get_resource("user-ada").working_memory == "# Ada\n- Lisbon in May"  # type: ignore[union-attr]
            assert copy.get_thread("trip") == memory.get_thread("trip")
            copied = copy.list_messages("trip", per_page=None).messages
            assert copied == memory.list_messages("trip", per_page=None).messages
        # Importing again overwrites in place: nothing doubles.
        assert cli("--schema", other, "import", str(first), on_schema=False).code == 0
        with psycopg.connect(pg_dsn) as conn:
            count = conn.execute(f'SELECT count(*) FROM "{other}".mastra_messages').fetchone()
        assert count == (4,)
    finally:
        drop_schema(pg_dsn, other)


def test_export_selects_by_resource_or_thread(cli: Cli, memory: Memory, tmp_path: Path) -> None:
    _populate(memory)
    out = tmp_path / "x.jsonl"
    assert cli("export", "-o", str(out), "--resource", "user-bob").code == 0
    assert [line.get("thread", {}).get("id") for line in _lines(out)[1:]] == ["bob"]  # type: ignore[attr-defined]
    assert cli("export", "-o", str(out), "--thread", "trip", "--thread", "empty").code == 0
    assert [line["thread"]["id"] for line in _lines(out) if "thread" in line] == ["trip", "empty"]  # type: ignore[index]
    assert cli("export", "-o", str(out), "--thread", "nope").code == Exit.NOT_FOUND


def test_a_bad_import_file_writes_nothing_and_exits_2(cli: Cli, memory: Memory, tmp_path: Path) -> None:
    memory.migrate()
    good = '{"thread":{"id":"t1","resourceId":"r","title":"","metadata":null,"createdAt":"2025-01-01T00:00:00+00:00",' \
           '"updatedAt":"2025-01-01T00:00:00+00:00"},"messages":[]}'
    cases = {
        "not json": "line 2 is not JSON",
        '{"thread": {"id": "t2"}, "messages": []}': "line 2: field 'resourceId' is missing",
        '{"something": 1}': "line 2: expected a 'resource' or 'thread' record",
        good.replace('"messages":[]', '"messages":[{"id":"m","role":"tool","content":{"format":2,"parts":[]},'
                     '"createdAt":"2025-01-01T00:00:00+00:00"}]'): "role 'tool' is not user, assistant or system",
        good.replace("2025-01-01T00:00:00+00:00", "2025-01-01"): "has no time zone offset",
    }
    for second_line, message in cases.items():
        path = tmp_path / "bad.jsonl"
        path.write_text(good + "\n" + second_line + "\n", encoding="utf-8")
        result = cli("import", str(path))
        assert result.code == Exit.USAGE, second_line
        assert message in result.err and result.err.count("\n") == 1
    assert memory.get_thread("t1") is None  # the good first line was not written either
    assert cli("import", str(tmp_path / "missing.jsonl")).code == Exit.USAGE


def test_import_with_embed_makes_messages_recallable(cli: Cli, memory: Memory, tmp_path: Path) -> None:
    _populate(memory)
    path = tmp_path / "e.jsonl"
    cli("export", "-o", str(path))
    assert cli("import", str(path), "--embed").code == 0
    ctx = cli("recall", "empty", "weather in Lisbon", "--json").json()
    assert "m2" in [h["message"]["id"] for h in ctx["hits"]]
