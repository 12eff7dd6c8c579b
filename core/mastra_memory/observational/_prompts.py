"""Observer and Reflector prompts (our own wording, Mastra's structure) and how messages are shown.

The structure follows Mastra's observational memory: a system prompt with extraction rules and an
output format (priorities 🔴 🟡 🟢 ✅, ``Date:`` groups of ``(HH:MM)`` lines, ``<current-task>``,
``<suggested-response>``, optionally ``<thread-title>``), then two user turns — the task (previous
observations, prior thread metadata) and the new message history.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone
from functools import lru_cache

import orjson

from .._tokens import count_tokens
from .._types import Message
from ..models import ChatTurn

_PART_LIMIT = 10_000  # characters of one tool argument/result shown to the Observer

# Under observational memory every context() counts the whole unobserved tail (up to the threshold,
# 30 000 tokens by default) again; message texts rarely change, so their counts are remembered
# (Mastra caches them inside the message). Bounded: a few MB at most.
cached_tokens = lru_cache(maxsize=8192)(count_tokens)

OBSERVER_SYSTEM = """\
You are the observing memory of an AI assistant. You read a stretch of conversation between a user \
and the assistant and write down, as short dated notes, everything the assistant will need to \
continue the relationship later without the raw messages. The notes replace those messages.

WHAT TO NOTE
- Facts the user states about themselves, their world, plans and preferences. A statement by the \
user is authoritative: write "User stated ..." and keep it even if the assistant doubted it.
- Questions the user asked ("User asked ...") and what the assistant answered or did, in a few words.
- Intentions and plans ("User intends to ...", "User will ... on <date>").
- Changes of state as replacements: "User now prefers X (changing from Y)".
- Names, handles, numbers, quantities, prices, places, roles and dates, exactly as given.
- Distinguishing details of lists or options the assistant offered, so a later "the second one" \
can be resolved. Creative content the user cares about in enough detail to reuse.
- Unusual phrasing worth keeping in quotes. Use precise verbs (booked, cancelled, compared).
- Tool work: group repeated tool calls under one parent line, with indented sub-lines for results \
that matter.
- Mark finished tasks and answered questions with ✅.

TIME
- Start each note with the time of the message it comes from: (HH:MM), 24-hour.
- When a note refers to a relative time that can be resolved ("next Friday", "tomorrow"), add the \
absolute date at the end: "(meaning May 9, 2025)"; when it is a guess, "(estimated May 2025)". \
Split a line that mentions two events at different times into two lines.

PRIORITY
- 🔴 high: facts about the user, preferences, goals, commitments, deadlines.
- 🟡 medium: project details, decisions, tool results, things learned along the way.
- 🟢 low: minor context, pleasantries worth remembering.
- ✅ done: a task completed or a question answered.

OUTPUT FORMAT (tags at the start of a line, nothing outside them)
<observations>
Date: May 1, 2025
* 🔴 (09:30) User stated they live in Lyon and work as a nurse.
* 🟡 (09:32) Assistant compared three night trains to Vienna; user liked the Nightjet.
  * cheapest fare 79 EUR, departs 19:40
* ✅ (09:35) Assistant booked the Nightjet for May 9 (meaning Friday next week).
</observations>
<current-task>
Primary: what the user is working on now. Secondary: anything pending. Say "waiting for user" \
when the assistant asked something and awaits the answer; flag work that drifted off the user's goal.
</current-task>
<suggested-response>
One or two sentences: how the assistant should pick the conversation up at the next message.
</suggested-response>
{title_format}
GUIDELINES
- Usually one to five notes per exchange; terse, no repetition of what previous observations already say.
- Capture what the user wrote nearly word for word when it is short and important.
- Never invent facts, never write thread or conversation tags yourself.\
"""

TITLE_FORMAT = """<thread-title>
A 2-5 word noun phrase naming the conversation's topic.
</thread-title>
"""

REFLECTOR_SYSTEM = """\
You are the reflecting memory of an AI assistant. Your input is the full set of notes the observing \
memory wrote about past conversations. Your output REPLACES them entirely: anything you leave out is \
forgotten, so your reflection is the assistant's ENTIRE memory.

The notes were written following these rules, and your output must follow them too:
<observational-memory-instruction>
{observer_rules}
</observational-memory-instruction>

HOW TO REFLECT
- Reorganise and streamline: merge duplicates, join related notes, drop what later notes superseded.
- Connect the dots: note patterns, recurring preferences, and when work went off track.
- Keep dates, times and the ✅ marks. Keep every 🔴 fact unless a later statement replaced it.
- Condense older material more than recent material; keep recent detail.
- The user's own statements win over the assistant's assumptions.
- In notes grouped by <thread id="..."> sections, keep the section for thread-specific items and \
lift facts that hold everywhere (about the user) into a section of their own.

OUTPUT FORMAT
<observations>
... the reflected notes, Date: groups of (HH:MM) lines as above ...
</observations>
<current-task>
...
</current-task>
<suggested-response>
...
</suggested-response>\
"""

COMPRESSION = (
    "",
    "\n\nCOMPRESSION REQUIRED: your previous reflection was still too long. Aim for a detail level of "
    "about 8/10: merge more aggressively and shorten wording, keep every 🔴 fact.",
    "\n\nCOMPRESSION AGGRESSIVE: still too long. Aim for a detail level of about 6/10: summarise older "
    "days into a few lines each, keep 🔴 facts and the most recent day in detail.",
    "\n\nCOMPRESSION CRITICAL: still far too long. Aim for a detail level of about 4/10: one short line "
    "per topic for everything but the most recent exchanges; keep only 🔴 facts verbatim.",
)

RETRY_DEGENERATE = (
    "\n\nYour previous answer was unusable (empty, repeating itself, or far too long). Answer again, "
    "once, in the format asked for, without repeating lines."
)


def human_time(moment: datetime) -> str:
    """``May 1, 2025, 9:30 AM`` (UTC), the way the Observer sees message times."""
    m = moment.astimezone(timezone.utc)
    hour = m.hour % 12 or 12
    return f"{m:%b} {m.day}, {m.year}, {hour}:{m.minute:02d} {'AM' if m.hour < 12 else 'PM'}"


def _clip(text: str) -> str:
    return text if len(text) <= _PART_LIMIT else text[:_PART_LIMIT] + " …[truncated]"


def _json(value: object) -> str:
    if isinstance(value, str):
        return _clip(value)
    try:
        return _clip(orjson.dumps(value).decode())
    except TypeError:
        return _clip(repr(value))


def render_message(message: Message) -> str:
    """One message as the Observer reads it: a bold header with role and time, then its parts."""
    when = human_time(message.created_at) if message.created_at else "unknown time"
    lines = [f"**{message.role.capitalize()} ({when}):**"]
    for part in message.content.parts:
        kind = part.get("type")
        if kind == "text" and isinstance(part.get("text"), str):
            lines.append(part["text"])
        elif kind == "tool-invocation" and isinstance(part.get("toolInvocation"), dict):
            call = part["toolInvocation"]
            lines.append(f"[Tool Call: {call.get('toolName')}]\n{_json(call.get('args', {}))}")
            if call.get("state") == "result":
                lines.append(f"[Tool Result: {call.get('toolName')}]\n{_json(call.get('result'))}")
        elif kind == "reasoning" and isinstance(part.get("reasoning"), str) and part["reasoning"].strip():
            lines.append(f"[Reasoning]\n{_clip(part['reasoning'])}")
        elif kind == "file":
            lines.append(f"[File: {part.get('mimeType', 'unknown type')}]")
    if len(lines) == 1 and message.text:  # content only in the plain-text mirror
        lines.append(message.text)
    return "\n".join(lines)


def message_tokens(message: Message) -> float:
    """Tokens a message costs in context, as Mastra estimates them: role + payload + 3.8 overhead
    (+3.8 per tool result). Reasoning and ``data-*`` parts count nothing."""
    total = cached_tokens(message.role) + 3.8
    for part in message.content.parts:
        kind = part.get("type")
        if kind == "text" and isinstance(part.get("text"), str):
            total += cached_tokens(part["text"])
        elif kind == "tool-invocation" and isinstance(part.get("toolInvocation"), dict):
            call = part["toolInvocation"]
            total += cached_tokens(str(call.get("toolName", ""))) + cached_tokens(_json(call.get("args", {})))
            if call.get("state") == "result":
                total += 3.8 + cached_tokens(_json(call.get("result")))
    if not any(p.get("type") == "text" for p in message.content.parts):
        total += cached_tokens(message.text)
    return total


def messages_tokens(messages: Sequence[Message]) -> int:
    """Tokens of a conversation: the messages plus Mastra's 24 per conversation (0 when empty)."""
    if not messages:
        return 0
    return round(sum(message_tokens(m) for m in messages) + 24)


def _tail_within(text: str, budget: int | None) -> str:
    """The newest part of ``text`` that fits ``budget`` tokens (whole lines), None meaning all."""
    if budget is None or count_tokens(text) <= budget:
        return text
    if budget == 0:
        return ""
    kept: list[str] = []
    used = 0
    for line in reversed(text.splitlines()):
        cost = count_tokens(line) + 1
        if used + cost > budget:
            break
        kept.append(line)
        used += cost
    return "[older observations omitted]\n" + "\n".join(reversed(kept))


def observer_prompt(
    messages: Sequence[Message],
    previous: str,
    *,
    previous_tokens: int | None,
    current_task: str | None,
    suggested_response: str | None,
    title: str | None,
    want_title: bool,
    instruction: str | None,
    retry: bool = False,
) -> list[ChatTurn]:
    """The Observer call: system rules, the task (with prior state), then the history to observe."""
    system = OBSERVER_SYSTEM.format(title_format=TITLE_FORMAT if want_title else "")
    if instruction:
        system += f"\n\n=== CUSTOM INSTRUCTIONS ===\n{instruction}"
    task = ["## Previous Observations"]
    shown = _tail_within(previous, previous_tokens).strip()
    task.append(shown if shown else "(none yet)")
    task.append("Do not repeat these; write only what the new messages add or change.")
    prior = [
        f"Current task: {current_task}" if current_task else "",
        f"Suggested response: {suggested_response}" if suggested_response else "",
        f"Thread title: {title}" if title else "",
    ]
    if any(prior):
        task += ["", "## Prior Thread Metadata", *[p for p in prior if p]]
    task += [
        "",
        "## Your Task",
        "Observe the new messages below and answer in the output format: <observations>, <current-task>, "
        "<suggested-response>" + (", <thread-title>" if want_title else "") + ".",
    ]
    if retry:
        task.append(RETRY_DEGENERATE.strip())
    history = "## New Message History to Observe\n\n" + "\n\n---\n\n".join(render_message(m) for m in messages)
    return [ChatTurn("system", system), ChatTurn("user", "\n".join(task)), ChatTurn("user", history)]


def reflector_prompt(observations: str, *, level: int, instruction: str | None, retry: bool = False) -> list[ChatTurn]:
    """The Reflector call; ``level`` 0-3 adds escalating compression guidance."""
    rules = OBSERVER_SYSTEM.format(title_format="")
    system = REFLECTOR_SYSTEM.format(observer_rules=rules)
    if instruction:
        system += f"\n\n=== CUSTOM INSTRUCTIONS ===\n{instruction}"
    user = (
        "## OBSERVATIONS TO REFLECT ON\n\n"
        f"{observations.strip()}\n\n"
        "Produce a refined, condensed version of these observations that keeps everything the assistant "
        "needs, in the output format."
        + COMPRESSION[min(level, len(COMPRESSION) - 1)]
        + (RETRY_DEGENERATE if retry else "")
    )
    return [ChatTurn("system", system), ChatTurn("user", user)]
