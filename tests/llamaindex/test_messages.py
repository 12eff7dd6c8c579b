"""LlamaIndex ChatMessage ↔ Mastra format 2: exact round trips, Mastra's shape, and rows Mastra wrote."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

pytest.importorskip("llama_index.core", reason="llama-index is not installed: pip install 'mastra-memory[llama-index]'")

from llama_index.core.base.llms.types import (
    AudioBlock,
    CacheControl,
    CachePoint,
    ChatMessage,
    DocumentBlock,
    ImageBlock,
    MessageRole,
    TextBlock,
    ThinkingBlock,
    ToolCallBlock,
)

from llama_index_mastra_memory import from_mastra, to_mastra
from mastra_memory import Message, MessageContent
from tests.mastra_samples import needs_samples, sample_rows

PNG = b"\x89PNG\r\n\x1a\n-not-really-a-png"


def through_json(rows: list[Message]) -> list[Message]:
    """What the store would give back: the content re-read from its JSON text."""
    return [
        Message(r.role, MessageContent.from_dict(json.loads(json.dumps(r.content.to_dict()))), r.id, r.thread_id)
        for r in rows
    ]


def agent_turn() -> list[ChatMessage]:
    """A FunctionAgent turn: user, a tool-calling step, two results, the answer."""
    return [
        ChatMessage(role="user", content="What's 2+2 and the weather?"),
        ChatMessage(
            role="assistant",
            blocks=[
                ThinkingBlock(content="two tools"),
                TextBlock(text="Checking."),
                ToolCallBlock(tool_call_id="c1", tool_name="calc", tool_kwargs={"e": "2+2"}),
                ToolCallBlock(tool_call_id="c2", tool_name="weather", tool_kwargs={"city": "Paris"}),
            ],
        ),
        ChatMessage(role="tool", content="4", additional_kwargs={"tool_call_id": "c1"}),
        ChatMessage(role="tool", content='{"tempC": 14, "sky": "rain"}', additional_kwargs={"tool_call_id": "c2"}),
        ChatMessage(role="assistant", content="4, and rain at 14°C."),
    ]


def test_an_agent_turn_becomes_one_assistant_row_in_mastras_shape() -> None:
    rows = to_mastra(agent_turn(), "t", "r")
    assert [r.role for r in rows] == ["user", "assistant"]
    assert rows[0].content.parts == [{"type": "text", "text": "What's 2+2 and the weather?"}]
    parts = rows[1].content.parts
    assert [p["type"] for p in parts] == [
        "step-start",
        "reasoning",
        "text",
        "tool-invocation",
        "tool-invocation",
        "step-start",
        "text",
    ]
    assert parts[3]["toolInvocation"] == {
        "state": "result",
        "toolCallId": "c1",
        "toolName": "calc",
        "args": {"e": "2+2"},
        "result": 4,
    }
    assert parts[4]["toolInvocation"]["result"] == {"tempC": 14, "sky": "rain"}  # JSON, as Mastra tools return
    assert rows[1].content.metadata is None  # nothing LlamaIndex-specific to keep
    assert all(r.thread_id == "t" and r.resource_id == "r" for r in rows)


def test_round_trip_is_exact() -> None:
    assert from_mastra(through_json(to_mastra(agent_turn(), "t"))) == agent_turn()


def exotic() -> list[ChatMessage]:
    return [
        ChatMessage(role="developer", content="be brief", additional_kwargs={"tag": 1}),
        ChatMessage(role="system", content="You are helpful."),
        ChatMessage(
            role="user",
            blocks=[
                TextBlock(text="look"),
                ImageBlock(image=PNG, image_mimetype="image/png", detail="high"),
                ImageBlock(url="https://example.com/cat.jpg", image_mimetype="image/jpeg"),
                AudioBlock(audio=b"RIFF....WAVE", format="wav"),
                DocumentBlock(data=b"%PDF-1.4 ...", document_mimetype="application/pdf", title="doc"),
                CachePoint(cache_control=CacheControl(type="ephemeral")),
            ],
        ),
        ChatMessage(role="user", content=""),
        ChatMessage(role="user"),
        # provider-style tool calls (older integrations) next to no blocks
        ChatMessage(
            role="assistant",
            content="",
            additional_kwargs={
                "tool_calls": [
                    {"id": "p1", "type": "function", "function": {"name": "lookup", "arguments": '{"q": "x"}'}}
                ]
            },
        ),
        ChatMessage(role="tool", content="found", additional_kwargs={"tool_call_id": "p1", "name": "lookup"}),
        ChatMessage(role="chatbot", content="from a chatbot role"),
        # a tool call without id, a tool with several blocks, an orphan result, a result without id
        ChatMessage(role="assistant", blocks=[ToolCallBlock(tool_call_id=None, tool_name="f", tool_kwargs='{"a": 1}')]),
        ChatMessage(
            role="tool",
            blocks=[TextBlock(text="a"), ImageBlock(image=PNG, image_mimetype="image/png")],
            additional_kwargs={"tool_call_id": "zz"},
        ),
        ChatMessage(role="tool", content="no id"),
        ChatMessage(role="user", content="next"),
        ChatMessage(role="tool", content="orphan first", additional_kwargs={"tool_call_id": "gone"}),
        ChatMessage(role="assistant", blocks=[ToolCallBlock(tool_call_id="pending", tool_name="slow", tool_kwargs={})]),
    ]


def test_every_block_type_role_and_odd_shape_round_trips_exactly() -> None:
    rows = to_mastra(exotic(), "t")
    back = from_mastra(through_json(rows))
    assert back == exotic()
    provider = next(
        r
        for r in rows
        if any(
            p.get("type") == "tool-invocation" and p["toolInvocation"]["toolCallId"] == "p1" for p in r.content.parts
        )
    )
    call = next(p for p in provider.content.parts if p.get("type") == "tool-invocation")["toolInvocation"]
    assert call == {"state": "result", "toolCallId": "p1", "toolName": "lookup", "args": {"q": "x"}, "result": "found"}
    user = rows[2].content.parts
    assert user[1] == {
        "type": "file",
        "data": f"data:image/png;base64,{base64.b64encode(PNG).decode()}",
        "mimeType": "image/png",
        "providerMetadata": user[1]["providerMetadata"],
    }  # detail kept aside
    assert user[2] == {"type": "file", "data": "https://example.com/cat.jpg", "mimeType": "image/jpeg"}


def test_function_role_is_refused() -> None:
    with pytest.raises(TypeError, match="function-role"):
        to_mastra([ChatMessage(role=MessageRole.FUNCTION, content="x")], "t")


def test_reads_return_fresh_objects() -> None:
    rows = to_mastra(agent_turn(), "t")
    first, second = from_mastra(rows), from_mastra(rows)
    first[0].blocks[0] = TextBlock(text="changed")  # agents rewrite returned messages in place
    assert second == agent_turn() and from_mastra(rows) == agent_turn()


@needs_samples
def test_rows_mastra_wrote_read_as_llama_index_messages() -> None:
    rows = sample_rows()
    by_id = {r.id: r for r in rows}
    assert from_mastra([by_id["m-t1-4"]]) == [
        ChatMessage(
            role="assistant",
            blocks=[
                ToolCallBlock(
                    tool_call_id="call_weather_1",
                    tool_name="getWeather",
                    tool_kwargs={"city": "Paris", "day": "tomorrow"},
                )
            ],
        ),
        ChatMessage(
            role="tool",
            content='{"tempC": 14, "condition": "light rain"}',
            additional_kwargs={"tool_call_id": "call_weather_1"},
        ),
        ChatMessage(role="assistant", content="Tomorrow in Paris expect light rain and about 14 degrees Celsius."),
    ]
    assert from_mastra([by_id["m-t2-1"]]) == [
        ChatMessage(role="user", content="Give me a quick pasta recipe with tomatoes and basil.")
    ]
    # Every sample converts, and Mastra -> LlamaIndex -> Mastra gives Mastra's parts back, without extras.
    for row in rows:
        back = to_mastra(from_mastra([row]), row.thread_id or "t")
        assert len(back) == 1
        assert back[0].content.parts == row.content.parts
        assert back[0].content.metadata is None


async def test_round_trip_through_the_database(mem_factory: Any) -> None:
    mem = await mem_factory()
    await mem.create_thread("r", thread_id="t")
    await mem.save_messages(to_mastra(exotic() + agent_turn(), "t", "r"))
    stored = (await mem.list_messages("t", per_page=None)).messages
    assert from_mastra(stored) == exotic() + agent_turn()


def test_provider_objects_in_additional_kwargs_are_stored_as_their_json() -> None:
    from pydantic import BaseModel

    class Function(BaseModel):
        name: str
        arguments: str

    class ToolCall(BaseModel):  # the shape of OpenAI's ChatCompletionMessageToolCall
        id: str
        type: str = "function"
        function: Function

    call = ToolCall(id="o1", function=Function(name="lookup", arguments='{"q": "x"}'))
    message = ChatMessage(role="assistant", content="", additional_kwargs={"tool_calls": [call]})
    rows = to_mastra([message], "t")
    invocation = next(p for p in rows[0].content.parts if p.get("type") == "tool-invocation")["toolInvocation"]
    assert invocation == {"state": "call", "toolCallId": "o1", "toolName": "lookup", "args": {"q": "x"}}
    back = from_mastra(through_json(rows))
    assert back == [ChatMessage(role="assistant", content="", additional_kwargs={"tool_calls": [call.model_dump()]})]


def test_mastra_file_parts_read_as_media_blocks_and_convert_back() -> None:
    parts = [
        {"type": "text", "text": "see"},
        {
            "type": "file",
            "data": "data:application/pdf;base64," + base64.b64encode(b"%PDF").decode(),
            "mimeType": "application/pdf",
        },
        {"type": "file", "data": "https://example.com/y.png", "mimeType": "image/png"},
        {
            "type": "file",
            "data": "data:audio/wav;base64," + base64.b64encode(b"RIFF").decode(),
            "mimeType": "audio/wav",
        },
    ]
    [message] = from_mastra([Message.of("user", parts, id="u1", thread_id="t")])
    assert [type(b) for b in message.blocks] == [TextBlock, DocumentBlock, ImageBlock, AudioBlock]
    [row] = to_mastra([message], "t")
    assert row.content.parts == parts and row.content.metadata is None
