"""Updates and deletes made on one side, seen on the other (vector rows of Mastra's semantic recall included)."""

from __future__ import annotations

from typing import Any

from mastra_memory import Message, MessageUpdate

from . import as_mastra_message, mastra_message, op
from .conftest import Db, Mastra, Ours

VECTORS = "memory_messages_384"
ASC = {"field": "createdAt", "direction": "ASC"}

ORIGINAL: dict[str, Any] = {
    "format": 2,
    "parts": [{"type": "text", "text": "original text"}],
    "metadata": {"a": 1, "keep": True, "nested": {"x": 1}},
}
PLAIN: dict[str, Any] = {"format": 2, "parts": [{"type": "text", "text": "plain text"}]}

# The same patches, applied by Mastra to our messages and by us to Mastra's.
EDIT: dict[str, Any] = {
    "parts": [{"type": "text", "text": "edited text"}],
    "metadata": {"a": 2, "nested": {"y": 2}, "new": "x"},
    "content": "edited text",
}
TAG: dict[str, Any] = {"metadata": {"only": 1}}

# Mastra's merge: {...stored, ...patch, metadata: {...stored.metadata, ...patch.metadata}} (one level deep)
EDITED: dict[str, Any] = {
    "format": 2,
    "parts": [{"type": "text", "text": "edited text"}],
    "metadata": {"a": 2, "keep": True, "nested": {"y": 2}, "new": "x"},
    "content": "edited text",
}
TAGGED: dict[str, Any] = {**PLAIN, "metadata": {"only": 1}}


def _message(message_id: str, thread_id: str, content: dict[str, Any], at: str) -> dict[str, Any]:
    return {
        "id": message_id,
        "threadId": thread_id,
        "resourceId": "alice",
        "role": "user",
        "createdAt": at,
        "content": content,
    }


async def test_message_updates_and_deletes_apply_the_same_both_ways(
    mastra: Mastra, ours: Ours, db: Db, schema: str
) -> None:
    memory = await ours(schema)
    await memory.create_thread("alice", thread_id="t")
    await memory.create_thread("alice", thread_id="t-other")
    await memory.save_messages(
        [
            Message.of("user", ORIGINAL, id="p-edit", thread_id="t"),
            Message.of("user", PLAIN, id="p-tag", thread_id="t"),
            Message.of("user", PLAIN, id="p-move", thread_id="t"),
            Message.user("python goes", id="p-gone", thread_id="t"),
        ]
    )
    got = await mastra(
        schema,
        [
            op(
                "saveMessages",
                messages=[  # semantic recall is on: each gets a row in memory_messages_384
                    _message("m-edit", "t", ORIGINAL, "2030-01-01T00:00:00.000Z"),
                    _message("m-tag", "t", PLAIN, "2030-01-01T00:00:01.000Z"),
                    _message("m-move", "t", PLAIN, "2030-01-01T00:00:02.000Z"),
                    _message(
                        "m-gone",
                        "t",
                        {"format": 2, "parts": [{"type": "text", "text": "mastra goes"}]},
                        "2030-01-01T00:00:03.000Z",
                    ),
                ],
            ),
            op(
                "updateMessages",
                messages=[
                    {"id": "p-edit", "content": EDIT},
                    {"id": "p-tag", "content": TAG},
                    {"id": "p-move", "threadId": "t-other"},
                ],
            ),
            op("deleteMessages", messageIds=["p-gone"]),
        ],
    )
    by_mastra = {m["id"]: m for m in got[1]}
    assert by_mastra["p-edit"]["content"] == EDITED
    assert by_mastra["p-tag"]["content"] == TAGGED

    # We read Mastra's edits and delete of our messages ...
    read = {m.id: m for m in await memory.get_messages(["p-edit", "p-tag", "p-move", "p-gone"])}
    assert "p-gone" not in read
    assert read["p-edit"].content.to_dict() == EDITED
    assert read["p-edit"].text == "edited text"
    assert read["p-tag"].content.to_dict() == TAGGED
    assert read["p-move"].thread_id == "t-other"
    assert [as_mastra_message(read[i]) for i in ("p-edit", "p-tag")] == [
        mastra_message(by_mastra[i]) for i in ("p-edit", "p-tag")
    ]

    # ... and make the same edits to Mastra's messages, which Mastra reads as it would its own.
    updated = await memory.update_messages(
        [
            MessageUpdate("m-edit", content=EDIT),
            MessageUpdate("m-tag", content=TAG),
            MessageUpdate("m-move", thread_id="t-other"),
        ]
    )
    assert {m.id: m.content.to_dict() for m in updated if m.id != "m-move"} == {"m-edit": EDITED, "m-tag": TAGGED}
    vectors = f"SELECT DISTINCT metadata->>'message_id' AS id FROM {VECTORS} ORDER BY 1"
    assert "m-gone" in [r["id"] for r in await db(schema, vectors)]
    assert await memory.delete_messages(["m-gone", "nope"]) == 1
    assert "m-gone" not in [r["id"] for r in await db(schema, vectors)]
    got = await mastra(
        schema,
        [
            op("listMessagesById", messageIds=["m-edit", "m-tag", "m-move", "m-gone"]),
            op("listMessages", threadId="t-other", perPage=False, orderBy=ASC),
            op("listMessages", threadId="t", perPage=False, orderBy=ASC),
            op("vectorQuery", queryText="mastra goes", filter={"message_id": "m-gone"}),
        ],
    )
    seen = {m["id"]: m for m in got[0]["messages"]}
    assert "m-gone" not in seen
    assert (seen["m-edit"]["content"], seen["m-tag"]["content"]) == (EDITED, TAGGED)
    assert [mastra_message(seen[m.id]) for m in updated] == [as_mastra_message(m) for m in updated]
    assert [m["id"] for m in got[1]["messages"]] == ["p-move", "m-move"]
    assert [m["id"] for m in got[2]["messages"]] == ["p-edit", "p-tag", "m-edit", "m-tag"]
    assert got[3] == []


async def test_deleted_threads_are_gone_on_both_sides_with_their_vectors(
    mastra: Mastra, ours: Ours, db: Db, schema: str
) -> None:
    memory = await ours(schema)
    await memory.create_thread("alice", thread_id="t-python")
    await memory.save_messages([Message.user("python thread", id="p-1", thread_id="t-python")])
    got = await mastra(
        schema,
        [
            op("createThread", threadId="t-gone", resourceId="alice", metadata={"topic": "trains"}),
            op("createThread", threadId="t-kept", resourceId="alice"),
            op(
                "saveMessages",
                messages=[
                    _message(
                        "g-1",
                        "t-gone",
                        {"format": 2, "parts": [{"type": "text", "text": "the night train"}]},
                        "2030-01-01T00:00:00.000Z",
                    ),
                    _message(
                        "g-2",
                        "t-gone",
                        {"format": 2, "parts": [{"type": "text", "text": "to Vienna"}]},
                        "2030-01-01T00:00:01.000Z",
                    ),
                    _message(
                        "k-1",
                        "t-kept",
                        {"format": 2, "parts": [{"type": "text", "text": "a kept train"}]},
                        "2030-01-01T00:00:02.000Z",
                    ),
                ],
            ),
            op("deleteThread", threadId="t-python"),
        ],
    )
    assert await memory.get_thread("t-python") is None
    assert await memory.get_messages(["p-1"]) == []

    per_thread = f"SELECT metadata->>'thread_id' AS thread, count(*) AS n FROM {VECTORS} GROUP BY 1 ORDER BY 1"
    assert {r["thread"]: r["n"] for r in await db(schema, per_thread)} == {"t-gone": 2, "t-kept": 1}
    assert await memory.delete_thread("t-gone") is True
    assert await memory.delete_thread("t-gone") is False
    assert {r["thread"]: r["n"] for r in await db(schema, per_thread)} == {"t-kept": 1}
    assert await db(schema, "SELECT id FROM mastra_messages WHERE thread_id = 't-gone'") == []

    got = await mastra(
        schema,
        [
            op("getThreadById", threadId="t-gone"),
            op("listMessages", threadId="t-gone", perPage=False),
            op("vectorQuery", queryText="night train", filter={"thread_id": "t-gone"}),
            op("recall", threadId="t-kept", resourceId="alice", vectorSearchString="train"),
            op("listThreads", filter={"resourceId": "alice"}),
        ],
    )
    assert got[0] is None
    assert got[1]["messages"] == []
    assert got[2] == []
    assert [m["id"] for m in got[3]["messages"]] == ["k-1"]
    assert [t["id"] for t in got[4]["threads"]] == ["t-kept"]


async def test_delete_thread_clears_its_observational_memory_as_mastra_does(
    mastra: Mastra, ours: Ours, db: Db, schema: str
) -> None:
    memory = await ours(schema)
    await mastra(
        schema,
        [
            op("createThread", threadId="t-mastra", resourceId="alice"),
            op("createThread", threadId="t-ours", resourceId="alice"),
            op("initializeObservationalMemory", threadId="t-mastra", resourceId="alice", scope="thread"),
            op("initializeObservationalMemory", threadId="t-ours", resourceId="alice", scope="thread"),
            op("initializeObservationalMemory", resourceId="alice", scope="resource"),
            op("deleteThread", threadId="t-mastra"),
        ],
    )
    keys = 'SELECT "lookupKey" AS key FROM mastra_observational_memory ORDER BY 1'
    assert [r["key"] for r in await db(schema, keys)] == ["resource:alice", "thread:t-ours"]
    await memory.delete_thread("t-ours")
    assert [r["key"] for r in await db(schema, keys)] == ["resource:alice"]
