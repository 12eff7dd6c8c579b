"""LangChain ↔ Mastra format-2 conversion: exact round trips, Mastra's own rows, and the database in between."""

from __future__ import annotations

import json
from typing import Any

import pytest

pytest.importorskip("langchain_core", reason="langchain is not installed: pip install 'mastra-memory[langchain]'")

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage

from langchain_mastra_memory import from_mastra, to_mastra
from mastra_memory import Message, MessageContent
from mastra_memory._content import decode_content
from tests.mastra_samples import needs_samples, sample_rows


def tool_loop() -> list[BaseMessage]:
    """A two-step tool loop with two parallel calls in the first step, as create_agent produces it."""
    return [
        SystemMessage("be brief", id="s1"),
        HumanMessage("Weather in Paris and Rome?", id="h1"),
        AIMessage(
            "",
            id="lc_run--a1",
            tool_calls=[
                {"name": "get_weather", "args": {"city": "Paris"}, "id": "call_1", "type": "tool_call"},
                {"name": "get_weather", "args": {"city": "Rome"}, "id": "call_2", "type": "tool_call"},
            ],
            usage_metadata={"input_tokens": 5, "output_tokens": 7, "total_tokens": 12},
            response_metadata={"model_name": "fake"},
        ),
        ToolMessage('{"tempC": 14}', tool_call_id="call_1", name="get_weather", id="t1"),
        ToolMessage("boom", tool_call_id="call_2", name="get_weather", id="t2", status="error"),
        AIMessage(
            "Checking once more.",
            id="lc_run--a2",
            tool_calls=[{"name": "get_time", "args": {}, "id": "call_3", "type": "tool_call"}],
        ),
        ToolMessage("12:00", tool_call_id="call_3", name="get_time", id="t3"),
        AIMessage("Paris 14°C; Rome unknown; it is noon.", id="lc_run--a3"),
        HumanMessage(
            [{"type": "text", "text": "and this?"}, {"type": "image", "base64": "AAAA", "mime_type": "image/png"}],
            id="h2",
        ),
        AIMessage(
            [{"type": "reasoning", "reasoning": "a picture"}, {"type": "text", "text": "A tiny PNG."}], id="lc_run--a4"
        ),
    ]


def test_a_tool_loop_becomes_one_assistant_row_in_mastras_shape() -> None:
    rows = to_mastra(tool_loop(), "t", "r")
    assert [(r.role, r.id) for r in rows] == [
        ("system", "s1"), ("user", "h1"), ("assistant", "lc_run--a1"), ("user", "h2"), ("assistant", "lc_run--a4"),
    ]
    parts = rows[2].content.parts
    assert [p["type"] for p in parts] == [
        "step-start", "tool-invocation", "tool-invocation", "step-start", "text", "tool-invocation", "step-start",
        "text",
    ]
    assert [p["type"] for p in rows[4].content.parts] == ["reasoning", "text"]
    inv = [p["toolInvocation"] for p in parts if p["type"] == "tool-invocation"]
    assert [(i["toolCallId"], i["state"], i["result"]) for i in inv] == [
        ("call_1", "result", '{"tempC": 14}'), ("call_2", "result", "boom"), ("call_3", "result", "12:00"),
    ]
    assert inv[0]["args"] == {"city": "Paris"}
    assert rows[3].content.parts[1] == {"type": "file", "data": "data:image/png;base64,AAAA", "mimeType": "image/png"}
    for row in rows:  # valid format 2 for the core (and thus Mastra)
        MessageContent.from_dict(row.content.to_dict())


def test_round_trip_is_exact() -> None:
    messages = tool_loop()
    assert from_mastra(to_mastra(messages, "t", "r")) == messages


def test_round_trip_through_json_is_exact() -> None:
    rows = to_mastra(tool_loop(), "t", "r")
    again = [
        Message(r.role, decode_content(json.dumps(r.content.to_dict()), "v2")[0], r.id, r.thread_id)
        for r in rows
    ]
    assert from_mastra(again) == tool_loop()


def test_a_pending_tool_call_stays_a_call() -> None:
    messages: list[BaseMessage] = [
        HumanMessage("hi", id="h"),
        AIMessage("", id="a", tool_calls=[{"name": "x", "args": {"q": 1}, "id": "c", "type": "tool_call"}]),
    ]
    rows = to_mastra(messages, "t")
    assert rows[1].content.parts[1]["toolInvocation"]["state"] == "call"
    assert from_mastra(rows) == messages


def test_plain_messages_carry_no_langchain_metadata() -> None:
    rows = to_mastra([HumanMessage("hi", id="h"), AIMessage("hello", id="a")], "t")
    assert [r.content.to_dict() for r in rows] == [
        {"format": 2, "parts": [{"type": "text", "text": "hi"}]},
        {"format": 2, "parts": [{"type": "text", "text": "hello"}]},
    ]


def test_a_call_answered_twice_reads_back_once_with_its_last_result() -> None:
    # Mastra holds one result per call: the second ToolMessage for a call replaces the first.
    call = {"name": "f", "args": {}, "id": "c", "type": "tool_call"}
    messages = [AIMessage("", id="a", tool_calls=[call]), ToolMessage("first", tool_call_id="c", name="f", id="t1"),
                ToolMessage("second", tool_call_id="c", name="f", id="t2")]
    assert from_mastra(to_mastra(messages, "t")) == [messages[0], messages[2]]


def test_function_messages_are_refused() -> None:
    from langchain_core.messages import FunctionMessage

    with pytest.raises(TypeError, match="FunctionMessage"):
        to_mastra([FunctionMessage("x", name="f")], "t")


@needs_samples
def test_rows_mastra_wrote_read_as_langchain_messages() -> None:
    rows = sample_rows()
    by_id = {r.id: r for r in rows}
    weather = from_mastra([by_id["m-t1-4"]])
    assert weather == [
        AIMessage(
            "", id="m-t1-4",
            tool_calls=[{"name": "getWeather", "args": {"city": "Paris", "day": "tomorrow"}, "id": "call_weather_1",
                         "type": "tool_call"}],
        ),
        ToolMessage(
            '{"tempC": 14, "condition": "light rain"}', tool_call_id="call_weather_1", name="getWeather",
            id="m-t1-4:call_weather_1", response_metadata={"mastra": {"result": "json"}},
        ),
        AIMessage("Tomorrow in Paris expect light rain and about 14 degrees Celsius.", id="m-t1-4:1"),
    ]
    assert from_mastra([by_id["m-t2-1"]]) == [
        HumanMessage("Give me a quick pasta recipe with tomatoes and basil.", id="m-t2-1")
    ]
    # Every sample converts, and Mastra -> LangChain -> Mastra gives Mastra's parts back.
    for row in rows:
        back = to_mastra(from_mastra([row]), row.thread_id or "t")
        assert len(back) == 1
        assert back[0].id == row.id
        assert back[0].content.parts == row.content.parts
        assert (back[0].content.metadata or {}).get("langchain") is None


async def test_round_trip_through_the_database(mem_factory: Any) -> None:
    mem = await mem_factory()
    await mem.create_thread("r", thread_id="t")
    await mem.save_messages(to_mastra(tool_loop(), "t", "r"))
    stored = (await mem.list_messages("t", per_page=None)).messages
    assert from_mastra(stored) == tool_loop()
    # Saving the same LangChain messages again updates in place: no duplicates.
    await mem.save_messages(to_mastra(tool_loop(), "t", "r"))
    assert len((await mem.list_messages("t", per_page=None)).messages) == 5
