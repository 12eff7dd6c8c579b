"""How observations enter the context: cache-stable system blocks and a continuation hint.

As in Mastra, the blocks are separate system texts — a fixed preamble, a bare ``<observations>``
line, then one block per observation chunk (chunks are split on the message-boundary lines, so an
observation appends a block and leaves the earlier ones byte-identical for prompt caching), then
``<current-task>`` and ``<suggested-response>`` from the thread's metadata.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

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


def _relative(days: int) -> str:
    if days == 0:
        return "today"
    if days == 1:
        return "yesterday"
    if days == -1:
        return "tomorrow"
    if days < 0:
        return f"in {-days} days"
    if days < 14:
        return f"{days} days ago"
    if days < 60:
        return f"{days // 7} weeks ago"
    return f"{days // 30} months ago"


def _with_relative_dates(text: str, now: datetime) -> str:
    def label(match: re.Match[str]) -> str:
        try:
            day = datetime.strptime(f"{match[2][:3]} {match[3]} {match[4]}", "%b %d %Y").date()
        except ValueError:
            return match[0]
        return f"{match[1]}{match[2]} {match[3]}, {match[4]} ({_relative((now.date() - day).days)})"

    return _DATE_HEADER.sub(label, text)


def for_context(observations: str, now: datetime) -> str:
    """Observations as the agent reads them: low-priority emojis and arrow markers stripped (🔴
    and ✅ stay), each ``Date:`` header with how long ago it was."""
    text = _LOW_PRIORITY.sub("", observations)
    text = _ARROW.sub(r"\1", text)
    return _with_relative_dates(text, now)


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
    parts = [for_context(c, now) for c in chunks(observations)]
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
