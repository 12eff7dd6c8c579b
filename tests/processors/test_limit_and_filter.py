"""limit_tokens and filter_tool_calls as pure functions: budgets, system messages, tool pairs, inputs untouched.

Property-style loops run both processors over many seeded random conversations (format-2 turns with
call+result in one message, split LangChain-style call/result messages, system messages) and check
the invariants on every one.
"""

from __future__ import annotations

import copy
import random
from typing import Any

import pytest

from mastra_memory import InvalidInputError, Message, MessageContent, filter_tool_calls, limit_tokens
from mastra_memory.processors import MESSAGE_OVERHEAD, message_tokens


def words(text: str) -> int:
    """A counter the tests can reason about: one token per whitespace-separated word."""
    return len(text.split())


def text(role: str, body: str, mid: str) -> Message:
    return Message.of(role, body, id=mid)  # type: ignore[arg-type]


def invocation(call_id: str, name: str, state: str, result: Any = None) -> dict[str, Any]:
    call: dict[str, Any] = {"state": state, "toolCallId": call_id, "toolName": name, "args": {"q": call_id}}
    if state == "result":
        call["result"] = result
    return {"type": "tool-invocation", "toolInvocation": call}


def tool_turn(call_id: str, name: str, mid: str, answer: str = "") -> Message:
    """A Mastra format-2 assistant turn: the call and its result in one part, maybe followed by text."""
    parts = [{"type": "step-start"}, invocation(call_id, name, "result", f"result of {call_id}")]
    if answer:
        parts.append({"type": "text", "text": answer})
    return Message.assistant(parts, id=mid)


def split_call(call_id: str, name: str, mid: str) -> Message:
    return Message.assistant([invocation(call_id, name, "call")], id=mid)


def split_result(call_id: str, name: str, mid: str) -> Message:
    return Message.assistant([invocation(call_id, name, "result", f"result of {call_id}")], id=mid)


def ids(messages: list[Message]) -> list[str | None]:
    return [m.id for m in messages]


def cost(messages: list[Message]) -> int:
    return sum(message_tokens(m, words) for m in messages)


# ---------------------------------------------------------------- limit_tokens


def test_keeps_the_newest_messages_that_fit() -> None:
    conversation = [text("user" if i % 2 == 0 else "assistant", "one two three", f"m{i}") for i in range(10)]
    each = 3 + MESSAGE_OVERHEAD
    assert ids(limit_tokens(conversation, 3 * each, count=words)) == ["m7", "m8", "m9"]
    assert ids(limit_tokens(conversation, 3 * each + each - 1, count=words)) == ["m7", "m8", "m9"]
    assert limit_tokens(conversation, 0, count=words) == []
    assert limit_tokens(conversation, 10 * each, count=words) == conversation


def test_system_messages_are_always_kept_and_counted_first() -> None:
    system = text("system", "be brief " * 5, "sys")  # 10 words
    conversation = [system] + [text("user", "a b c", f"m{i}") for i in range(4)]
    system_cost = 10 + MESSAGE_OVERHEAD
    assert ids(limit_tokens(conversation, system_cost + 7, count=words)) == ["sys", "m3"]
    assert ids(limit_tokens(conversation, 3, count=words)) == ["sys"]  # over budget: only the system


def test_the_kept_messages_are_an_unbroken_tail() -> None:
    conversation = [text("user", "small", "old"), text("assistant", "big " * 50, "huge"), text("user", "hi", "new")]
    kept = limit_tokens(conversation, 30, count=words)
    assert ids(kept) == ["new"]  # 'old' would fit, but keeping it would leave a hole in the conversation


def test_a_split_tool_call_and_its_result_are_kept_or_dropped_together() -> None:
    conversation = [
        text("user", "weather in Paris please", "u1"),
        split_call("c1", "weather", "call"),
        text("assistant", "checking", "between"),
        split_result("c1", "weather", "result"),
        text("assistant", "It rains in Paris", "final"),
    ]
    final = message_tokens(conversation[-1], words)
    tail = cost(conversation[1:])
    assert ids(limit_tokens(conversation, final, count=words)) == ["final"]
    # Room for the result but not for its call: the result goes too.
    assert ids(limit_tokens(conversation, tail - 1, count=words)) == ["final"]
    assert ids(limit_tokens(conversation, tail, count=words)) == ["call", "between", "result", "final"]


def test_message_tokens_count_tool_names_arguments_and_results() -> None:
    plain = Message.assistant([{"type": "text", "text": "done"}])
    with_tool = tool_turn("c1", "get_weather", "m", "done")
    assert message_tokens(with_tool) > message_tokens(plain) > MESSAGE_OVERHEAD
    legacy_text_only = Message("assistant", MessageContent(parts=[], extra={"content": "five words in this text"}))
    assert message_tokens(legacy_text_only, words) == 5 + MESSAGE_OVERHEAD


@pytest.mark.parametrize("budget", [-1, True, 2.5, "100", None])
def test_a_bad_budget_is_refused(budget: Any) -> None:
    with pytest.raises(InvalidInputError, match="max_tokens"):
        limit_tokens([text("user", "hi", "m")], budget)


def test_items_that_are_not_messages_are_refused() -> None:
    with pytest.raises(InvalidInputError, match="item 1"):
        limit_tokens([text("user", "hi", "m"), {"role": "user"}], 10)  # type: ignore[list-item]
    with pytest.raises(InvalidInputError, match="list of Message"):
        filter_tool_calls("hello")  # type: ignore[arg-type]


def _random_conversation(rng: random.Random) -> list[Message]:
    messages: list[Message] = []
    open_calls: list[tuple[str, str]] = []
    for i in range(rng.randint(0, 18)):
        roll = rng.random()
        body = " ".join("w" for _ in range(rng.randint(1, 12)))
        if roll < 0.1:
            messages.append(text("system", body, f"s{i}"))
        elif roll < 0.25:
            messages.append(tool_turn(f"c{i}", rng.choice(["search", "weather"]), f"t{i}", body))
        elif roll < 0.4:
            name = rng.choice(["search", "weather"])
            messages.append(split_call(f"c{i}", name, f"k{i}"))
            open_calls.append((f"c{i}", name))
        elif roll < 0.55 and open_calls:
            call_id, name = open_calls.pop(rng.randrange(len(open_calls)))
            messages.append(split_result(call_id, name, f"r{i}"))
        else:
            messages.append(text(rng.choice(["user", "assistant"]), body, f"m{i}"))
    return messages


def _call_ids(message: Message) -> set[str]:
    return {p["toolInvocation"]["toolCallId"] for p in message.content.parts if p.get("type") == "tool-invocation"}


def test_limit_invariants_hold_on_many_random_conversations() -> None:
    rng = random.Random(20240607)
    for _ in range(400):
        conversation = _random_conversation(rng)
        snapshot = copy.deepcopy(conversation)
        budget = rng.randint(0, 150)
        kept = limit_tokens(conversation, budget, count=words)
        assert conversation == snapshot  # inputs untouched
        kept_ids = {id(m) for m in kept}
        assert [m for m in conversation if id(m) in kept_ids] == kept  # original order, same objects
        assert all(id(m) in kept_ids for m in conversation if m.role == "system")
        others = [m for m in conversation if m.role != "system"]
        kept_others = [m for m in kept if m.role != "system"]
        assert kept_others == others[len(others) - len(kept_others):]  # an unbroken newest tail
        if kept_others:
            assert cost(kept) <= budget
        # No call id is both kept and dropped.
        kept_calls = set().union(*(_call_ids(m) for m in kept_others)) if kept_others else set()
        dropped = others[: len(others) - len(kept_others)]
        dropped_calls = set().union(*(_call_ids(m) for m in dropped)) if dropped else set()
        assert not kept_calls & dropped_calls
        # Maximal: the next older message (with everything tied to it) would not have fitted.
        if dropped:
            nxt = dropped[-1]
            tied_older = any(_call_ids(nxt) & _call_ids(m) for m in dropped[:-1])
            assert tied_older or cost(kept) + message_tokens(nxt, words) > budget


# ---------------------------------------------------------------- filter_tool_calls


def test_all_tool_calls_go_and_messages_left_empty_are_dropped() -> None:
    conversation = [
        text("user", "weather?", "u1"),
        tool_turn("c1", "weather", "t1"),  # only step-start + tool: dropped
        tool_turn("c2", "search", "t2", "Here is what I found"),  # keeps its text
        split_call("c3", "weather", "k3"),
        split_result("c3", "weather", "r3"),
        text("assistant", "Bye", "a1"),
    ]
    out = filter_tool_calls(conversation)
    assert ids(out) == ["u1", "t2", "a1"]
    assert out[0] is conversation[0] and out[2] is conversation[5]  # untouched messages are the same objects
    assert [p["type"] for p in out[1].content.parts] == ["step-start", "text"]
    assert out[1].text == "Here is what I found"
    assert len(conversation[2].content.parts) == 3  # the input was copied, not changed


def test_only_the_named_tools_go_matching_results_by_call_id() -> None:
    nameless_result = Message(
        "assistant",
        MessageContent(parts=[{"type": "tool-invocation",
                               "toolInvocation": {"state": "result", "toolCallId": "c2", "result": "17"}}]),
        id="r2",
    )
    conversation = [
        tool_turn("c1", "search", "t1", "found it"),
        split_call("c2", "weather", "k2"),
        nameless_result,
        tool_turn("c3", "weather", "t3", "rainy"),
    ]
    out = filter_tool_calls(conversation, ["weather"])
    assert ids(out) == ["t1", "t3"]
    assert out[0] is conversation[0]
    assert [p["type"] for p in out[1].content.parts] == ["step-start", "text"]
    assert filter_tool_calls(conversation, "weather") == out  # one name as a string
    assert filter_tool_calls(conversation, []) == conversation  # no names: nothing changes


def test_the_legacy_tool_invocations_array_and_newer_tool_parts_are_filtered() -> None:
    content = MessageContent(
        parts=[
            {"type": "tool-weather", "toolCallId": "c9", "state": "output-available", "input": {}, "output": "sun"},
            {"type": "dynamic-tool", "toolName": "search", "toolCallId": "c8", "state": "input-available"},
            {"type": "text", "text": "Sunny"},
        ],
        extra={"toolInvocations": [{"toolCallId": "c9", "toolName": "weather"}, {"toolCallId": "c8",
                                                                                   "toolName": "search"}]},
    )
    message = Message("assistant", content, id="m")
    only_weather = filter_tool_calls([message], ["weather"])[0]
    assert [p["type"] for p in only_weather.content.parts] == ["dynamic-tool", "text"]
    assert only_weather.content.extra["toolInvocations"] == [{"toolCallId": "c8", "toolName": "search"}]
    everything = filter_tool_calls([message])[0]
    assert [p["type"] for p in everything.content.parts] == ["text"]
    assert "toolInvocations" not in everything.content.extra


@pytest.mark.parametrize("tools", [[""], [3], ["ok", None]])
def test_bad_tool_names_are_refused(tools: Any) -> None:
    with pytest.raises(InvalidInputError, match="tool names"):
        filter_tool_calls([text("user", "hi", "m")], tools)


def test_filter_invariants_hold_on_many_random_conversations() -> None:
    rng = random.Random(7)
    for _ in range(300):
        conversation = _random_conversation(rng)
        snapshot = copy.deepcopy(conversation)
        name = rng.choice([None, "weather"])
        out = filter_tool_calls(conversation, None if name is None else [name])
        assert conversation == snapshot
        for message in out:
            for part in message.content.parts:
                if part.get("type") == "tool-invocation":
                    assert name is not None and part["toolInvocation"]["toolName"] != name
        untouched = [m for m in conversation if not _call_ids(m)]
        out_ids = {id(m) for m in out}
        assert all(id(m) in out_ids for m in untouched)  # messages without tools survive as they are
        # Filtering then limiting keeps the same guarantees as limiting alone.
        limited = limit_tokens(out, 60, count=words)
        assert cost([m for m in limited if m.role != "system"]) <= 60 or not [m for m in limited
                                                                                if m.role != "system"]
