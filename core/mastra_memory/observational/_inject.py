"""How observations enter the context: cache-stable system blocks and a continuation hint.

As in Mastra, the blocks are separate system texts — a fixed preamble, a bare ``<observations>``
line, then one block per observation chunk (chunks are split on the message-boundary lines, so an
observation appends a block and leaves the earlier ones byte-identical for prompt caching), then
``<current-task>`` and ``<suggested-response>`` from the thread's metadata.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timezone

from .._content import MessageContent
from .._types import Message
from ._prompts import human_time
from ._record import Observations

CONTINUATION_ID = "om-continuation"

PREAMBLE = """\
The observations below are your memory of earlier conversations with this user: notes you wrote \
while the messages they replace scrolled out of view.

How to use them:
- Personalise your answers with what you know about this user; refer to specific details instead \
of giving generic advice, and connect recommendations to what they told you before.
- KNOWLEDGE UPDATES: when two observations disagree, the newer one is true.
- PLANNED ACTIONS: if the user planned something for a date that has now passed, assume it \
happened unless an observation says otherwise.
- MOST RECENT USER INPUT: the newest message in the conversation takes priority over everything here."""

CONTINUATION_HINT = """\
<system-reminder>
The conversation became too long to show in full; its earlier part is summarised in your \
observations. Continue naturally from them and answer the newest message. Do not greet the user as \
if the conversation had just started, and do not mention observations or memory notes. If a \
suggested response is given, follow it.
</system-reminder>"""

BOUNDARY = re.compile(r"\n{2,}--- message boundary \(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z\) ---\n{2,}")
_DATE_HEADER = re.compile(r"(?m)^(\s*Date:\s*)([A-Z][a-z]{2,8}) (\d{1,2}), (\d{4})\s*$")
_LOW_PRIORITY = re.compile(r"[🟡🟢]\uFE0F? ?")
_ARROW = re.compile(r"(?m)^(\s*)->\s*")


def boundary(moment: datetime) -> str:
    """The delimiter Mastra writes between observation cycles (ISO time of the last observed message)."""
    iso = moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return f"\n\n--- message boundary ({iso}) ---\n\n"


def chunks(observations: str) -> list[str]:
    """The observations split into their cycles (boundary lines removed)."""
    return [c.strip() for c in BOUNDARY.split(observations.strip()) if c.strip()] if observations.strip() else []


def _span(days: int) -> str:
    """A distance in days as people say it: "3 days", "1 week", "2 months", "1 year"."""
    for size, unit in ((365, "year"), (30, "month"), (7, "week"), (1, "day")):
        if days >= size and (unit != "week" or days < 30) and (unit != "month" or days < 365):
            n = days // size
            return f"{n} {unit}{'s' if n > 1 else ''}"
    return f"{days} days"


def _relative(days: int) -> str:
    """How far a day is from today (positive: in the past)."""
    if days == 0:
        return "today"
    if days == 1:
        return "yesterday"
    if days == -1:
        return "tomorrow"
    return f"{_span(days)} ago" if days > 0 else f"in {_span(-days)}"


def _gap(previous: date, current: date) -> str | None:
    """The marker between two dated sections more than a day apart, so the agent sees elapsed time."""
    days = (current - previous).days
    return f"[{_span(days)} later]" if days > 1 else None


def _header_day(match: re.Match[str]) -> date | None:
    try:
        return datetime.strptime(f"{match[2][:3]} {match[3]} {match[4]}", "%b %d %Y").date()
    except ValueError:
        return None


# "(meaning May 9, 2025)" / "(estimated May 2025)": the resolved dates the Observer prompt asks for.
_INLINE = re.compile(r"\((meaning|estimated) ([^()\n]*?\d{4})\)", re.IGNORECASE)
_MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
           "november", "december"]
_INLINE_DAY = re.compile(r"([A-Za-z]+)\.? (\d{1,2})(?:\s*[-\u2013]\s*\d{1,2})?,? (\d{4})")
_INLINE_MONTH = re.compile(r"(?:(early|mid|late)[- ])?([A-Za-z]+) (\d{4})", re.IGNORECASE)
_PART_OF_MONTH = {"early": 7, "mid": 15, "late": 23, None: 15}  # a month alone counts as its middle
# Lines that speak of something still to happen; when their date has passed it probably did.
_INTENT = re.compile(
    r"\b(?:will|plans? to|planning to|going to|intends? to|wants? to|needs? to|about to|looking forward to)\b",
    re.IGNORECASE,
)


def _month(name: str) -> int | None:
    name = name.lower()
    found = [i for i, m in enumerate(_MONTHS, 1) if len(name) >= 3 and m.startswith(name)]
    return found[0] if len(found) == 1 else None


def _inline_day(text: str) -> date | None:
    for pattern, exact in ((_INLINE_DAY, True), (_INLINE_MONTH, False)):
        match = pattern.search(text)
        if match is None:
            continue
        month = _month(match[1] if exact else match[2])
        if month is None:
            continue
        day = int(match[2]) if exact else _PART_OF_MONTH[match[1].lower() if match[1] else None]
        try:
            return date(int(match[3]), month, day)
        except ValueError:
            return None
    return None


def _with_inline_dates(text: str, today: date) -> str:
    """Each resolved date in a note gains how far it is from today, and a note of intent whose
    date has passed is flagged as probably done (Mastra annotates these the same way)."""

    def label(match: re.Match[str]) -> str:
        day = _inline_day(match[2])
        if day is None:
            return match[0]
        line = text[text.rfind("\n", 0, match.start()) + 1 : match.start()]
        done = ", probably already happened" if day < today and _INTENT.search(line) else ""
        return f"({match[1]} {match[2]}: {_relative((today - day).days)}{done})"

    return _INLINE.sub(label, text)


def _with_relative_dates(text: str, now: datetime, previous: date | None = None) -> tuple[str, date | None]:
    """``Date:`` headers with how long ago they were, and a gap marker before a header more than a
    day after the previous one (``previous``: the last header of the preceding chunk). Returns the
    text and its last header's day."""
    today = now.astimezone(timezone.utc).date()
    text = _with_inline_dates(text, today)
    out: list[str] = []
    end = 0
    for match in _DATE_HEADER.finditer(text):
        day = _header_day(match)
        if day is None:
            continue
        # The header's match may start with the blank lines before it: the marker goes after them.
        cut = match[1].rfind("\n") + 1
        out.append(text[end : match.start()] + match[1][:cut])
        gap = _gap(previous, day) if previous is not None else None
        if gap is not None:
            out.append(f"{gap}\n\n")
        out.append(f"{match[1][cut:]}{match[2]} {match[3]}, {match[4]} ({_relative((today - day).days)})")
        end, previous = match.end(), day
    out.append(text[end:])
    return "".join(out), previous


def for_context(observations: str, now: datetime, previous: date | None = None) -> str:
    """Observations as the agent reads them: low-priority emojis and arrow markers stripped (🔴
    and ✅ stay), each ``Date:`` header with how long ago it was and a gap marker such as
    "[2 weeks later]" after a pause of days, resolved dates in notes with their distance."""
    return _annotated(observations, now, previous)[0]


def _annotated(observations: str, now: datetime, previous: date | None) -> tuple[str, date | None]:
    text = _LOW_PRIORITY.sub("", observations)
    text = _ARROW.sub(r"\1", text)
    return _with_relative_dates(text, now, previous)


OTHERS_PREAMBLE = (
    "Recent messages from this user's OTHER conversations, not yet in your observations. They are "
    "background for reference only, not part of the conversation you are in:"
)
_OTHER_PART_LIMIT = 500  # characters per message, as Mastra truncates parts in this block


def other_conversations(messages: list[Message]) -> str | None:
    """Resource scope: other threads' unobserved messages, one ``<other-conversation>`` per thread."""
    if not messages:
        return None
    lines = [OTHERS_PREAMBLE, "START_OTHER_CONVERSATIONS_BLOCK"]
    current = None
    for m in messages:
        if m.thread_id != current:
            if current is not None:
                lines.append("</other-conversation>")
            current = m.thread_id
            lines.append(f'<other-conversation id="{current}">')
        text = m.text if len(m.text) <= _OTHER_PART_LIMIT else m.text[:_OTHER_PART_LIMIT] + " …"
        when = human_time(m.created_at) if m.created_at else "unknown time"
        lines.append(f"**{m.role.capitalize()} ({when}):** {text}")
    lines += ["</other-conversation>", "END_OTHER_CONVERSATIONS_BLOCK"]
    return "\n".join(lines)


def system_blocks(
    observations: str, current_task: str | None, suggested_response: str | None, now: datetime,
    others: str | None = None,
) -> list[str]:
    """The system texts for a context (only the other-conversations block, if any, when nothing is
    observed yet)."""
    parts: list[str] = []
    previous: date | None = None  # gap markers also span chunk borders (they do not depend on now)
    for chunk in chunks(observations):
        part, previous = _annotated(chunk, now, previous)
        parts.append(part)
    if not parts:
        return [others] if others else []
    blocks = [PREAMBLE, *([others] if others else []), "<observations>", *parts]
    if current_task:
        blocks.append(f"<current-task>\n{current_task}\n</current-task>")
    if suggested_response:
        blocks.append(f"<suggested-response>\n{suggested_response}\n</suggested-response>")
    return blocks


def continuation(thread_id: str, resource_id: str) -> Message:
    """The synthetic user message Mastra puts first (id ``om-continuation``, time = epoch 0)."""
    return Message(
        role="user",
        content=MessageContent.of_text(CONTINUATION_HINT),
        id=CONTINUATION_ID,
        thread_id=thread_id,
        resource_id=resource_id,
        created_at=datetime.fromtimestamp(0, timezone.utc),
    )


def observation_blocks(observations: Observations | None, now: datetime | None = None) -> list[str]:
    """The system texts of a context's observations (what ``context()`` puts in ``system``), for
    integrations that place them themselves; empty when nothing is observed."""
    if observations is None:
        return []
    return system_blocks(
        observations.record.observations if observations.record else "", observations.current_task,
        observations.suggested_response, now or datetime.now(timezone.utc), observations.other_conversations,
    )
