"""Threads and messages written on one side, read on the other: same ids, roles, times, parts, metadata."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from mastra_memory import Message

from . import as_mastra_message, as_mastra_thread, iso_ms, mastra_message, op, parse_iso
from .conftest import Db, Mastra, Ours

ASC = {"field": "createdAt", "direction": "ASC"}

THREAD_METADATA: dict[str, Any] = {
    "tags": ["travel", "été"],
    "channel": "web",
    "priority": 2,
    "pinned": True,
    "ratio": 0.25,
    "none": None,
    "nested": {"a": {"b": [1, {"c": "d"}]}},
}

USER_CONTENT: dict[str, Any] = {
    "format": 2,
    "parts": [{"type": "text", "text": "What's the weather in Paris tomorrow? ☔ and\nwhat time is it there?"}],
    "metadata": {"client": "web", "trace": {"id": "abc", "n": 1}},
}

ASSISTANT_CONTENT: dict[str, Any] = {
    "format": 2,
    "parts": [
        {"type": "step-start"},
        {
            "type": "reasoning",
            "reasoning": "I need the weather and the local time.",
            "details": [{"type": "text", "text": "I need the weather and the local time."}],
        },
        {
            "type": "tool-invocation",
            "toolInvocation": {
                "state": "result",
                "step": 0,
                "toolCallId": "call_w1",
                "toolName": "getWeather",
                "args": {"city": "Paris", "day": "tomorrow"},
                "result": {"tempC": 14, "condition": "light rain"},
            },
        },
        {
            "type": "tool-invocation",
            "toolInvocation": {
                "state": "result",
                "step": 0,
                "toolCallId": "call_t1",
                "toolName": "getTime",
                "args": {"tz": "Europe/Paris"},
                "result": "10:00",
            },
        },
        {
            "type": "tool-invocation",
            "toolInvocation": {
                "state": "result",
                "step": 0,
                "toolCallId": "call_n1",
                "toolName": "noop",
                "args": {},
                "result": None,
            },
        },
        {"type": "step-start"},
        {
            "type": "text",
            "text": "Tomorrow: light rain, about 14 °C. It is 10:00 in Paris.",
            "providerMetadata": {"openai": {"itemId": "msg_1"}},
        },
        {
            "type": "source",
            "source": {
                "sourceType": "url",
                "id": "src-1",
                "url": "https://example.com/paris",
                "title": "Paris weather",
            },
        },
        {"type": "file", "data": "data:image/png;base64,iVBORw0KGgoAAAANSUhEUg==", "mimeType": "image/png"},
    ],
    "toolInvocations": [
        {
            "state": "result",
            "step": 0,
            "toolCallId": "call_w1",
            "toolName": "getWeather",
            "args": {"city": "Paris", "day": "tomorrow"},
            "result": {"tempC": 14, "condition": "light rain"},
        },
        {
            "state": "result",
            "step": 0,
            "toolCallId": "call_t1",
            "toolName": "getTime",
            "args": {"tz": "Europe/Paris"},
            "result": "10:00",
        },
    ],
    "reasoning": "I need the weather and the local time.",
    "metadata": {"model": "fake-model-1", "usage": {"inputTokens": 12, "outputTokens": 30}},
}

FILE_CONTENT: dict[str, Any] = {
    "format": 2,
    "parts": [
        {"type": "file", "data": "https://example.com/ticket.pdf", "mimeType": "application/pdf"},
        {"type": "text", "text": "Here is my ticket."},
    ],
    "experimental_attachments": [
        {"name": "ticket.pdf", "contentType": "application/pdf", "url": "https://example.com/ticket.pdf"}
    ],
    "content": "Here is my ticket.",
}

CALL_CONTENT: dict[str, Any] = {  # a tool call still waiting for its result
    "format": 2,
    "parts": [
        {
            "type": "tool-invocation",
            "toolInvocation": {
                "state": "call",
                "toolCallId": "call_b1",
                "toolName": "book",
                "args": {"train": "TGV 6201"},
            },
        }
    ],
}

# id, role, content, createdAt (None: the writer stamps it), type
SCRIPT: list[tuple[str, str, dict[str, Any], str | None, str]] = [
    ("m-user", "user", USER_CONTENT, "2025-01-01T10:00:01.123Z", "v2"),
    ("m-assistant", "assistant", ASSISTANT_CONTENT, "2025-01-01T10:00:02.456Z", "v2"),
    ("m-file", "user", FILE_CONTENT, "2025-01-01T10:00:03.007Z", "v2"),
    ("m-call", "assistant", CALL_CONTENT, "2025-01-01T10:00:04.999Z", "text"),
    ("m-late", "user", {"format": 2, "parts": [{"type": "text", "text": "Thanks!"}]}, None, "v2"),
]


def mastra_script(thread_id: str, resource_id: str) -> list[dict[str, Any]]:
    out = []
    for message_id, role, content, at, kind in SCRIPT:
        message: dict[str, Any] = {
            "id": message_id,
            "threadId": thread_id,
            "resourceId": resource_id,
            "role": role,
            "content": content,
            "type": kind,
        }
        if at is not None:
            message["createdAt"] = at
        out.append(message)
    return out


def our_script(thread_id: str) -> list[Message]:
    out = []
    for message_id, role, content, at, kind in SCRIPT:
        message = Message.of(
            role,
            content,
            id=message_id,
            thread_id=thread_id,  # type: ignore[arg-type]
            created_at=None if at is None else parse_iso(at),
        )
        message.type = kind
        out.append(message)
    return out


def expect_script(messages: list[Message], thread_id: str, resource_id: str) -> None:
    """The messages are SCRIPT's, in order, whole."""
    assert [m.id for m in messages] == [s[0] for s in SCRIPT]
    for message, (message_id, role, content, at, kind) in zip(messages, SCRIPT, strict=True):
        assert (message.id, message.role, message.type) == (message_id, role, kind)
        assert (message.thread_id, message.resource_id) == (thread_id, resource_id)
        assert message.content.to_dict() == content
        assert message.created_at is not None
        assert message.created_at.microsecond % 1000 == 0
        if at is not None:
            assert iso_ms(message.created_at) == at


async def test_mastra_writes_threads_and_messages_we_read_them(mastra: Mastra, ours: Ours, schema: str) -> None:
    got = await mastra(
        schema,
        [
            op("createThread", threadId="t-trip", resourceId="alice", title="Trip to Paris", metadata=THREAD_METADATA),
            op("createThread", threadId="t-empty", resourceId="alice"),
            op("createThread", threadId="t-bob", resourceId="bob", title="Bob's"),
            op("saveMessages", messages=mastra_script("t-trip", "alice")),
            op("getThreadById", threadId="t-trip"),
            op("getThreadById", threadId="t-empty"),
            op("listThreads", filter={"resourceId": "alice"}),
            op("recall", threadId="t-trip", resourceId="alice"),
            op("listMessages", threadId="t-trip", perPage=False, orderBy=ASC),
            op("listMessagesById", messageIds=["m-file", "m-user", "m-late", "nope"]),
            op("listThreads", filter={"metadata": {"channel": "web", "priority": 2}}),
        ],
    )
    memory = await ours(schema)

    # threads
    trip, empty = await memory.get_thread("t-trip"), await memory.get_thread("t-empty")
    assert as_mastra_thread(trip) == got[4]
    assert trip.metadata == THREAD_METADATA
    assert trip.title == "Trip to Paris"
    assert as_mastra_thread(empty) == got[5]
    assert (empty.title, empty.metadata) == ("", None)
    assert trip.created_at.microsecond % 1000 == 0
    page = await memory.list_threads(resource_id="alice")
    assert [as_mastra_thread(t) for t in page.threads] == got[6]["threads"]
    assert (page.total, page.has_more) == (got[6]["total"], got[6]["hasMore"])
    by_meta = await memory.list_threads(metadata={"channel": "web", "priority": 2})
    assert [t.id for t in by_meta.threads] == [t["id"] for t in got[10]["threads"]] == ["t-trip"]

    # messages, through every reader
    recalled = (await memory.recall("t-trip", resource_id="alice")).messages
    expect_script(recalled, "t-trip", "alice")
    assert [as_mastra_message(m) for m in recalled] == [mastra_message(m) for m in got[7]["messages"]]
    saved_late = got[3]["messages"][-1]
    assert recalled[-1].created_at == parse_iso(saved_late["createdAt"])
    listed = await memory.list_messages("t-trip", per_page=None)
    assert listed.messages == recalled
    assert [as_mastra_message(m) for m in listed.messages] == [mastra_message(m) for m in got[8]["messages"]]
    by_id = await memory.get_messages(["m-file", "m-user", "m-late", "nope"])
    # the same records (the order is compared in test_ordering.py)
    assert sorted((as_mastra_message(m) for m in by_id), key=lambda m: m["id"]) == sorted(
        (mastra_message(m) for m in got[9]["messages"]), key=lambda m: m["id"]
    )
    assistant = recalled[1]
    assert [c["toolCallId"] for c in assistant.content.tool_invocations()] == ["call_w1", "call_t1", "call_n1"]
    assert assistant.content.metadata == ASSISTANT_CONTENT["metadata"]
    assert recalled[2].text == "Here is my ticket."


async def test_we_write_threads_and_messages_mastra_reads_them(mastra: Mastra, ours: Ours, db: Db, schema: str) -> None:
    memory = await ours(schema)
    await memory.create_thread("alice", thread_id="t-trip", title="Trip to Paris", metadata=THREAD_METADATA)
    await memory.create_thread("alice", thread_id="t-empty")
    await memory.create_thread("bob", thread_id="t-bob", title="Bob's")
    saved = await memory.save_messages(our_script("t-trip"))
    system = await memory.save_messages([Message.system("You are terse.", id="m-system", thread_id="t-bob")])
    threads = {t: await memory.get_thread(t) for t in ("t-trip", "t-empty", "t-bob")}

    got = await mastra(
        schema,
        [
            op("getThreadById", threadId="t-trip"),
            op("getThreadById", threadId="t-empty"),
            op("listThreads", filter={"resourceId": "alice"}),
            op("listThreads", filter={"metadata": {"tags": ["travel", "été"]}}),
            op("recall", threadId="t-trip", resourceId="alice"),
            op("listMessages", threadId="t-trip", perPage=False, orderBy=ASC),
            op("listMessagesById", messageIds=["m-late", "m-call", "m-assistant"]),
            op("listMessagesByResourceId", resourceId="alice", perPage=False, orderBy=ASC),
            op("listMessages", threadId="t-bob", perPage=False),
            op("listThreads", filter={}, orderBy={"field": "updatedAt", "direction": "DESC"}),
        ],
    )
    expect_script(saved, "t-trip", "alice")
    assert got[0] == as_mastra_thread(threads["t-trip"])
    assert got[0]["metadata"] == THREAD_METADATA
    assert got[1] == as_mastra_thread(threads["t-empty"])
    # both threads may share a creation millisecond, so compare the listing as a set
    assert sorted(got[2]["threads"], key=lambda t: t["id"]) == [
        as_mastra_thread(threads[t]) for t in ("t-empty", "t-trip")
    ]
    assert [t["id"] for t in got[3]["threads"]] == ["t-trip"]
    assert [t["id"] for t in got[9]["threads"]] == [
        t.id for t in (await memory.list_threads(order_by="updatedAt")).threads
    ]

    want = [as_mastra_message(m) for m in saved]
    assert [mastra_message(m) for m in got[4]["messages"]] == want
    assert [mastra_message(m) for m in got[5]["messages"]] == want
    assert sorted(mastra_message(m)["id"] for m in got[6]["messages"]) == ["m-assistant", "m-call", "m-late"]
    assert [mastra_message(m) for m in got[6]["messages"]] == [want[1], want[3], want[4]]  # oldest first
    assert [mastra_message(m) for m in got[7]["messages"]] == want
    # Mastra never stores system messages (Memory.saveMessages drops them) and its readers skip
    # them (MessageList keeps system messages apart), so a system message we save is ours alone.
    assert system[0].role == "system"
    assert got[8]["messages"] == []
    # the stored times are Mastra's: milliseconds, the naive column in UTC
    rows = await db(schema, 'SELECT "createdAt" AS naive, "createdAtZ" AS aware FROM mastra_messages ORDER BY 1')
    assert all(isinstance(r["naive"], datetime) and r["naive"] == r["aware"].replace(tzinfo=None) for r in rows)
    assert all(r["aware"].microsecond % 1000 == 0 for r in rows)
