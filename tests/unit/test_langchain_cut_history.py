"""LangChain round trips when history was cut between a tool call and its result.

A ``ToolMessage`` whose ``AIMessage`` is not in the run still has to reach Mastra as a result, but
must not come back as a call of another step's ``AIMessage`` (the call was never made there).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

pytest.importorskip("langchain_core", reason="langchain is not installed: pip install 'mastra-memory[langchain]'")

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage

from langchain_mastra_memory import from_mastra, to_mastra
from mastra_memory import Message
from mastra_memory._content import decode_content


def _call(name: str, call_id: str) -> dict[str, Any]:
    return {"name": name, "args": {"q": call_id}, "id": call_id, "type": "tool_call"}


def after_a_step() -> list[BaseMessage]:
    """A step with its own answered call, then a result whose call was cut off, then a reply."""
    return [
        HumanMessage("hi", id="h1"),
        AIMessage("", id="a1", tool_calls=[_call("f", "c1")]),
        ToolMessage("r1", tool_call_id="c1", name="f", id="t1"),
        ToolMessage("lost", tool_call_id="cut", name="g", id="t2"),
        AIMessage("done", id="a1:1"),
    ]


def after_two_steps() -> list[BaseMessage]:
    return [
        AIMessage("", id="b1", tool_calls=[_call("f", "c1")]),
        ToolMessage("r1", tool_call_id="c1", name="f", id="u1"),
        AIMessage("again", id="b2", tool_calls=[_call("f", "c2")]),
        ToolMessage("lost", tool_call_id="cut", id="u2"),  # no name either
        ToolMessage("r2", tool_call_id="c2", name="f", id="u3"),
    ]


def first_in_run() -> list[BaseMessage]:
    return [
        HumanMessage("hi", id="h1"),
        ToolMessage("lost", tool_call_id="cut", name="g", id="t0"),
        AIMessage("ok", id="a0"),
    ]


CASES = [after_a_step, after_two_steps, first_in_run]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.__name__)
def test_a_result_without_its_call_round_trips_exactly(case: Any) -> None:
    messages = case()
    back = from_mastra(to_mastra(messages, "t", "r"))
    assert back == messages
    calls = [c["id"] for m in back if isinstance(m, AIMessage) for c in m.tool_calls]
    assert "cut" not in calls


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.__name__)
def test_it_round_trips_through_json(case: Any) -> None:
    rows = to_mastra(case(), "t", "r")
    again = [
        Message(r.role, decode_content(json.dumps(r.content.to_dict()), "v2")[0], r.id, r.thread_id) for r in rows
    ]
    assert from_mastra(again) == case()


def test_mastra_still_sees_the_result_in_the_turn() -> None:
    [_, turn] = to_mastra(after_a_step(), "t", "r")
    invocations = {
        p["toolInvocation"]["toolCallId"]: p for p in turn.content.parts if p["type"] == "tool-invocation"
    }
    lost = invocations["cut"]["toolInvocation"]
    assert (lost["state"], lost["toolName"], lost["result"]) == ("result", "g", "lost")
    assert invocations["cut"]["providerMetadata"] == {"langchain": {"hidden": True}}
    assert "providerMetadata" not in invocations["c1"]  # a call LangChain made stays as Mastra writes it


async def test_it_round_trips_through_the_database(mem_factory: Any) -> None:
    mem = await mem_factory()
    await mem.create_thread("r", thread_id="t")
    await mem.save_messages(to_mastra(after_a_step(), "t", "r"))
    stored = (await mem.list_messages("t", per_page=None)).messages
    assert from_mastra(stored) == after_a_step()
