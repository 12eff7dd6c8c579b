"""The message data model: every format-2 part round-trips, unknown parts and keys are kept
verbatim, legacy v1 rows read correctly, and timestamps prefer the ``…Z`` columns."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from mastra_memory import Message, MessageContent, MessageUpdate

from ._raw import UTC, insert_message, run

T0 = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)

EVERY_PART = [
    {"type": "step-start"},
    {"type": "text", "text": "Let me check.", "providerMetadata": {"openai": {"itemId": "msg_1"}}},
    {
        "type": "reasoning",
        "reasoning": "The user wants the weather.",
        "details": [
            {"type": "text", "text": "The user wants the weather.", "signature": "sig"},
            {"type": "redacted", "data": "xx"},
        ],
    },
    {
        "type": "tool-invocation",
        "toolInvocation": {"state": "partial-call", "toolCallId": "c0", "toolName": "search", "args": {}},
    },
    {
        "type": "tool-invocation",
        "toolInvocation": {
            "state": "call",
            "toolCallId": "c1",
            "toolName": "getWeather",
            "args": {"city": "Paris"},
            "step": 0,
        },
    },
    {
        "type": "tool-invocation",
        "toolInvocation": {
            "state": "result",
            "toolCallId": "c2",
            "toolName": "getWeather",
            "args": {"city": "Lyon"},
            "result": {"tempC": 14, "condition": "light rain"},
            "step": 1,
        },
    },
    {"type": "file", "data": "aGVsbG8=", "mimeType": "text/plain"},
    {"type": "source", "source": {"sourceType": "url", "id": "s1", "url": "https://example.com", "title": "Example"}},
    {"type": "data-weather", "id": "w1", "data": {"city": "Paris", "status": "done"}},
    {"type": "data-om-observation-start", "data": {"cycleId": "cy-1", "tokensToObserve": 1200}},
]

EVERY_KEY = {
    "format": 2,
    "parts": EVERY_PART,
    "content": "Let me check.",
    "toolInvocations": [
        {
            "state": "result",
            "toolCallId": "c2",
            "toolName": "getWeather",
            "args": {"city": "Lyon"},
            "result": {"tempC": 14},
        }
    ],
    "experimental_attachments": [{"name": "a.txt", "contentType": "text/plain", "url": "data:text/plain;base64,aGk="}],
    "reasoning": "The user wants the weather.",
    "annotations": [{"kind": "note"}],
    "metadata": {"model": "fake-model-1", "tokenEstimate": {"v": 1, "source": "om", "tokens": 42, "parts": [3, 39]}},
    "providerMetadata": {"anthropic": {"cacheControl": {"type": "ephemeral"}}},
}


def raw_content(mem, message_id):
    return json.loads(run(mem, "SELECT content FROM mastra_messages WHERE id = %s", (message_id,))[0]["content"])


async def _thread(mem):
    await mem.create_thread("user-1", thread_id="t-1")


async def test_every_part_type_and_content_key_round_trips(mem):
    await _thread(mem)
    await mem.save_messages([Message.assistant(EVERY_KEY, id="m-1", thread_id="t-1")])
    assert raw_content(mem, "m-1") == EVERY_KEY
    [loaded] = (await mem.list_messages("t-1")).messages
    assert loaded.content.to_dict() == EVERY_KEY
    assert loaded.text == "Let me check."
    assert [call["toolCallId"] for call in loaded.content.tool_invocations()] == ["c0", "c1", "c2"]
    assert loaded.content.metadata["tokenEstimate"] == {"v": 1, "source": "om", "tokens": 42, "parts": [3, 39]}


async def test_each_part_type_round_trips_on_its_own(mem):
    await _thread(mem)
    messages = [
        Message.assistant([part], id=f"p{i}", thread_id="t-1", created_at=T0 + timedelta(seconds=i))
        for i, part in enumerate(EVERY_PART)
    ]
    await mem.save_messages(messages)
    loaded = (await mem.list_messages("t-1")).messages
    assert [m.content.parts for m in loaded] == [[part] for part in EVERY_PART]


async def test_token_estimate_metadata_survives_save_load_and_update(mem):
    await _thread(mem)
    estimate = {"v": 1, "source": "om", "tokens": 42, "parts": [3, 39], "model": "o200k_base"}
    content = {"format": 2, "parts": [{"type": "text", "text": "count me"}], "metadata": {"tokenEstimate": estimate}}
    [saved] = await mem.save_messages([Message.user(content, id="m-1", thread_id="t-1")])
    assert saved.content.metadata == {"tokenEstimate": estimate}
    [loaded] = await mem.get_messages(["m-1"])
    assert loaded.content.metadata == {"tokenEstimate": estimate}
    await mem.save_messages([loaded])
    [updated] = await mem.update_messages([MessageUpdate("m-1", content={"metadata": {"seen": True}})])
    assert updated.content.metadata == {"tokenEstimate": estimate, "seen": True}


async def test_text_messages_are_stored_exactly_as_mastra_stores_them(mem):
    await _thread(mem)
    await mem.save_messages([Message.user("Hi", id="m-1", thread_id="t-1")])
    row = run(mem, 'SELECT content, role, type, "resourceId" FROM mastra_messages')[0]
    assert json.loads(row["content"]) == {"format": 2, "parts": [{"type": "text", "text": "Hi"}]}
    assert (row["role"], row["type"], row["resourceId"]) == ("user", "v2", "user-1")


async def test_a_mastra_row_with_unknown_parts_and_keys_survives_a_load_save_cycle(mem):
    await _thread(mem)
    original = {
        "format": 2,
        "parts": [
            {"type": "data-om-observation-end", "data": {"cycleId": "cy-1", "observations": "- likes tea"}},
            {"type": "text", "text": "hello"},
            {"type": "some-future-part", "payload": {"deep": [1, {"x": None}]}, "providerMetadata": {"p": 1}},
        ],
        "content": "hello",
        "futureTopLevel": {"kept": True},
        "metadata": {"mastra": {"sealed": True}},
    }
    insert_message(
        mem,
        id="m-1",
        thread_id="t-1",
        content=json.dumps(original),
        role="assistant",
        type="text",
        created_at=datetime(2025, 1, 1, 8, 0),
        resource_id="user-1",
    )
    [loaded] = (await mem.list_messages("t-1")).messages
    assert loaded.content.to_dict() == original
    assert loaded.type == "text"
    await mem.save_messages([loaded])
    assert raw_content(mem, "m-1") == original
    row = run(mem, 'SELECT type, "createdAt" FROM mastra_messages')[0]
    assert row == {"type": "text", "createdAt": datetime(2025, 1, 1, 8, 0)}


async def test_a_legacy_row_with_a_plain_string_reads_as_text(mem):
    await _thread(mem)
    insert_message(mem, id="v1", thread_id="t-1", content="Hello, plain", type="text", created_at=datetime(2024, 1, 1))
    [loaded] = (await mem.list_messages("t-1")).messages
    assert (loaded.role, loaded.text, loaded.type) == ("user", "Hello, plain", "text")
    assert loaded.content.parts == [{"type": "text", "text": "Hello, plain"}]


async def test_a_legacy_row_with_a_json_string_reads_as_text(mem):
    await _thread(mem)
    insert_message(
        mem,
        id="v1",
        thread_id="t-1",
        content=json.dumps('Hello, "quoted"'),
        type="text",
        created_at=datetime(2024, 1, 1),
    )
    [loaded] = (await mem.list_messages("t-1")).messages
    assert loaded.content.parts == [{"type": "text", "text": 'Hello, "quoted"'}]


async def test_a_legacy_row_whose_text_looks_like_json_keeps_it(mem):
    await _thread(mem)
    for i, text in enumerate(["42", "[1, 2", "{not json", "null"]):
        insert_message(
            mem,
            id=f"v{i}",
            thread_id="t-1",
            content=text,
            type="text",
            created_at=datetime(2024, 1, 1) + timedelta(seconds=i),
        )
    assert [m.text for m in (await mem.list_messages("t-1")).messages] == ["42", "[1, 2", "{not json", "null"]


async def test_a_legacy_tool_call_row_with_a_content_array_reads_as_parts(mem):
    await _thread(mem)
    content = [
        {"type": "text", "text": "Checking the weather."},
        {"type": "tool-call", "toolCallId": "c1", "toolName": "getWeather", "args": {"city": "Paris"}},
    ]
    insert_message(
        mem,
        id="v1",
        thread_id="t-1",
        content=json.dumps(content),
        role="assistant",
        type="tool-call",
        created_at=datetime(2024, 1, 1),
    )
    [loaded] = (await mem.list_messages("t-1")).messages
    assert loaded.role == "assistant"
    assert loaded.content.parts == [
        {"type": "text", "text": "Checking the weather."},
        {
            "type": "tool-invocation",
            "toolInvocation": {
                "state": "call",
                "toolCallId": "c1",
                "toolName": "getWeather",
                "args": {"city": "Paris"},
            },
        },
    ]


async def test_a_legacy_tool_result_row_becomes_an_assistant_tool_result(mem):
    await _thread(mem)
    content = [{"type": "tool-result", "toolCallId": "c1", "toolName": "getWeather", "result": {"tempC": 14}}]
    insert_message(
        mem,
        id="v1",
        thread_id="t-1",
        content=json.dumps(content),
        role="tool",
        type="tool-result",
        created_at=datetime(2024, 1, 1),
    )
    [loaded] = (await mem.list_messages("t-1")).messages
    assert loaded.role == "assistant"
    assert loaded.content.parts == [
        {
            "type": "tool-invocation",
            "toolInvocation": {
                "state": "result",
                "toolCallId": "c1",
                "toolName": "getWeather",
                "args": {},
                "result": {"tempC": 14},
            },
        },
    ]


async def test_a_legacy_user_content_array_with_an_image_reads_as_a_file_part(mem):
    await _thread(mem)
    content = [{"type": "text", "text": "What is this?"}, {"type": "image", "image": "aGk=", "mimeType": "image/png"}]
    insert_message(
        mem, id="v1", thread_id="t-1", content=json.dumps(content), type="text", created_at=datetime(2024, 1, 1)
    )
    [loaded] = (await mem.list_messages("t-1")).messages
    assert loaded.role == "user"
    assert loaded.content.parts == [
        {"type": "text", "text": "What is this?"},
        {"type": "file", "data": "aGk=", "mimeType": "image/png"},
    ]


async def test_legacy_and_format_2_rows_list_together_in_time_order(mem):
    await _thread(mem)
    insert_message(mem, id="v1", thread_id="t-1", content="old style", type="text", created_at=datetime(2024, 1, 1))
    await mem.save_messages([Message.assistant("new style", thread_id="t-1")])
    page = await mem.recall("t-1")
    assert [m.text for m in page.messages] == ["old style", "new style"]


async def test_a_legacy_row_saved_back_is_stored_in_format_2(mem):
    await _thread(mem)
    insert_message(mem, id="v1", thread_id="t-1", content="plain", type="text", created_at=datetime(2024, 1, 1))
    [loaded] = (await mem.list_messages("t-1")).messages
    await mem.save_messages([loaded])
    assert raw_content(mem, "v1") == {"format": 2, "parts": [{"type": "text", "text": "plain"}]}


async def test_message_times_prefer_the_z_column_over_the_naive_one(mem):
    await _thread(mem)
    naive = datetime(2024, 1, 1, 0, 0, 0)
    aware = datetime(2024, 6, 1, 12, 30, 0, 250000, tzinfo=UTC)
    insert_message(mem, id="both", thread_id="t-1", content="both", created_at=naive, created_at_z=aware)
    insert_message(
        mem, id="naive-only", thread_id="t-1", content="naive", created_at=naive + timedelta(days=1), created_at_z=None
    )
    found = {m.id: m.created_at for m in await mem.get_messages(["both", "naive-only"])}
    assert found == {"both": aware, "naive-only": (naive + timedelta(days=1)).replace(tzinfo=UTC)}
    listed = {m.id: m.created_at for m in (await mem.list_messages("t-1")).messages}
    assert listed == found


async def test_message_text_keeps_nul_characters_and_unusual_unicode_exactly(mem):
    await _thread(mem)
    text = "a\x00b \U0001f600 \u200d\ufeff \r\n\t \\u0000 \u2028"
    [saved] = await mem.save_messages([Message.user(text, thread_id="t-1", id="m-1")])
    assert saved.text == text
    [loaded] = (await mem.list_messages("t-1")).messages
    assert loaded.text == text
    assert raw_content(mem, "m-1")["parts"][0]["text"] == text


async def test_message_content_mirror_is_the_text_when_present(mem):
    await _thread(mem)
    content = MessageContent(parts=[{"type": "text", "text": "part text"}], extra={"content": "mirror text"})
    await mem.save_messages([Message.assistant(content, thread_id="t-1")])
    [loaded] = (await mem.list_messages("t-1")).messages
    assert loaded.text == "mirror text"


async def test_a_message_with_empty_parts_but_a_content_mirror_is_kept(mem):
    await _thread(mem)
    await mem.save_messages(
        [Message.assistant({"format": 2, "parts": [], "content": "only the mirror"}, thread_id="t-1")]
    )
    [loaded] = (await mem.list_messages("t-1")).messages
    assert (loaded.content.parts, loaded.text) == ([], "only the mirror")
