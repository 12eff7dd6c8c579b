"""Bad input: every malformed argument gets an InvalidInputError that says what is wrong, and
nothing is written (the tables are compared before and after each refused call).

The cases of a kind share one test (and one schema) to keep the suite fast; a failure names the
case that let bad input through.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import pytest

from mastra_memory import DateRange, Include, InvalidInputError, Message, MessageContent, MessageUpdate

from ._raw import UTC, run

Case = tuple[str, Callable[[Any], Awaitable[Any]], str]

SURROGATE = "\ud800"


def snapshot(mem) -> list[dict[str, Any]]:
    """Every row of the three tables, in a stable order."""
    return run(
        mem,
        """
        SELECT 'thread' AS kind, to_jsonb(t) AS row FROM mastra_threads t
        UNION ALL SELECT 'message', to_jsonb(m) FROM mastra_messages m
        UNION ALL SELECT 'resource', to_jsonb(r) FROM mastra_resources r
        ORDER BY 1, 2""",
    )


async def seed(mem) -> None:
    await mem.create_thread("user-1", thread_id="t-1", title="title", metadata={"k": "v"})
    await mem.save_messages([Message.user("hello", id="m-1", thread_id="t-1")])
    await mem.update_resource("user-1", working_memory="wm", metadata={"a": 1})


async def expect_refused(mem, cases: list[Case]) -> None:
    await seed(mem)
    before = snapshot(mem)
    for label, call, pattern in cases:
        try:
            with pytest.raises(InvalidInputError) as info:
                await call(mem)
        except pytest.fail.Exception:
            pytest.fail(f"{label}: the bad input was accepted")
        assert re.search(pattern, str(info.value)), f"{label}: the message {str(info.value)!r} does not say {pattern!r}"
        assert snapshot(mem) == before, f"{label}: something was written"


def msg(**fields: Any) -> Message:
    return Message.user("x", **{"thread_id": "t-1", **fields})


async def test_empty_or_blank_ids_are_refused(mem):
    blank = "must be a non-empty string"
    cases: list[Case] = []
    for bad in ("", "   ", "\t\n"):
        cases += [
            (f"create_thread resource {bad!r}", lambda m, b=bad: m.create_thread(b), rf"resource_id {blank}"),
            (f"create_thread id {bad!r}", lambda m, b=bad: m.create_thread("u", thread_id=b), rf"thread_id {blank}"),
            (f"save_thread id {bad!r}", lambda m, b=bad: m.save_thread(b, "u"), rf"thread_id {blank}"),
            (f"save_thread resource {bad!r}", lambda m, b=bad: m.save_thread("t-2", b), rf"resource_id {blank}"),
            (f"get_thread {bad!r}", lambda m, b=bad: m.get_thread(b), rf"thread_id {blank}"),
            (f"update_thread {bad!r}", lambda m, b=bad: m.update_thread(b, title="x"), rf"thread_id {blank}"),
            (f"delete_thread {bad!r}", lambda m, b=bad: m.delete_thread(b), rf"thread_id {blank}"),
            (f"list_threads resource {bad!r}", lambda m, b=bad: m.list_threads(resource_id=b), rf"resource_id {blank}"),
            (f"message thread {bad!r}", lambda m, b=bad: m.save_messages([msg(thread_id=b)]), rf"thread_id {blank}"),
            (f"message id {bad!r}", lambda m, b=bad: m.save_messages([msg(id=b)]), rf"\.id {blank}"),
            (
                f"message resource {bad!r}",
                lambda m, b=bad: m.save_messages([msg(resource_id=b)]),
                rf"resource_id {blank}",
            ),
            (f"list_messages {bad!r}", lambda m, b=bad: m.list_messages(b), rf"thread_id {blank}"),
            (f"list_messages [{bad!r}]", lambda m, b=bad: m.list_messages(["t-1", b]), rf"thread_id\[1\] {blank}"),
            (
                f"list_messages owner {bad!r}",
                lambda m, b=bad: m.list_messages("t-1", resource_id=b),
                rf"resource_id {blank}",
            ),
            (f"recall {bad!r}", lambda m, b=bad: m.recall(b), rf"thread_id {blank}"),
            (f"by resource {bad!r}", lambda m, b=bad: m.list_messages_by_resource(b), rf"resource_id {blank}"),
            (f"get_messages {bad!r}", lambda m, b=bad: m.get_messages(["m-1", b]), rf"message_ids\[1\] {blank}"),
            (f"update_messages {bad!r}", lambda m, b=bad: m.update_messages([MessageUpdate(b, role="user")]), blank),
            (f"move to {bad!r}", lambda m, b=bad: m.update_messages([MessageUpdate("m-1", thread_id=b)]), blank),
            (f"delete_messages {bad!r}", lambda m, b=bad: m.delete_messages(["m-1", b]), rf"message_ids\[1\] {blank}"),
            (
                f"include {bad!r}",
                lambda m, b=bad: m.list_messages("t-1", include=[Include(b)]),
                rf"include\[0\]\.id {blank}",
            ),
            (f"get_resource {bad!r}", lambda m, b=bad: m.get_resource(b), rf"resource_id {blank}"),
            (
                f"update_resource {bad!r}",
                lambda m, b=bad: m.update_resource(b, working_memory="x"),
                rf"resource_id {blank}",
            ),
            (f"clone source {bad!r}", lambda m, b=bad: m.clone_thread(b), rf"source_thread_id {blank}"),
            (
                f"clone new id {bad!r}",
                lambda m, b=bad: m.clone_thread("t-1", new_thread_id=b),
                rf"new_thread_id {blank}",
            ),
            (f"clone resource {bad!r}", lambda m, b=bad: m.clone_thread("t-1", resource_id=b), rf"resource_id {blank}"),
            (
                f"clone ids {bad!r}",
                lambda m, b=bad: m.clone_thread("t-1", message_ids=[b]),
                rf"message_ids\[0\] {blank}",
            ),
            (f"list_clones {bad!r}", lambda m, b=bad: m.list_clones(b), rf"source_thread_id {blank}"),
            (f"get_source_thread {bad!r}", lambda m, b=bad: m.get_source_thread(b), rf"thread_id {blank}"),
            (f"get_clone_history {bad!r}", lambda m, b=bad: m.get_clone_history(b), rf"thread_id {blank}"),
        ]
    await expect_refused(mem, cases)


async def test_ids_that_are_not_strings_or_too_long_are_refused(mem):
    await expect_refused(
        mem,
        [
            ("int thread id", lambda m: m.get_thread(5), "thread_id must be a string, got int"),
            ("None resource", lambda m: m.create_thread(None), "resource_id must be a string, got NoneType"),
            ("ids as one string", lambda m: m.delete_messages("m-1"), "message_ids must be a list of ids"),
            ("ids as one string", lambda m: m.get_messages("m-1"), "message_ids must be a list of ids"),
            ("huge id", lambda m: m.create_thread("u", thread_id="x" * 1025), "limited to 1024"),
            ("no thread ids", lambda m: m.list_messages([]), "at least one thread"),
        ],
    )


async def test_negative_or_malformed_paging_is_refused(mem):
    await expect_refused(
        mem,
        [
            ("threads page -1", lambda m: m.list_threads(page=-1), r"page must be an integer >= 0, got -1"),
            ("threads per_page -1", lambda m: m.list_threads(per_page=-1), r"per_page must be >= 0"),
            ("threads page True", lambda m: m.list_threads(page=True), r"page must be an integer >= 0"),
            ("threads per_page 2.5", lambda m: m.list_threads(per_page=2.5), r"per_page must be >= 0"),
            ("threads all from page 1", lambda m: m.list_threads(page=1, per_page=None), r"page must be 0"),
            ("messages page -1", lambda m: m.list_messages("t-1", page=-1), r"page must be an integer >= 0"),
            ("messages per_page -5", lambda m: m.list_messages("t-1", per_page=-5), r"per_page must be >= 0"),
            (
                "resource page -1",
                lambda m: m.list_messages_by_resource("user-1", page=-1),
                r"page must be an integer >= 0",
            ),
            (
                "resource per_page -1",
                lambda m: m.list_messages_by_resource("user-1", per_page=-1),
                r"per_page must be >= 0",
            ),
            ("recall -1", lambda m: m.recall("t-1", last_messages=-1), r"last_messages must be an integer >= 0"),
            ("recall 1.5", lambda m: m.recall("t-1", last_messages=1.5), r"last_messages must be an integer >= 0"),
            (
                "include before -1",
                lambda m: m.list_messages("t-1", include=[Include("m-1", before=-1)]),
                r"before must be",
            ),
            (
                "include after '2'",
                lambda m: m.list_messages("t-1", include=[Include("m-1", after="2")]),
                r"after must be",
            ),
            (
                "clone limit -1",
                lambda m: m.clone_thread("t-1", message_limit=-1),
                r"message_limit must be an integer >= 0",
            ),
            ("order field", lambda m: m.list_threads(order_by="title"), r"order_by must be 'createdAt' or 'updatedAt'"),
            ("direction", lambda m: m.list_messages("t-1", direction="sideways"), r"direction must be 'ASC' or 'DESC'"),
            (
                "date range type",
                lambda m: m.list_messages("t-1", date_range="yesterday"),
                r"date_range must be a DateRange",
            ),
            (
                "date range text",
                lambda m: m.list_messages("t-1", date_range=DateRange(start="soon")),
                r"not an ISO 8601 time",
            ),
            ("include type", lambda m: m.list_messages("t-1", include=["m-1"]), r"include\[0\] must be an Include"),
        ],
    )


async def test_metadata_filter_keys_must_be_identifiers(mem):
    cases: list[Case] = [
        (f"key {key!r}", lambda m, k=key: m.list_threads(metadata={k: 1}), "is not allowed: keys must match")
        for key in ("a-b", "1abc", "a.b", "", "a b", "x" * 129, "é", "key'; DROP TABLE mastra_threads; --")
    ]
    cases.append(("not a dict", lambda m: m.list_threads(metadata=[("a", 1)]), "must be a JSON object"))
    await expect_refused(mem, cases)
    assert (await mem.list_threads(metadata={"_ok_Key9": 1, "x" * 128: 2})).total == 0


async def test_nul_characters_are_refused_outside_message_content(mem):
    nul = "contains a NUL character"
    await expect_refused(
        mem,
        [
            ("resource id", lambda m: m.create_thread("u\x00"), f"resource_id {nul}"),
            ("thread id", lambda m: m.create_thread("u", thread_id="t\x00"), f"thread_id {nul}"),
            ("title", lambda m: m.create_thread("u", title="a\x00b"), f"title {nul}"),
            ("metadata value", lambda m: m.create_thread("u", metadata={"k": "v\x00"}), rf"metadata\.k {nul}"),
            ("metadata key", lambda m: m.create_thread("u", metadata={"k\x00": 1}), nul),
            (
                "nested metadata",
                lambda m: m.create_thread("u", metadata={"k": [{"x": "\x00"}]}),
                rf"metadata\.k\[0\]\.x {nul}",
            ),
            ("save_thread title", lambda m: m.save_thread("t-1", "user-1", title="\x00"), f"title {nul}"),
            ("update title", lambda m: m.update_thread("t-1", title="\x00"), f"title {nul}"),
            ("update metadata", lambda m: m.update_thread("t-1", metadata={"k": "\x00"}), nul),
            ("working memory", lambda m: m.update_resource("user-1", working_memory="wm\x00"), f"working_memory {nul}"),
            ("resource metadata", lambda m: m.update_resource("user-1", metadata={"\x00": 1}), nul),
            ("message id", lambda m: m.save_messages([msg(id="m\x00")]), nul),
            (
                "message type",
                lambda m: m.save_messages(
                    [Message("user", MessageContent.of_text("x"), thread_id="t-1", type="v\x002")]
                ),
                nul,
            ),
            ("clone title", lambda m: m.clone_thread("t-1", title="\x00"), f"title {nul}"),
            ("clone metadata", lambda m: m.clone_thread("t-1", metadata={"k": "\x00"}), nul),
            ("filter value", lambda m: m.list_threads(metadata={"k": "\x00"}), nul),
            ("message ids", lambda m: m.get_messages(["\x00"]), nul),
        ],
    )


async def test_nul_characters_in_message_content_are_stored(mem):
    await mem.create_thread("user-1", thread_id="t-1")
    content = {"format": 2, "parts": [{"type": "text", "text": "a\x00b"}], "metadata": {"k": "\x00"}}
    await mem.save_messages([Message.user(content, thread_id="t-1", id="m-1")])
    [loaded] = await mem.get_messages(["m-1"])
    assert loaded.content.to_dict() == content


async def test_lone_surrogates_are_refused_everywhere(mem):
    bad = SURROGATE
    unicode = "not valid Unicode"
    await expect_refused(
        mem,
        [
            ("resource id", lambda m: m.create_thread(f"u{bad}"), f"resource_id is {unicode}"),
            ("thread id", lambda m: m.create_thread("u", thread_id=bad), f"thread_id is {unicode}"),
            ("title", lambda m: m.create_thread("u", title=bad), f"title is {unicode}"),
            ("metadata value", lambda m: m.create_thread("u", metadata={"k": bad}), rf"metadata\.k is {unicode}"),
            ("metadata key", lambda m: m.create_thread("u", metadata={bad: 1}), unicode),
            ("update title", lambda m: m.update_thread("t-1", title=bad), unicode),
            ("update metadata", lambda m: m.update_thread("t-1", metadata={"k": [bad]}), unicode),
            ("save_thread", lambda m: m.save_thread("t-1", "user-1", title=bad), unicode),
            (
                "working memory",
                lambda m: m.update_resource("user-1", working_memory=bad),
                f"working_memory is {unicode}",
            ),
            ("resource metadata", lambda m: m.update_resource("user-1", metadata={"k": bad}), unicode),
            ("message text", lambda m: m.save_messages([Message.user(f"hi {bad}", thread_id="t-1")]), "valid Unicode"),
            (
                "message metadata",
                lambda m: m.save_messages(
                    [Message.user({"format": 2, "parts": [], "metadata": {"k": bad}}, thread_id="t-1")]
                ),
                "valid Unicode",
            ),
            (
                "part type",
                lambda m: m.save_messages([Message.user([{"type": f"data-{bad}"}], thread_id="t-1")]),
                "valid Unicode",
            ),
            ("message id", lambda m: m.save_messages([msg(id=bad)]), unicode),
            ("update text", lambda m: m.update_messages([MessageUpdate("m-1", content={"content": bad})]), unicode),
            (
                "update metadata",
                lambda m: m.update_messages([MessageUpdate("m-1", content={"metadata": {bad: 1}})]),
                unicode,
            ),
            ("clone title", lambda m: m.clone_thread("t-1", title=bad), unicode),
            ("filter", lambda m: m.list_threads(metadata={"k": bad}), unicode),
            ("get", lambda m: m.get_thread(bad), unicode),
            ("include", lambda m: m.list_messages("t-1", include=[Include(bad)]), unicode),
        ],
    )


async def test_content_that_is_not_format_2_is_refused(mem):
    def raw(parts: Any, **extra: Any) -> Message:
        return Message("user", MessageContent(parts=parts, extra=extra), thread_id="t-1")

    call = {"state": "call", "toolCallId": "c1", "toolName": "t", "args": {}}
    await expect_refused(
        mem,
        [
            (
                "format 1",
                lambda m: m.save_messages([Message.user({"format": 1, "parts": []}, thread_id="t-1")]),
                r"content\.format must be 2",
            ),
            (
                "no parts",
                lambda m: m.save_messages([Message.user({"format": 2}, thread_id="t-1")]),
                r"parts must be a list",
            ),
            ("parts not a list", lambda m: m.save_messages([raw("text")]), r"parts must be a list"),
            (
                "part not an object",
                lambda m: m.save_messages([raw(["text"])]),
                r"parts\[0\]: each part must be a JSON object",
            ),
            (
                "part without type",
                lambda m: m.save_messages([raw([{"text": "x"}])]),
                r"needs a non-empty string 'type'",
            ),
            (
                "text not a string",
                lambda m: m.save_messages([raw([{"type": "text", "text": 5}])]),
                r"'text' part needs 'text'",
            ),
            (
                "reasoning",
                lambda m: m.save_messages([raw([{"type": "reasoning"}])]),
                r"'reasoning' part needs 'reasoning'",
            ),
            (
                "file without mimeType",
                lambda m: m.save_messages([raw([{"type": "file", "data": "x"}])]),
                r"needs 'mimeType'",
            ),
            ("source", lambda m: m.save_messages([raw([{"type": "source"}])]), r"'source' part needs 'source'"),
            (
                "tool state",
                lambda m: m.save_messages(
                    [raw([{"type": "tool-invocation", "toolInvocation": {**call, "state": "done"}}])]
                ),
                r"toolInvocation\.state must be one of",
            ),
            (
                "tool name",
                lambda m: m.save_messages(
                    [raw([{"type": "tool-invocation", "toolInvocation": {**call, "toolName": ""}}])]
                ),
                r"toolInvocation\.toolName must be a non-empty string",
            ),
            (
                "tool result",
                lambda m: m.save_messages(
                    [raw([{"type": "tool-invocation", "toolInvocation": {**call, "state": "result"}}])]
                ),
                r"state 'result' needs a 'result'",
            ),
            (
                "no toolInvocation",
                lambda m: m.save_messages([raw([{"type": "tool-invocation"}])]),
                r"needs 'toolInvocation'",
            ),
            (
                "content is a str",
                lambda m: m.save_messages([Message("user", "plain", thread_id="t-1")]),
                r"content must be MessageContent",
            ),
            (
                "role tool",
                lambda m: m.save_messages([Message.of("tool", "x", thread_id="t-1")]),
                r"role must be one of",
            ),
            ("role bot", lambda m: m.save_messages([Message.of("bot", "x", thread_id="t-1")]), r"role must be one of"),
            ("no thread", lambda m: m.save_messages([Message.user("x")]), r"thread_id is required"),
            ("not a list", lambda m: m.save_messages(Message.user("x", thread_id="t-1")), r"takes a list of Message"),
            ("not a message", lambda m: m.save_messages([{"role": "user"}]), r"must be a Message"),
            (
                "bad created_at",
                lambda m: m.save_messages([msg(created_at="later")]),
                r"created_at is not an ISO 8601 time",
            ),
            (
                "not JSON",
                lambda m: m.save_messages([raw([{"type": "data-x", "data": {1, 2}}])]),
                r"cannot be stored as JSON",
            ),
            ("good then bad", lambda m: m.save_messages([msg(id="fine"), raw([{"type": "text"}])]), r"messages\[1\]"),
            (
                "update format",
                lambda m: m.update_messages([MessageUpdate("m-1", content={"format": 1})]),
                r"format must be 2",
            ),
            (
                "update parts",
                lambda m: m.update_messages([MessageUpdate("m-1", content={"parts": [{"type": "text"}]})]),
                r"'text' part needs 'text'",
            ),
            (
                "update metadata",
                lambda m: m.update_messages([MessageUpdate("m-1", content={"metadata": "x"})]),
                r"metadata must be an object",
            ),
            ("update role", lambda m: m.update_messages([MessageUpdate("m-1", role="tool")]), r"role must be one of"),
            (
                "update type",
                lambda m: m.update_messages(MessageUpdate("m-1", role="user")),
                r"takes a list of MessageUpdate",
            ),
        ],
    )


async def test_metadata_must_be_a_json_object_of_json_values(mem):
    when = datetime(2024, 1, 1, tzinfo=UTC)
    await expect_refused(
        mem,
        [
            ("list", lambda m: m.create_thread("u", metadata=["a"]), "metadata must be a JSON object"),
            ("str", lambda m: m.update_thread("t-1", metadata="{}"), "metadata must be a JSON object"),
            ("int key", lambda m: m.create_thread("u", metadata={1: "a"}), "non-string key"),
            ("datetime", lambda m: m.update_resource("user-1", metadata={"when": when}), "not a JSON value"),
            ("set", lambda m: m.clone_thread("t-1", metadata={"s": {1}}), "not a JSON value"),
            (
                "working memory int",
                lambda m: m.update_resource("user-1", working_memory=5),
                "working_memory must be a string",
            ),
            ("title None", lambda m: m.create_thread("u", title=None), "title must be a string"),
        ],
    )
