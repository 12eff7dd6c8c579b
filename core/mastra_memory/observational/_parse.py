"""Reading the Observer's and Reflector's replies, and telling usable replies from degenerate ones.

Only tags at the start of a line count (a tag quoted inside a note is text). A reply without
tags falls back to its list lines. Degenerate replies — empty, looping on the same lines, or
runaway long — are refused so the caller can retry instead of storing garbage.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from .._tokens import count_tokens

MAX_LINE = 10_000  # characters; longer lines are cut (Mastra does the same)
_TAGS = "observations|current-task|suggested-response|thread-title"
_LIST_LINE = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+\S")


@dataclass(frozen=True, slots=True)
class Parsed:
    """What one reply said."""

    observations: str
    current_task: str | None = None
    suggested_response: str | None = None
    thread_title: str | None = None


def _section(text: str, tag: str) -> str | None:
    """The content of ``<tag>…</tag>`` where the opening tag starts a line (closing tag optional)."""
    match = re.search(rf"(?m)^[ \t]*<{tag}>[ \t]*\n?", text)
    if match is None:
        return None
    rest = text[match.end() :]
    end = re.search(rf"(?m)^[ \t]*</{tag}>|</{tag}>[ \t]*$|^[ \t]*<(?:{_TAGS})>", rest)
    body = rest[: end.start()] if end else rest
    return body.strip()


def _clip_lines(text: str) -> str:
    return "\n".join(line if len(line) <= MAX_LINE else line[:MAX_LINE] + " …" for line in text.splitlines())


def parse_reply(text: str) -> Parsed:
    """The tagged sections of a reply; without an ``<observations>`` tag, its list lines."""
    observations = _section(text, "observations")
    if observations is None:
        observations = "\n".join(line for line in text.splitlines() if _LIST_LINE.match(line))
    title = _section(text, "thread-title")
    return Parsed(
        observations=_clip_lines(observations).strip(),
        current_task=_section(text, "current-task") or None,
        suggested_response=_section(text, "suggested-response") or None,
        thread_title=(title.splitlines()[0].strip()[:120] or None) if title else None,
    )


def degenerate(text: str, parsed: Parsed, *, max_tokens: int) -> str | None:
    """Why a reply cannot be used (None when it can).

    - empty: no observation lines at all;
    - repeating: one line makes up most of a long reply, or the reply ends in the same block
      of lines several times over (a sampling loop);
    - runaway: the reply is longer than ``max_tokens``.
    """
    if not parsed.observations.strip():
        return "the reply holds no observations"
    lines = [line.strip() for line in parsed.observations.splitlines() if line.strip()]
    if len(lines) >= 12:
        line, count = Counter(lines).most_common(1)[0]
        if count >= 8 and count / len(lines) > 0.4 and not line.lower().startswith("date:"):
            return f"the reply repeats one line {count} times"
        for width in range(1, 6):  # the tail is the same block of `width` lines, 4+ times in a row
            block = lines[-width:]
            repeats = 1
            while lines[-width * (repeats + 1) : len(lines) - width * repeats] == block:
                repeats += 1
            if repeats >= 4 and width * repeats >= 8:
                return f"the reply loops on a block of {width} line(s) ({repeats} times)"
    if count_tokens(text) > max_tokens:
        return f"the reply runs past {max_tokens} tokens"
    return None
