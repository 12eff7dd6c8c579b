"""Observational memory mechanics through both shells on a real PostgreSQL, with scripted models:
thresholds, records and counters, the cursor, what the context carries, and failure paths."""

from __future__ import annotations

from typing import Any

import pytest

from mastra_memory import InvalidInputError, MemoryConfig, Message, ObservationalMemory
from mastra_memory.observational._inject import CONTINUATION_ID
from mastra_memory.observational._prompts import messages_tokens

from .fakes import ScriptedChatModel, observer_reply

WORDS = "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa"


def turns(n: int, thread_id: str = "t1", start: int = 0) -> list[Message]:
    out = []
    for i in range(start, start + n):
        role = Message.user if i % 2 == 0 else Message.assistant
        out.append(role(f"message {i}: {WORDS}", id=f"m{i}", thread_id=thread_id))
    return out


async def om_memory(mem_factory: Any, model: Any, **options: Any) -> Any:
    cfg = ObservationalMemory(model=model, **options)
    return await mem_factory(config=MemoryConfig(observational_memory=cfg))




async def test_nothing_is_observed_below_the_threshold_and_everything_at_it(mem_factory: Any) -> None:
    model = ScriptedChatModel(observer_reply(["🔴 (09:00) User stated they count in NATO letters"]))
    probe = turns(6)
    threshold = messages_tokens(probe)
    mem = await om_memory(mem_factory, model, observation_tokens=threshold)
    await mem.create_thread("ada", thread_id="t1")
    await mem.save_messages(probe[:5])

    ctx = await mem.context("t1", "ada")
    assert model.calls == []
    assert ctx.observations is not None and not ctx.observations.observed_now
    assert ctx.observations.pending_tokens == messages_tokens(probe[:5]) < threshold
    assert [m.id for m in ctx.messages] == [f"m{i}" for i in range(5)]
    assert await mem.get_observations("t1", "ada") is None

    await mem.save_messages(probe[5:])
    ctx = await mem.context("t1", "ada")
    assert len(model.calls) == 1
    assert ctx.observations.observed_now and ctx.observations.error is None
    assert [m.id for m in ctx.messages] == [CONTINUATION_ID]  # every observed message left the context
    assert "<observations>" in ctx.system
    assert any("User stated they count in NATO letters" in block for block in ctx.system)
    assert "<current-task>\nPrimary: planning a trip\n</current-task>" in ctx.system
    record = await mem.get_observations("t1", "ada")
    assert record.generation == 0 and record.origin_type == "initial"
    assert record.observed_message_ids == [f"m{i}" for i in range(6)]
    assert record.observation_tokens == record.total_tokens_observed > 0
    assert record.pending_message_tokens == 0
    assert record.lookup_key == "thread:t1" and record.scope == "thread" and record.thread_id == "t1"
    assert record.last_observed_at == (await mem.get_messages(["m5"]))[0].created_at

    # The Observer saw every message, with its role and time, and no previous observations.
    history = model.calls[0][-1].content
    assert history.startswith("## New Message History to Observe")
    assert all(f"message {i}:" in history for i in range(6))
    assert "**User (" in history and "**Assistant (" in history


async def test_the_threshold_fires_at_exactly_its_token_count(mem_factory: Any) -> None:
    probe = turns(4)
    model = ScriptedChatModel(default=observer_reply(["🟡 (09:00) noted"]))
    exact = await om_memory(mem_factory, model, observation_tokens=messages_tokens(probe))
    await exact.create_thread("ada", thread_id="t1")
    await exact.save_messages(probe)
    assert (await exact.context("t1", "ada")).observations.observed_now

    above = await om_memory(mem_factory, model, observation_tokens=messages_tokens(probe) + 1)
    await above.create_thread("ada", thread_id="t1")
    await above.save_messages(probe)
    ctx = await above.context("t1", "ada")
    assert not ctx.observations.observed_now and ctx.observations.threshold == messages_tokens(probe) + 1


async def test_the_cursor_keeps_new_messages_and_each_cycle_appends_a_chunk(mem_factory: Any) -> None:
    model = ScriptedChatModel(
        observer_reply(["🔴 (09:00) first cycle"]), observer_reply(["🔴 (10:00) second cycle"], task="Primary: next")
    )
    mem = await om_memory(mem_factory, model, observation_tokens=messages_tokens(turns(4)))
    await mem.create_thread("ada", thread_id="t1")
    await mem.save_messages(turns(4))
    await mem.context("t1", "ada")
    await mem.save_messages(turns(2, start=4))
    ctx = await mem.context("t1", "ada")
    assert [m.id for m in ctx.messages] == [CONTINUATION_ID, "m4", "m5"]
    assert ctx.diagnostics.sources["m4"] == "history"
    thread = await mem.get_thread("t1")
    om = thread.metadata["mastra"]["om"]
    m3 = (await mem.get_messages(["m3"]))[0]
    assert om["lastObservedMessageCursor"]["id"] == "m3"
    assert om["lastObservedMessageCursor"]["createdAt"] == m3.created_at.isoformat(timespec="milliseconds").replace(
        "+00:00", "Z"
    )

    await mem.save_messages(turns(2, start=6))
    ctx = await mem.context("t1", "ada")
    assert ctx.observations.observed_now and [m.id for m in ctx.messages] == [CONTINUATION_ID]
    record = await mem.get_observations("t1", "ada")
    assert "--- message boundary (" in record.observations  # Mastra's delimiter between cycles
    start = ctx.system.index("<observations>")
    chunks = ctx.system[start + 1 : start + 3]
    assert "first cycle" in chunks[0] and "second cycle" in chunks[1]  # one block per cycle: cache-stable
    assert "<current-task>\nPrimary: next\n</current-task>" in ctx.system
    # The second Observer call was shown the first cycle's notes and prior metadata.
    task = model.calls[1][1].content
    assert "first cycle" in task and "Current task: Primary: planning a trip" in task
    assert len((await mem.get_observations("t1", "ada")).observed_message_ids) == 8


async def test_a_failing_model_keeps_the_raw_history_and_writes_nothing(mem_factory: Any) -> None:
    model = ScriptedChatModel(TimeoutError("observer timed out"), default=observer_reply(["🔴 (09:00) later"]))
    mem = await om_memory(mem_factory, model, observation_tokens=messages_tokens(turns(4)))
    await mem.create_thread("ada", thread_id="t1")
    await mem.save_messages(turns(4))
    ctx = await mem.context("t1", "ada")
    assert ctx.observations.error is not None and "timed out" in ctx.observations.error
    assert [m.id for m in ctx.messages] == ["m0", "m1", "m2", "m3"]
    assert await mem.get_observation_history("t1", "ada") == []
    assert "mastra" not in ((await mem.get_thread("t1")).metadata or {})
    # The next turn tries again and succeeds; nothing was lost.
    ctx = await mem.context("t1", "ada")
    assert ctx.observations.observed_now
    assert (await mem.get_observations("t1", "ada")).observed_message_ids == ["m0", "m1", "m2", "m3"]


async def test_degenerate_output_is_retried_then_refused(mem_factory: Any) -> None:
    loop = "<observations>\n" + "* 🟡 (09:00) the user said hi\n" * 30 + "</observations>"
    model = ScriptedChatModel("", observer_reply(["🔴 (09:00) usable"]), loop, loop)
    mem = await om_memory(mem_factory, model, observation_tokens=messages_tokens(turns(2)))
    await mem.create_thread("ada", thread_id="t1")
    await mem.save_messages(turns(2))
    ctx = await mem.context("t1", "ada")
    assert len(model.calls) == 2 and ctx.observations.observed_now  # empty reply, then a good one
    assert "unusable" in model.calls[1][1].content  # the retry said why
    await mem.create_thread("ada", thread_id="t2")
    await mem.save_messages(turns(2, thread_id="t2", start=10))
    ctx = await mem.context("t2", "ada")
    assert len(model.calls) == 4
    assert ctx.observations.error is not None and "repeats one line" in ctx.observations.error
    assert [m.id for m in ctx.messages] == ["m10", "m11"]
    assert await mem.get_observations("t2", "ada") is None


async def test_reflection_writes_a_new_generation_and_keeps_history(mem_factory: Any) -> None:
    long_notes = [f"🟡 (09:{i:02d}) detail number {i} about {WORDS}" for i in range(40)]
    reflector = observer_reply(["🔴 (09:00) condensed: the user spelled the NATO alphabet 40 times"])
    model = ScriptedChatModel(observer_reply(long_notes), reflector)
    mem = await om_memory(mem_factory, model, observation_tokens=messages_tokens(turns(4)), reflection_tokens=300)
    await mem.create_thread("ada", thread_id="t1")
    await mem.save_messages(turns(4))
    ctx = await mem.context("t1", "ada")
    assert ctx.observations.observed_now and ctx.observations.reflected_now
    assert model.calls[1][1].content.startswith("## OBSERVATIONS TO REFLECT ON")
    history = await mem.get_observation_history("t1", "ada")
    assert [(r.generation, r.origin_type) for r in history] == [(1, "reflection"), (0, "initial")]
    new, old = history
    assert new.observations.startswith("Date: May 1, 2025\n* 🔴 (09:00) condensed")
    assert new.observation_tokens < 300 < old.observation_tokens
    assert new.total_tokens_observed == old.total_tokens_observed
    assert new.last_observed_at == old.last_observed_at
    assert any("condensed" in block for block in ctx.system)
    assert not any("detail number 7" in block for block in ctx.system)


async def test_shared_budget_raises_the_observation_threshold(mem_factory: Any) -> None:
    model = ScriptedChatModel(default=observer_reply(["🟡 (09:00) x"]))
    mem = await om_memory(mem_factory, model, observation_tokens=100, reflection_tokens=500, shared_budget=True)
    await mem.create_thread("ada", thread_id="t1")
    await mem.save_messages(turns(3))
    ctx = await mem.context("t1", "ada")
    assert ctx.observations.threshold == 600  # nothing observed yet: 100 + 500 - 0
    assert not ctx.observations.observed_now and messages_tokens(turns(3)) > 100


async def test_resource_scope_shares_one_record_across_threads(mem_factory: Any) -> None:
    model = ScriptedChatModel(default=observer_reply(["🔴 (09:00) User stated they own a beagle"]))
    mem = await om_memory(mem_factory, model, observation_tokens=messages_tokens(turns(2)), scope="resource")
    await mem.create_thread("ada", thread_id="t1")
    await mem.create_thread("ada", thread_id="t2")
    await mem.save_messages(turns(2))
    await mem.save_messages([Message.user("hello again", id="n1", thread_id="t2")])
    await mem.context("t1", "ada")
    record = await mem.get_observations("t1", "ada")
    assert (record.lookup_key, record.scope, record.thread_id, record.resource_id) == (
        "resource:ada", "resource", None, "ada"
    )
    assert record.observations.startswith('<thread id="t1">\n')
    # Mastra's resource scope: t2's unobserved message counted toward the threshold and was
    # observed in the same call, in its own section, moving t2's own cursor.
    assert len(model.calls) == 2 and "hello again" in model.calls[1][-1].content
    assert '\n<thread id="t2">\n' in record.observations
    assert record.observed_message_ids == ["m0", "m1", "n1"]
    t2 = await mem.get_thread("t2")
    assert t2.metadata["mastra"]["om"]["lastObservedMessageCursor"]["id"] == "n1"
    ctx = await mem.context("t2", "ada")
    assert any("own a beagle" in block for block in ctx.system)  # the resource's notes
    assert [m.id for m in ctx.messages] == [CONTINUATION_ID]
    assert (await mem.get_observations("t2", "ada")).id == record.id
    assert len(model.calls) == 2  # nothing new to observe from t2


async def test_manual_observe_reflect_history_and_clear(mem_factory: Any) -> None:
    model = ScriptedChatModel(
        observer_reply(["🔴 (09:00) manual"]), observer_reply(["🔴 (09:00) reflected"])
    )
    mem = await om_memory(mem_factory, model)  # default 30 000 tokens: never reached here
    await mem.create_thread("ada", thread_id="t1")
    await mem.save_messages(turns(2))
    below = await mem.observe("t1", "ada")
    assert not below.observed and below.reason == "below the threshold" and below.threshold == 30_000
    done = await mem.observe("t1", "ada", force=True)
    assert done.observed and done.message_ids == ["m0", "m1"] and done.record.generation == 0
    assert (await mem.observe("t1", "ada", force=True)).reason == "no unobserved messages"
    assert await mem.reflect("t1", "ada") is None  # below reflection_tokens
    reflected = await mem.reflect("t1", "ada", force=True)
    assert reflected.generation == 1 and "reflected" in reflected.observations
    assert len(await mem.get_observation_history("t1", "ada", limit=None)) == 2
    assert len(await mem.get_observation_history("t1", "ada", limit=1)) == 1
    assert await mem.clear_observations("t1", "ada") == 2
    assert await mem.get_observations("t1", "ada") is None
    ctx = await mem.context("t1", "ada")
    assert [m.id for m in ctx.messages] == ["m0", "m1"]  # the raw history is back
    assert "om" not in ((await mem.get_thread("t1")).metadata or {}).get("mastra", {})


async def test_without_observational_memory_the_operations_say_how_to_turn_it_on(mem_factory: Any) -> None:
    mem = await mem_factory()
    await mem.create_thread("ada", thread_id="t1")
    with pytest.raises(InvalidInputError, match="observational_memory="):
        await mem.observe("t1", "ada")
    assert await mem.get_observations("t1", "ada") is None
    assert (await mem.context("t1", "ada")).observations is None


def test_the_config_refuses_what_cannot_work() -> None:
    with pytest.raises(InvalidInputError, match="needs a chat model"):
        ObservationalMemory()
    model = ScriptedChatModel()
    with pytest.raises(InvalidInputError, match="scope"):
        ObservationalMemory(model=model, scope="org")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="observation_tokens"):
        ObservationalMemory(model=model, observation_tokens=0)
    assert ObservationalMemory(model=model).threshold(0) == 30_000
    assert ObservationalMemory(model=model).reflection_tokens == 40_000




async def test_a_long_backlog_is_observed_in_bounded_batches(mem_factory: Any) -> None:
    backlog = turns(20)
    threshold = messages_tokens(backlog[:4])
    model = ScriptedChatModel(default=observer_reply(["🟡 (09:00) a batch"]))
    mem = await om_memory(mem_factory, model, observation_tokens=threshold)
    await mem.create_thread("ada", thread_id="t1")
    await mem.save_messages(backlog)  # e.g. observational memory switched on for an old thread
    ctx = await mem.context("t1", "ada")
    assert len(model.calls) == 3  # 8 + 8 + 4 messages: batches of at most twice the threshold
    for call in model.calls:
        shown = call[-1].content.count("**User (") + call[-1].content.count("**Assistant (")
        assert shown <= 8
    assert ctx.observations.observed_now and [m.id for m in ctx.messages] == [CONTINUATION_ID]
    record = await mem.get_observations("t1", "ada")
    assert record.observed_message_ids == [f"m{i}" for i in range(20)]
    assert record.observations.count("--- message boundary (") == 2


async def test_batches_stored_before_a_failure_stay_stored(mem_factory: Any) -> None:
    backlog = turns(16)
    threshold = messages_tokens(backlog[:4])
    model = ScriptedChatModel(observer_reply(["🟡 (09:00) first batch"]), RuntimeError("rate limited"))
    mem = await om_memory(mem_factory, model, observation_tokens=threshold)
    await mem.create_thread("ada", thread_id="t1")
    await mem.save_messages(backlog)
    ctx = await mem.context("t1", "ada")
    assert ctx.observations.observed_now and "rate limited" in (ctx.observations.error or "")
    assert [m.id for m in ctx.messages] == [CONTINUATION_ID, *(f"m{i}" for i in range(8, 16))]
    assert (await mem.get_observations("t1", "ada")).observed_message_ids == [f"m{i}" for i in range(8)]


async def test_resource_scope_shows_other_threads_unobserved_messages(mem_factory: Any) -> None:
    model = ScriptedChatModel(default=observer_reply(["🔴 (09:00) User stated they own a beagle"]))
    mem = await om_memory(mem_factory, model, observation_tokens=messages_tokens(turns(2)), scope="resource")
    for thread in ("t1", "t2", "t3"):
        await mem.create_thread("ada", thread_id=thread)
    await mem.create_thread("bob", thread_id="bob-1")
    await mem.save_messages([Message.user("bob's secret", id="b1", thread_id="bob-1")])
    await mem.save_messages([Message.user("in t2: my sister visits on Sunday", id="n1", thread_id="t2")])
    ctx = await mem.context("t1", "ada")  # nothing observed yet: only the other conversations
    assert ctx.system[0].startswith("Recent messages from this user's OTHER conversations")
    assert '<other-conversation id="t2">' in ctx.system[0] and "sister visits on Sunday" in ctx.system[0]
    assert "bob's secret" not in ctx.system[0] and ctx.messages == []

    await mem.save_messages(turns(2))  # t1 reaches the threshold: t1 and t2 are observed
    ctx = await mem.context("t1", "ada")
    assert ctx.observations.observed_now and ctx.observations.other_conversations is None
    await mem.save_messages([Message.user("in t3: the vet is on Monday", id="n2", thread_id="t3")])
    ctx = await mem.context("t1", "ada")  # below the threshold: t3 is shown, not observed
    assert not ctx.observations.observed_now
    assert ctx.system[0].startswith("The observations below are your memory")
    assert ctx.system[1].startswith("Recent messages from this user's OTHER conversations")
    assert ctx.system[2] == "<observations>"
    assert ctx.observations.other_conversations == ctx.system[1]
    assert "vet is on Monday" in ctx.system[1] and "sister visits" not in ctx.system[1]  # n1 is observed
    ctx = await mem.context("t2", "ada")  # from t2: t1's messages are observed, t3's is the other one
    assert "own a beagle" in "\n".join(ctx.system) and [m.id for m in ctx.messages] == [CONTINUATION_ID]
    others = ctx.observations.other_conversations
    assert others is not None and "vet is on Monday" in others


async def test_resource_scope_counts_other_threads_toward_the_threshold(mem_factory: Any) -> None:
    """Mastra's resource scope: the threshold compares the thread's unobserved messages plus the
    other conversations; when reached, every other thread whose unobserved messages were all read
    is observed too, each by its own cursor. A thread with more than were read is only shown."""
    from mastra_memory.storage._observational import OTHER_MESSAGES

    model = ScriptedChatModel(default=observer_reply(["🔴 (09:00) User stated they own a beagle"]))
    threshold = messages_tokens(turns(4))
    mem = await om_memory(mem_factory, model, observation_tokens=threshold, scope="resource")
    for thread in ("t1", "t2", "busy"):
        await mem.create_thread("ada", thread_id=thread)
    await mem.save_messages(turns(1))  # t1 alone stays far below the threshold
    await mem.save_messages(turns(1, "t2", start=1))
    ctx = await mem.context("t1", "ada")
    assert model.calls == [] and ctx.observations.pending_tokens > messages_tokens(turns(1))

    busy = [Message.user(f"busy {i}: {WORDS}", id=f"b{i}", thread_id="busy") for i in range(OTHER_MESSAGES + 1)]
    await mem.save_messages(busy)  # now over the threshold, but "busy" was not read whole
    ctx = await mem.context("t1", "ada")
    assert ctx.observations.observed_now and ctx.observations.error is None
    assert [m.id for m in ctx.messages] == [CONTINUATION_ID]
    record = await mem.get_observations("t1", "ada")
    assert record.observed_message_ids == ["m0", "m1"]
    assert '<thread id="t1">' in record.observations and '<thread id="t2">' in record.observations
    assert '<thread id="busy">' not in record.observations
    cursors = {t: ((await mem.get_thread(t)).metadata or {}).get("mastra", {}).get("om", {}) for t in ("t2", "busy")}
    assert cursors["t2"]["lastObservedMessageCursor"]["id"] == "m1"
    assert "lastObservedMessageCursor" not in cursors["busy"]
    shown = ctx.observations.other_conversations
    assert shown is not None and f"busy {OTHER_MESSAGES}:" in shown and "busy 0:" not in shown  # the newest 20
    ctx = await mem.context("busy", "ada")  # from its own thread every message is read, and observed
    assert ctx.observations.observed_now and ctx.observations.other_conversations is None
    assert "b0" in (await mem.get_observations("busy", "ada")).observed_message_ids


async def test_pending_message_tokens_are_reset_by_observation_and_not_rewritten_per_turn(mem_factory: Any) -> None:
    """Mastra's ``pendingMessageTokens``: 0 after an observation; context() reports the unobserved
    tokens without writing them (a per-turn UPDATE would be a third round trip per agent turn)."""
    model = ScriptedChatModel(default=observer_reply(["🔴 (09:00) User stated they count in NATO letters"]))
    mem = await om_memory(mem_factory, model, observation_tokens=messages_tokens(turns(4)))
    await mem.create_thread("ada", thread_id="t1")
    await mem.save_messages(turns(4))
    await mem.context("t1", "ada")
    assert (await mem.get_observations("t1", "ada")).pending_message_tokens == 0

    await mem.save_messages(turns(2, start=4))
    ctx = await mem.context("t1", "ada")
    assert ctx.observations.pending_tokens == messages_tokens(turns(2, start=4)) > 0
    assert (await mem.get_observations("t1", "ada")).pending_message_tokens == 0
