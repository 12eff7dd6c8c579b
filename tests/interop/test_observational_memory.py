"""Observational memory shared with Mastra: its writes land in the table we migrate, it reads the
records and thread cursor we write, and we read (and extend) the records it writes, through
@mastra/pg's storage API (no model on the Mastra side; a scripted model on ours)."""

from __future__ import annotations

import json
from datetime import timezone
from typing import Any

from mastra_memory import MemoryConfig, Message, ObservationalMemory
from mastra_memory.observational._inject import CONTINUATION_ID

from ..observational.fakes import ScriptedChatModel, observer_reply
from . import iso_ms, op, parse_iso
from .conftest import Db, Mastra, Ours

OM_COLUMNS = (
    "SELECT column_name, data_type, is_nullable, column_default FROM information_schema.columns "
    "WHERE table_schema = current_schema() AND table_name = 'mastra_observational_memory' ORDER BY ordinal_position"
)
CONFIG = {"observation": {"messageTokens": 30000}, "reflection": {"observationTokens": 40000}, "scope": "resource"}
OBSERVED_AT = "2025-05-01T09:30:00.250Z"


async def test_mastra_observational_memory_rows_fit_our_migrated_table(
    mastra: Mastra, ours: Ours, db: Db, schema: str
) -> None:
    await ours(schema)
    ours_columns = await db(schema, OM_COLUMNS)
    got = await mastra(
        schema,
        [
            op("init"),
            op("createThread", threadId="t-1", resourceId="alice"),
            op(
                "initializeObservationalMemory",
                resourceId="alice",
                scope="resource",
                config=CONFIG,
                observedTimezone="Europe/Paris",
            ),
            op(
                "updateActiveObservations",
                resourceId="alice",
                observations="- 🟢 Alice likes night trains",
                tokenCount=12.4,
                lastObservedAt=OBSERVED_AT,
                observedMessageIds=["m-1", "m-2"],
            ),
            op("createReflectionGeneration", resourceId="alice", reflection="- Alice: trains, Vienna", tokenCount=7),
            op("initializeObservationalMemory", threadId="t-1", resourceId="alice", scope="thread"),
            op("getObservationalMemoryHistory", resourceId="alice"),
            op("getObservationalMemory", threadId="t-1", resourceId="alice"),
        ],
    )
    # Mastra's init left our table as we made it, so every write below went into our columns.
    assert await db(schema, OM_COLUMNS) == ours_columns

    rows = await db(schema, 'SELECT * FROM mastra_observational_memory ORDER BY "lookupKey", "generationCount"')
    assert [
        (r["lookupKey"], r["scope"], r["resourceId"], r["threadId"], r["generationCount"], r["originType"])
        for r in rows
    ] == [
        ("resource:alice", "resource", "alice", None, 0, "initial"),
        ("resource:alice", "resource", "alice", None, 1, "reflection"),
        ("thread:t-1", "thread", "alice", "t-1", 0, "initial"),
    ]
    initial, reflection, thread = rows
    assert initial["id"] == got[2]["id"]
    assert thread["id"] == got[5]["id"]
    assert initial["activeObservations"] == "- 🟢 Alice likes night trains"
    tokens = ("observationTokenCount", "totalTokensObserved", "pendingMessageTokens")
    assert [initial[k] for k in tokens] == [12, 12, 0]  # Mastra rounds 12.4
    assert initial["observedMessageIds"] == ["m-1", "m-2"]  # jsonb
    assert json.loads(initial["config"]) == CONFIG  # a text column holding JSON
    assert initial["observedTimezone"] == "Europe/Paris"
    assert initial["lastObservedAtZ"] == parse_iso(OBSERVED_AT)
    assert initial["lastObservedAt"] == parse_iso(OBSERVED_AT).astimezone(timezone.utc).replace(tzinfo=None)
    flags = ("isObserving", "isReflecting", "isBufferingObservation", "isBufferingReflection")
    assert [initial[k] for k in flags] == [False] * 4
    assert (reflection["activeObservations"], reflection["observationTokenCount"]) == ("- Alice: trains, Vienna", 7)
    assert thread["activeObservations"] == ""
    assert json.loads(thread["config"]) == {}
    for r in rows:  # naive columns hold the UTC instant of their timestamptz twins, to the millisecond
        assert r["createdAt"] == r["createdAtZ"].astimezone(timezone.utc).replace(tzinfo=None)
        assert r["updatedAt"] == r["updatedAtZ"].astimezone(timezone.utc).replace(tzinfo=None)
        assert r["createdAtZ"].microsecond % 1000 == 0

    # What Mastra reads back from those rows is what the rows hold.
    history = got[6]
    assert [h["id"] for h in history] == [reflection["id"], initial["id"]]  # newest generation first
    assert history[1]["activeObservations"] == initial["activeObservations"]
    assert history[1]["lastObservedAt"] == OBSERVED_AT
    assert history[1]["config"] == CONFIG
    assert history[1]["createdAt"] == iso_ms(initial["createdAtZ"])
    assert got[7]["id"] == thread["id"]
    assert got[7]["scope"] == "thread"


# --- records written from Python, read by Mastra; records Mastra writes, read and extended by us ---

OM_NOT_NULL = 'SELECT * FROM mastra_observational_memory ORDER BY "lookupKey", "generationCount"'


def _om_config(model: Any, **options: Any) -> MemoryConfig:
    return MemoryConfig(observational_memory=ObservationalMemory(model=model, **options))


async def test_mastra_reads_the_observations_and_cursor_we_write(
    mastra: Mastra, mem_factory: Any, db: Db, schema: str
) -> None:
    model = ScriptedChatModel(
        observer_reply(["🔴 (09:00) User stated they take night trains"], task="Primary: plan Vienna"),
        observer_reply(["🔴 (09:00) condensed: night trains, Vienna"]),
    )
    mem = await mem_factory(schema, config=_om_config(model))
    await mem.create_thread("alice", thread_id="t-1")
    saved = await mem.save_messages(
        [Message.user("I love night trains", id="m-1", thread_id="t-1"),
         Message.assistant("Noted!", id="m-2", thread_id="t-1")]
    )
    observed = await mem.observe("t-1", "alice", force=True)
    reflected = await mem.reflect("t-1", "alice", force=True)
    await mem.save_messages([Message.user("And I avoid flying", id="m-3", thread_id="t-1")])
    pending = (await mem.context("t-1", "alice")).observations.pending_tokens  # computed, not stored per turn
    got = await mastra(
        schema,
        [
            op("getObservationalMemory", threadId="t-1", resourceId="alice"),
            op("getObservationalMemoryHistory", threadId="t-1", resourceId="alice"),
            op("getThreadById", threadId="t-1"),
        ],
    )
    current, history, thread = got
    assert current["id"] == reflected.id and current["originType"] == "reflection"
    assert current["generationCount"] == 1 and current["scope"] == "thread" and current["threadId"] == "t-1"
    assert current["activeObservations"] == reflected.observations
    assert current["observationTokenCount"] == reflected.observation_tokens
    assert current["totalTokensObserved"] == observed.record.total_tokens_observed
    assert current["pendingMessageTokens"] == 0 < pending  # reset by the reflection; context() writes nothing
    assert current["lastObservedAt"] == iso_ms(saved[1].created_at)
    assert current["config"] == reflected.config and current["config"]["observation"]["messageTokens"] == 30000
    assert [h["id"] for h in history] == [reflected.id, observed.record.id]
    first = history[1]
    assert first["observedMessageIds"] == ["m-1", "m-2"] and first["pendingMessageTokens"] == 0
    assert first["activeObservations"].startswith("Date: May 1, 2025\n* 🔴 (09:00) User stated they take night trains")
    assert first["createdAt"] == iso_ms(observed.record.created_at)
    om = thread["metadata"]["mastra"]["om"]  # what Mastra's getThreadOMMetadata reads
    assert om["lastObservedMessageCursor"] == {"createdAt": iso_ms(saved[1].created_at), "id": "m-2"}
    assert om["currentTask"] == "Primary: plan Vienna" and om["suggestedResponse"] == "Ask about dates"

    # The rows have exactly the nullness of rows Mastra writes through the same calls.
    await mastra(
        schema,
        [
            op("createThread", threadId="t-2", resourceId="alice"),
            op("initializeObservationalMemory", threadId="t-2", resourceId="alice", scope="thread", config={"a": 1},
               observedTimezone="UTC"),
            op("updateActiveObservations", threadId="t-2", resourceId="alice", observations="x", tokenCount=1,
               lastObservedAt=OBSERVED_AT, observedMessageIds=["z"]),
            op("createReflectionGeneration", threadId="t-2", resourceId="alice", reflection="y", tokenCount=1),
        ],
    )
    rows = await db(schema, OM_NOT_NULL)
    shapes = {(r["lookupKey"], r["generationCount"]): {k for k, v in r.items() if v is None} for r in rows}
    assert shapes[("thread:t-1", 0)] == shapes[("thread:t-2", 0)]
    assert shapes[("thread:t-1", 1)] == shapes[("thread:t-2", 1)]


def _mastra_message(i: int) -> dict[str, Any]:
    return {
        "id": f"m-{i}", "threadId": "t-1", "resourceId": "alice", "role": "user" if i % 2 == 0 else "assistant",
        "createdAt": f"2025-05-01T09:3{i}:00.000Z",
        "content": {"format": 2, "parts": [{"type": "text", "text": f"message {i}"}]},
    }


async def test_we_read_and_extend_what_mastra_writes(mastra: Mastra, mem_factory: Any, schema: str) -> None:
    saved = await mastra(
        schema,
        [
            op("init"),
            op("createThread", threadId="t-1", resourceId="alice"),
            op("saveMessages", messages=[_mastra_message(i) for i in range(4)]),
            op("initializeObservationalMemory", threadId="t-1", resourceId="alice", scope="thread",
               config=CONFIG, observedTimezone="Europe/Paris"),
            op("updateActiveObservations", threadId="t-1", resourceId="alice",
               observations="Date: May 1, 2025\n* 🔴 (09:30) User stated they write from Mastra",
               tokenCount=15, lastObservedAt="2025-05-01T09:31:00.000Z", observedMessageIds=["m-0", "m-1"]),
            op("updateThread", id="t-1", title="", metadata={"mastra": {"om": {
                "currentTask": "Primary: answer from Python",
                "lastObservedMessageCursor": {"createdAt": "2025-05-01T09:31:00.000Z", "id": "m-1"}}}}),
            op("getObservationalMemory", threadId="t-1", resourceId="alice"),
        ],
    )
    mastra_record = saved[-1]
    model = ScriptedChatModel(observer_reply(["🔴 (09:32) User stated Python extends it"]))
    mem = await mem_factory(schema, config=_om_config(model))
    record = await mem.get_observations("t-1", "alice")
    assert record.id == mastra_record["id"] and record.generation == 0
    assert record.observations.endswith("User stated they write from Mastra")
    assert record.observed_message_ids == ["m-0", "m-1"] and record.timezone == "Europe/Paris"
    assert iso_ms(record.last_observed_at) == "2025-05-01T09:31:00.000Z"
    assert record.config == CONFIG

    ctx = await mem.context("t-1", "alice")
    assert [m.id for m in ctx.messages] == [CONTINUATION_ID, "m-2", "m-3"]  # Mastra's cursor is honoured
    assert any("write from Mastra" in block for block in ctx.system)
    assert "<current-task>\nPrimary: answer from Python\n</current-task>" in ctx.system

    result = await mem.observe("t-1", "alice", force=True)  # appends to Mastra's generation
    assert result.message_ids == ["m-2", "m-3"]
    got = await mastra(
        schema,
        [
            op("getObservationalMemory", threadId="t-1", resourceId="alice"),
            op("createReflectionGeneration", threadId="t-1", resourceId="alice", reflection="Date: May 1, 2025\n"
               "* 🔴 (09:30) merged by Mastra", tokenCount=9),
        ],
    )
    after = got[0]
    assert after["id"] == mastra_record["id"]
    assert after["activeObservations"] == (
        "Date: May 1, 2025\n* 🔴 (09:30) User stated they write from Mastra"
        "\n\n--- message boundary (2025-05-01T09:33:00.000Z) ---\n\n"
        "Date: May 1, 2025\n* 🔴 (09:32) User stated Python extends it"
    )
    assert after["observedMessageIds"] == ["m-0", "m-1", "m-2", "m-3"]
    assert after["totalTokensObserved"] == 15 + after["observationTokenCount"]
    newest = await mem.get_observations("t-1", "alice")
    assert (newest.generation, newest.origin_type, newest.observation_tokens) == (1, "reflection", 9)
    ctx = await mem.context("t-1", "alice")
    assert any("merged by Mastra" in block for block in ctx.system)
    assert [m.id for m in ctx.messages] == [CONTINUATION_ID]
    assert await mem.clear_observations("t-1", "alice") == 2
    assert await mastra(schema, [op("getObservationalMemory", threadId="t-1", resourceId="alice")]) == [None]


async def test_mastra_reads_a_resource_scoped_record_we_write(mastra: Mastra, mem_factory: Any, schema: str) -> None:
    model = ScriptedChatModel(observer_reply(["🔴 (09:00) User stated they speak Dutch"]))
    mem = await mem_factory(schema, config=_om_config(model, scope="resource"))
    await mem.create_thread("alice", thread_id="t-1")
    await mem.save_messages([Message.user("Ik spreek Nederlands", id="m-1", thread_id="t-1")])
    ours_record = (await mem.observe("t-1", "alice", force=True)).record
    (theirs,) = await mastra(schema, [op("getObservationalMemory", threadId=None, resourceId="alice")])
    assert theirs["id"] == ours_record.id
    assert (theirs["scope"], theirs["threadId"], theirs["resourceId"]) == ("resource", None, "alice")
    assert theirs["activeObservations"] == (
        '<thread id="t-1">\nDate: May 1, 2025\n* 🔴 (09:00) User stated they speak Dutch\n</thread>'
    )
    assert theirs["config"]["scope"] == "resource"
