"""Clones made on one side, seen on the other: lineage metadata, history, and the copied messages."""

from __future__ import annotations

from typing import Any

from mastra_memory import Message

from . import as_mastra_message, as_mastra_thread, iso_ms, mastra_message, op, parse_iso, ref
from .conftest import Mastra, Ours

ASC = {"field": "createdAt", "direction": "ASC"}
TIMES = ["2025-03-01T12:00:00.000Z", "2025-03-01T12:01:00.250Z", "2025-03-01T12:02:00.500Z", "2025-03-01T12:03:00.999Z"]


def mastra_messages(thread_id: str, resource_id: str) -> list[dict[str, Any]]:
    return [
        {
            "id": f"{thread_id}-m{i}",
            "threadId": thread_id,
            "resourceId": resource_id,
            "role": "user" if i % 2 == 0 else "assistant",
            "createdAt": at,
            "content": {"format": 2, "parts": [{"type": "text", "text": f"message {i}"}], "metadata": {"i": i}},
        }
        for i, at in enumerate(TIMES)
    ]


async def test_mastra_clones_we_read_lineage_and_messages(mastra: Mastra, ours: Ours, schema: str) -> None:
    got = await mastra(
        schema,
        [
            op("createThread", threadId="src", resourceId="alice", title="Trip", metadata={"channel": "web"}),
            op("saveMessages", messages=mastra_messages("src", "alice")),
            op("cloneThread", sourceThreadId="src", newThreadId="c1", title="Branch", metadata={"purpose": "try"}),
            op("cloneThread", sourceThreadId="c1", newThreadId="c2", options={"messageLimit": 2}),
            op(
                "cloneThread",
                sourceThreadId="src",
                newThreadId="c3",
                resourceId="bob",
                options={"messageFilter": {"startDate": TIMES[1], "endDate": TIMES[2]}},
            ),
            op("memoryCall", method="getCloneHistory", args=["c2"]),
            op("listMessages", threadId="c1", perPage=False, orderBy=ASC),
            op("getThreadById", threadId="c1"),
            op("memoryCall", method="listClones", args=["src", "alice"]),
        ],
    )
    c1_made, c2_made, c3_made = got[2], got[3], got[4]
    memory = await ours(schema)

    c1 = await memory.get_thread("c1")
    assert c1 is not None
    assert as_mastra_thread(c1) == got[7]
    assert (c1.title, c1.resource_id) == ("Branch", "alice")
    assert c1.metadata == {"purpose": "try", "clone": c1_made["thread"]["metadata"]["clone"]}
    info = c1.clone_info
    assert info is not None
    assert c1.is_clone
    assert (info.source_thread_id, info.last_message_id) == ("src", "src-m3")
    assert info.cloned_at == c1_made["thread"]["metadata"]["clone"]["clonedAt"]
    assert parse_iso(info.cloned_at) == c1.created_at

    c2 = await memory.get_thread("c2")
    assert c2 is not None
    assert c2.title == "Clone of Branch"
    assert c2.clone_info is not None
    assert c2.clone_info.last_message_id == c1_made["messageIdMap"]["src-m3"]
    history = await memory.get_clone_history("c2")
    assert [as_mastra_thread(t) for t in history] == got[5]
    assert [t.id for t in history] == ["src", "c1", "c2"]
    assert (await memory.get_source_thread("c2")) == c1
    assert await memory.get_source_thread("src") is None
    assert (
        sorted(t.id for t in await memory.list_clones("src", resource_id="alice"))
        == sorted(t["id"] for t in got[8])
        == ["c1"]
    )
    assert sorted(t.id for t in await memory.list_clones("src")) == ["c1", "c3"]

    # the copied messages: Mastra's new ids, the source's times, roles and content
    source = (await memory.list_messages("src", per_page=None)).messages
    copied = (await memory.list_messages("c1", per_page=None)).messages
    assert [m.id for m in copied] == [c1_made["messageIdMap"][m.id] for m in source]
    assert [(m.created_at, m.role, m.content) for m in copied] == [(m.created_at, m.role, m.content) for m in source]
    assert {(m.thread_id, m.resource_id) for m in copied} == {("c1", "alice")}
    assert [as_mastra_message(m) for m in copied] == [mastra_message(m) for m in got[6]["messages"]]
    last_two = (await memory.list_messages("c2", per_page=None)).messages
    assert [m.text for m in last_two] == ["message 2", "message 3"]
    c3 = await memory.get_thread("c3")
    assert c3 is not None
    assert c3.resource_id == "bob"
    assert c3.title == "Clone of Trip"
    in_window = (await memory.list_messages("c3", per_page=None)).messages
    assert [m.id for m in in_window] == [c3_made["messageIdMap"][f"src-m{i}"] for i in (1, 2)]
    assert {m.resource_id for m in in_window} == {"bob"}
    assert [m.id for m in (await memory.recall("c2")).messages] == list(c2_made["messageIdMap"].values())


async def test_we_clone_mastra_reads_lineage_and_messages(mastra: Mastra, ours: Ours, schema: str) -> None:
    memory = await ours(schema)
    await memory.create_thread("alice", thread_id="src", title="Trip", metadata={"channel": "web"})
    source = await memory.save_messages(
        [
            Message.of(
                "user" if i % 2 == 0 else "assistant",
                {"format": 2, "parts": [{"type": "text", "text": f"m{i}"}]},
                id=f"src-m{i}",
                thread_id="src",
                created_at=parse_iso(at),
            )
            for i, at in enumerate(TIMES)
        ]
    )
    c1 = await memory.clone_thread("src", new_thread_id="c1", title="Branch", metadata={"purpose": "try"})
    c2 = await memory.clone_thread("c1", new_thread_id="c2", message_limit=2)
    c3 = await memory.clone_thread(
        "src",
        new_thread_id="c3",
        resource_id="bob",
        start_date=parse_iso(TIMES[1]),
        end_date=parse_iso(TIMES[2]),
    )

    got = await mastra(
        schema,
        [
            op("getThreadById", threadId="c1"),
            op("listMessages", threadId="c1", perPage=False, orderBy=ASC),
            op("memoryCall", method="getCloneHistory", args=["c2"]),
            op("memoryCall", method="getSourceThread", args=["c2"]),
            op("memoryCall", method="isClone", args=[ref(0)]),
            op("memoryCall", method="listClones", args=["src"]),
            op("recall", threadId="c2", resourceId="alice"),
            op("listMessages", threadId="c3", perPage=False, orderBy=ASC),
            # Mastra clones our clone: our lineage metadata carries on
            op("cloneThread", sourceThreadId="c2", newThreadId="c4"),
            op("memoryCall", method="getCloneHistory", args=["c4"]),
        ],
    )
    assert got[0] == as_mastra_thread(c1.thread)
    assert got[0]["metadata"]["clone"] == {
        "sourceThreadId": "src",
        "clonedAt": iso_ms(c1.thread.created_at),
        "lastMessageId": "src-m3",
    }
    assert got[0]["metadata"]["purpose"] == "try"
    assert [mastra_message(m) for m in got[1]["messages"]] == [as_mastra_message(m) for m in c1.messages]
    assert [m["createdAt"] for m in got[1]["messages"]] == [iso_ms(m.created_at) for m in source]
    assert [t["id"] for t in got[2]] == ["src", "c1", "c2"]
    assert got[3] == as_mastra_thread(c1.thread)
    assert got[4] is True
    assert [t["id"] for t in got[5]] == ["c1"]  # Mastra lists the clones of the source's resource only
    assert [mastra_message(m) for m in got[6]["messages"]] == [as_mastra_message(m) for m in c2.messages]
    assert [m["content"]["parts"][0]["text"] for m in got[6]["messages"]] == ["m2", "m3"]
    assert [mastra_message(m) for m in got[7]["messages"]] == [as_mastra_message(m) for m in c3.messages]
    assert {m["resourceId"] for m in got[7]["messages"]} == {"bob"}
    assert [t["id"] for t in got[9]] == ["src", "c1", "c2", "c4"]
    assert [t.id for t in await memory.get_clone_history("c4")] == ["src", "c1", "c2", "c4"]


async def test_clone_of_an_untitled_thread_is_titled_as_mastra_titles_it(
    mastra: Mastra, ours: Ours, schema: str
) -> None:
    memory = await ours(schema)
    await memory.create_thread("alice", thread_id="untitled")
    got = await mastra(schema, [op("cloneThread", sourceThreadId="untitled", newThreadId="by-mastra")])
    mine = await memory.clone_thread("untitled", new_thread_id="by-us")
    assert got[0]["thread"]["title"] == ""
    assert mine.thread.title == got[0]["thread"]["title"]
