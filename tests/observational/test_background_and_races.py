"""Background observation (a task on AsyncMemory, a thread on Memory), races between observers,
and the stored row's shape, on a real PostgreSQL with scripted models."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import timezone
from typing import Any

import psycopg
from psycopg import sql

from mastra_memory import MemoryConfig, Message, ObservationalMemory, WorkingMemory
from mastra_memory.models import ChatTurn
from mastra_memory.observational._inject import CONTINUATION_ID
from mastra_memory.observational._prompts import messages_tokens

from .fakes import ScriptedChatModel, observer_reply
from .test_observe import om_memory, turns


async def test_background_observation_answers_at_once_and_catches_up(mem_factory: Any) -> None:
    model = ScriptedChatModel(default=observer_reply(["🔴 (09:00) observed in the background"]))
    mem = await om_memory(mem_factory, model, observation_tokens=messages_tokens(turns(4)), background=True)
    await mem.create_thread("ada", thread_id="t1")
    await mem.save_messages(turns(4))
    ctx = await mem.context("t1", "ada")
    assert ctx.observations.due and not ctx.observations.observed_now
    assert [m.id for m in ctx.messages] == ["m0", "m1", "m2", "m3"]  # raw history now
    await mem.wait_for_observations()
    assert len(model.calls) == 1
    ctx = await mem.context("t1", "ada")
    assert not ctx.observations.due
    assert [m.id for m in ctx.messages] == [CONTINUATION_ID]
    assert any("observed in the background" in block for block in ctx.system)


async def test_a_failing_background_observation_loses_nothing(mem_factory: Any) -> None:
    model = ScriptedChatModel(RuntimeError("provider down"), default=observer_reply(["🔴 (09:00) second try"]))
    mem = await om_memory(mem_factory, model, observation_tokens=messages_tokens(turns(4)), background=True)
    await mem.create_thread("ada", thread_id="t1")
    await mem.save_messages(turns(4))
    await mem.context("t1", "ada")
    await mem.wait_for_observations()
    assert await mem.get_observations("t1", "ada") is None
    ctx = await mem.context("t1", "ada")  # still due: scheduled again
    assert ctx.observations.due and [m.id for m in ctx.messages] == ["m0", "m1", "m2", "m3"]
    await mem.wait_for_observations()
    assert (await mem.get_observations("t1", "ada")).observed_message_ids == ["m0", "m1", "m2", "m3"]


async def test_an_observer_that_lost_the_race_writes_nothing(mem_factory: Any) -> None:
    schema: dict[str, str] = {}
    pg_dsn = mem_factory.dsn

    def rival_moves_the_cursor(_: Sequence[ChatTurn]) -> str:
        # While our Observer "runs", another process observes the thread and moves its cursor.
        with psycopg.connect(pg_dsn, autocommit=True) as conn:
            conn.execute(
                sql.SQL(
                    "UPDATE {} SET metadata = jsonb_build_object('mastra', jsonb_build_object('om',"
                    " jsonb_build_object('lastObservedMessageCursor', jsonb_build_object('createdAt',"
                    " '2030-01-01T00:00:00.000Z', 'id', 'm3')))) WHERE id = 't1'"
                ).format(sql.Identifier(schema["name"], "mastra_threads"))
            )
        return observer_reply(["🔴 (09:00) stale"])

    model = ScriptedChatModel(rival_moves_the_cursor)
    mem = await om_memory(mem_factory, model, observation_tokens=messages_tokens(turns(4)))
    schema["name"] = mem.schema
    await mem.create_thread("ada", thread_id="t1")
    await mem.save_messages(turns(4))
    ctx = await mem.context("t1", "ada")
    assert ctx.observations.error is not None and "changed while the model ran" in ctx.observations.error
    assert [m.id for m in ctx.messages] == ["m0", "m1", "m2", "m3"]
    assert await mem.get_observation_history("t1", "ada") == []


async def test_observations_follow_working_memory_in_the_system_blocks(mem_factory: Any) -> None:
    model = ScriptedChatModel(default=observer_reply(["🔴 (09:00) likes tea", "🟢 (09:01) said thanks"]))
    cfg = MemoryConfig(
        working_memory=WorkingMemory(enabled=True),
        observational_memory=ObservationalMemory(model=model, observation_tokens=messages_tokens(turns(2))),
    )
    mem = await mem_factory(config=cfg)
    await mem.create_thread("ada", thread_id="t1")
    await mem.save_messages(turns(2))
    ctx = await mem.context("t1", "ada")
    assert ctx.system[0].startswith("WORKING_MEMORY_SYSTEM_INSTRUCTION") and "updateWorkingMemory" in ctx.system[0]
    assert ctx.system[1].startswith("The observations below are your memory")
    assert ctx.system[2] == "<observations>"
    chunk = ctx.system[3]
    assert "🔴 (09:00) likes tea" in chunk and "🟢" not in chunk  # low-priority marks are stripped for the agent
    assert "Date: May 1, 2025 (" in chunk and "ago)" in chunk  # relative date added
    assert ctx.diagnostics.tokens["observations"] > 0
    assert ctx.tokens == sum(v for k, v in ctx.diagnostics.tokens.items() if k != "total")


async def test_our_row_has_the_columns_mastra_writes(mem_factory: Any) -> None:
    pg_dsn = mem_factory.dsn
    model = ScriptedChatModel(default=observer_reply(["🔴 (09:00) shape"]))
    mem = await om_memory(mem_factory, model, observation_tokens=messages_tokens(turns(2)))
    await mem.create_thread("ada", thread_id="t1")
    await mem.save_messages(turns(2))
    await mem.context("t1", "ada")
    with psycopg.connect(pg_dsn) as conn:
        cur = conn.cursor(row_factory=psycopg.rows.dict_row)
        cur.execute(sql.SQL("SELECT * FROM {}").format(sql.Identifier(mem.schema, "mastra_observational_memory")))
        (row,) = cur.fetchall()
    # Set exactly as Mastra's initializeObservationalMemory + updateActiveObservations set them.
    nulls = {k for k, v in row.items() if v is None}
    assert nulls == {
        "activeObservationsPendingUpdate", "lastReflectionAt", "lastReflectionAtZ", "bufferedObservations",
        "bufferedObservationTokens", "bufferedMessageIds", "bufferedReflection", "bufferedReflectionTokens",
        "bufferedReflectionInputTokens", "reflectedObservationLineCount", "bufferedObservationChunks",
        "lastBufferedAtTime", "metadata",
    }
    assert (row["lookupKey"], row["scope"], row["resourceId"], row["threadId"]) == ("thread:t1", "thread", "ada", "t1")
    assert (row["originType"], row["generationCount"], row["pendingMessageTokens"]) == ("initial", 0, 0)
    assert [row[k] for k in ("isObserving", "isReflecting", "isBufferingObservation", "isBufferingReflection")] == [
        False
    ] * 4
    assert row["lastBufferedAtTokens"] == 0 and row["observedTimezone"] == "UTC"
    assert row["observedMessageIds"] == ["m0", "m1"]
    config = json.loads(row["config"])
    assert config["observation"]["messageTokens"] == messages_tokens(turns(2))
    assert config["reflection"]["observationTokens"] == 40_000 and config["scope"] == "thread"
    for name in ("createdAt", "updatedAt", "lastObservedAt"):
        assert row[name] == row[f"{name}Z"].astimezone(timezone.utc).replace(tzinfo=None)
        assert row[f"{name}Z"].microsecond % 1000 == 0
    last = (await mem.get_messages(["m1"]))[0]
    assert row["lastObservedAtZ"] == last.created_at


async def test_a_message_saved_after_an_observation_joins_the_context(mem_factory: Any) -> None:
    model = ScriptedChatModel(observer_reply(["🔴 (09:00) early part"]))
    mem = await om_memory(mem_factory, model, observation_tokens=messages_tokens(turns(2)))
    await mem.create_thread("ada", thread_id="t1")
    await mem.save_messages(turns(2))
    await mem.context("t1", "ada")
    await mem.save_messages([Message.user("after the observation", id="late", thread_id="t1")])
    ctx = await mem.context("t1", "ada")
    assert [m.id for m in ctx.messages] == [CONTINUATION_ID, "late"]
    assert ctx.observations.pending_tokens == messages_tokens([(await mem.get_messages(["late"]))[0]])
