"""The pure parts of observational memory: prompts, message rendering, token estimates, reply
parsing and degenerate-output detection (no database, no model)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest

from mastra_memory import InvalidInputError, MemoryConfig, Message, ObservationalMemory
from mastra_memory._tokens import count_tokens
from mastra_memory.observational._inject import chunks, for_context
from mastra_memory.observational._parse import MAX_LINE, degenerate, parse_reply
from mastra_memory.observational._prompts import (
    message_tokens,
    messages_tokens,
    observer_prompt,
    reflector_prompt,
    render_message,
)

from .fakes import ScriptedChatModel, observer_reply
from .test_observe import om_memory, turns

AT = datetime(2025, 5, 1, 14, 5, tzinfo=timezone.utc)


def tool_message() -> Message:
    return Message.assistant(
        [
            {"type": "text", "text": "Let me check."},
            {"type": "tool-invocation", "toolInvocation": {
                "state": "result", "toolCallId": "c1", "toolName": "weather", "args": {"city": "Ghent"},
                "result": {"temp": 14}}},
            {"type": "reasoning", "reasoning": "hidden thoughts", "details": []},
        ],
        id="a1", thread_id="t1", created_at=AT,
    )


def test_messages_are_shown_with_role_time_and_tool_work() -> None:
    text = render_message(tool_message())
    assert text.splitlines()[0] == "**Assistant (May 1, 2025, 2:05 PM):**"
    assert '[Tool Call: weather]\n{"city":"Ghent"}' in text and '[Tool Result: weather]\n{"temp":14}' in text
    assert "[Reasoning]\nhidden thoughts" in text


def test_token_estimates_follow_mastras_rules() -> None:
    plain = Message.user("hello there", id="u", thread_id="t1", created_at=AT)
    assert message_tokens(plain) == count_tokens("user") + count_tokens("hello there") + 3.8
    tool = tool_message()
    expected = (count_tokens("assistant") + 3.8 + count_tokens("Let me check.") + count_tokens("weather")
                + count_tokens('{"city":"Ghent"}') + 3.8 + count_tokens('{"temp":14}'))  # reasoning counts 0
    assert message_tokens(tool) == expected
    assert messages_tokens([plain, tool]) == round(message_tokens(plain) + message_tokens(tool) + 24)
    assert messages_tokens([]) == 0


def test_the_observer_prompt_carries_prior_state_title_and_instructions() -> None:
    previous = "\n".join(f"* 🟡 (09:{i:02d}) old note {i}" for i in range(60))
    turns_ = observer_prompt(
        [Message.user("hi", id="u", thread_id="t1", created_at=AT)], previous, previous_tokens=50,
        current_task="Primary: x", suggested_response="Say y", title="Bees", want_title=True,
        instruction="Always note the weather.",
    )
    system, task, history = (t.content for t in turns_)
    assert "<thread-title>" in system and system.endswith("=== CUSTOM INSTRUCTIONS ===\nAlways note the weather.")
    assert "old note 59" in task and "old note 0\n" not in task and "[older observations omitted]" in task
    assert "Current task: Primary: x" in task and "Thread title: Bees" in task
    assert history == "## New Message History to Observe\n\n**User (May 1, 2025, 2:05 PM):**\nhi"
    assert "<thread-title>" not in observer_prompt([], "", previous_tokens=None, current_task=None,
                                                   suggested_response=None, title=None, want_title=False,
                                                   instruction=None)[0].content


def test_the_reflector_prompt_escalates_compression() -> None:
    levels = [reflector_prompt("* a", level=n, instruction=None)[1].content for n in range(4)]
    assert "COMPRESSION" not in levels[0]
    assert "8/10" in levels[1] and "6/10" in levels[2] and "4/10" in levels[3]
    assert "<observational-memory-instruction>" in reflector_prompt("* a", level=0, instruction=None)[0].content


def test_replies_are_read_by_line_start_tags_with_a_list_fallback() -> None:
    reply = "Sure!\n<observations>\n* 🔴 (09:00) note with a quoted <current-task> tag\n</observations>\n" \
            "<current-task>\nPrimary: a\n</current-task>\n<thread-title>\nBee keeping\nextra\n</thread-title>"
    parsed = parse_reply(reply)
    assert parsed.observations == "* 🔴 (09:00) note with a quoted <current-task> tag"
    assert parsed.current_task == "Primary: a" and parsed.thread_title == "Bee keeping"
    assert parsed.suggested_response is None
    assert parse_reply("Notes:\n- one\n2. two\nprose").observations == "- one\n2. two"
    long = parse_reply("<observations>\n* " + "x" * (MAX_LINE + 50) + "\n</observations>")
    assert len(long.observations) < MAX_LINE + 10


def test_degenerate_replies_are_recognised() -> None:
    good = observer_reply([f"🔴 (09:{i:02d}) fact {i}" for i in range(20)])
    assert degenerate(good, parse_reply(good), max_tokens=10_000) is None
    block = "<observations>\n" + "* a\n* b\n* c\n" * 6 + "</observations>"
    assert "loops on a block of 3" in (degenerate(block, parse_reply(block), max_tokens=10_000) or "")
    assert "runs past 20 tokens" in (degenerate(good, parse_reply(good), max_tokens=20) or "")
    assert degenerate("", parse_reply(""), max_tokens=100) == "the reply holds no observations"


def test_context_text_strips_low_priority_marks_and_dates_headers() -> None:
    now = datetime(2025, 5, 4, 12, 0, tzinfo=timezone.utc)
    text = for_context("Date: May 1, 2025\n* 🟢 (09:00) small\n  -> sub\n* ✅ (09:01) done\n* 🔴 (09:02) big", now)
    assert text == "Date: May 1, 2025 (3 days ago)\n* (09:00) small\n  sub\n* ✅ (09:01) done\n* 🔴 (09:02) big"
    two = "a\n\n--- message boundary (2025-05-01T09:00:00.000Z) ---\n\nb"
    assert chunks(two) == ["a", "b"] and chunks("  ") == []


async def test_the_observer_can_title_the_thread(mem_factory: Any) -> None:
    model = ScriptedChatModel(observer_reply(["🔴 (09:00) bees"], title="Rooftop beekeeping"))
    mem = await om_memory(mem_factory, model, observation_tokens=messages_tokens(turns(2)), thread_title=True)
    await mem.create_thread("ada", thread_id="t1")
    await mem.save_messages(turns(2))
    await mem.context("t1", "ada")
    thread = await mem.get_thread("t1")
    assert thread.title == "Rooftop beekeeping"
    assert thread.metadata["mastra"]["om"]["threadTitle"] == "Rooftop beekeeping"
    assert "<thread-title>" in model.calls[0][0].content


def test_memory_config_checks_the_type() -> None:
    with pytest.raises(InvalidInputError, match="ObservationalMemory"):
        MemoryConfig(observational_memory={"model": "x"})  # type: ignore[arg-type]
    cfg = ObservationalMemory(model=ScriptedChatModel(), scope="resource")
    assert cfg.lookup_key("t", "r") == "resource:r" and cfg.stored_config()["scope"] == "resource"


def test_context_text_marks_gaps_and_resolved_dates() -> None:
    """Elapsed time made visible: a marker between dated sections days apart (also across chunk
    borders), and each resolved date in a note with its distance from today; a plan whose date
    has passed is flagged as probably done, a fact is not."""
    from mastra_memory.observational._inject import system_blocks

    now = datetime(2025, 6, 20, 12, 0, tzinfo=timezone.utc)
    text = for_context(
        "Date: May 1, 2025\n* 🔴 (09:00) User will fly to Lisbon (meaning May 9, 2025)\n"
        "* (09:01) User moved house (meaning April 28, 2025)\n* (09:02) Party (estimated late June 2025)\n"
        "* (09:03) Odd (meaning Feb 30, 2025)\n\n"
        "Date: May 2, 2025\n* x\n\nDate: May 20, 2025\n* y",
        now,
    )
    assert text == (
        "Date: May 1, 2025 (1 month ago)\n"
        "* 🔴 (09:00) User will fly to Lisbon (meaning May 9, 2025: 1 month ago, probably already happened)\n"
        "* (09:01) User moved house (meaning April 28, 2025: 1 month ago)\n"
        "* (09:02) Party (estimated late June 2025: in 3 days)\n* (09:03) Odd (meaning Feb 30, 2025)\n\n"
        "Date: May 2, 2025 (1 month ago)\n* x\n\n[2 weeks later]\n\nDate: May 20, 2025 (1 month ago)\n* y"
    )
    two = "Date: May 1, 2025\n* a\n\n--- message boundary (2025-05-01T09:00:00.000Z) ---\n\nDate: Jul 9, 2025\n* b"
    blocks = system_blocks(two, None, None, now)
    assert blocks[-2:] == [
        "Date: May 1, 2025 (1 month ago)\n* a", "[2 months later]\n\nDate: Jul 9, 2025 (in 2 weeks)\n* b"
    ]
