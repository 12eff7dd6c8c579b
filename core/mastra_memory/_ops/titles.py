"""Plan for ``generate_title``: name a thread from its first user message with a chat model.

Mastra titles a thread after the first response when its title is still the default one (an empty
string since Mastra's ``createThread`` stopped writing ``"New Thread <date>"``). We do the same, on
demand or from the adapters' background job, and treat a model failure as a normal condition: the
old title stays and the failure is logged, because a missing title must never break a conversation.
"""

from __future__ import annotations

import logging
import re

from .._config import TitleGeneration
from .._errors import InvalidInputError, NotFoundError, OwnershipError, ProviderError
from .._plan import Begin, Commit, Plan, complete, query, query_one
from .._store import Store
from .._types import Message, Thread
from .._validate import check_id
from ..models import AsyncChatModel, ChatModel, ChatTurn
from ..storage import _rows as rows
from ..storage import _threads as sql_threads
from . import messages as message_ops
from . import threads as thread_ops

__all__ = ["DEFAULT_TITLE_INSTRUCTIONS", "MAX_TITLE_CHARS", "clean_title", "generate_title", "is_default_title"]

log = logging.getLogger("mastra_memory.titles")

MAX_TITLE_CHARS = 80
"""The longest title we store (Mastra's instructions ask for at most 80 characters)."""

DEFAULT_TITLE_INSTRUCTIONS = (
    "You name conversations. The user's first message of a conversation follows.\n"
    "- Write a short title for the conversation, at most 80 characters, in the language of the message.\n"
    "- Summarise what the user wants or talks about; do not answer the message.\n"
    "- No quotes, no colons, no markdown, no trailing punctuation.\n"
    "- Reply with the title and nothing else."
)

_MAX_PROMPT_CHARS = 2000  # a pasted document in the first message would make titling slow and costly
_TITLE_TOKENS = 256  # 80 characters in any script, plus room for a reasoning model to think briefly
_SCANNED_MESSAGES = 20  # the first user message is almost always the first message

# "" is Mastra's default; older Mastra versions wrote "New Thread <ISO date>".
_DEFAULT_TITLE = re.compile(r"\s*(new thread(\s+[0-9][0-9T:.+\-Z ]*)?)?\s*", re.IGNORECASE)
_THINK = re.compile(r"<think>.*?(</think>|\Z)", re.IGNORECASE | re.DOTALL)
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_LINE_MARKER = re.compile(r"^(#{1,6}\s*|>\s*|[-*+•]\s+|\d+[.)]\s+)+")
_LABEL = re.compile(r"^(conversation\s+)?title\s*[:\-\u2013\u2014]\s*", re.IGNORECASE)
_EMPHASIS = re.compile(r"\*\*|__|~~|[*`]")
_QUOTES = "\"'\u201c\u201d\u2018\u2019\u00ab\u00bb\u201e\u201f\u2039\u203a\u300c\u300d\u300e\u300f"  # quote marks
_DOUBLE_QUOTES = str.maketrans("", "", "\"\u201c\u201d\u00ab\u00bb\u201e\u201f")
_TRAILING = ".,;:!-\u2013\u2014\u00b7\u2026" + _QUOTES  # punctuation, dashes, ellipsis


def is_default_title(title: str | None) -> bool:
    """Whether a thread still has the title it was created with (empty, or ``New Thread <date>``)."""
    return title is None or _DEFAULT_TITLE.fullmatch(title) is not None


def _cut(title: str) -> str:
    """At most MAX_TITLE_CHARS, cut at a word boundary when one is near the end."""
    if len(title) <= MAX_TITLE_CHARS:
        return title
    cut = title[:MAX_TITLE_CHARS]
    space = cut.rfind(" ")
    return cut[:space] if space >= MAX_TITLE_CHARS // 2 else cut


def _clean_line(line: str) -> str:
    line = _LINK.sub(r"\1", line)
    line = _LINE_MARKER.sub("", line.strip())
    line = _EMPHASIS.sub("", line)
    line = _LABEL.sub("", line.strip())
    line = line.translate(_DOUBLE_QUOTES)  # double quotes never belong; single ones may be apostrophes
    line = " ".join(line.split()).strip(_QUOTES + " ")
    line = _cut(line).rstrip(_TRAILING + " ")
    return line


def clean_title(reply: str) -> str:
    """Turn a model's reply into a title: reasoning, markdown, labels and quotes removed, one line,
    at most 80 characters. Returns ``""`` when nothing usable is left (no letter or digit)."""
    text = _THINK.sub("", reply)
    for line in text.splitlines():
        title = _clean_line(line)
        if any(ch.isalnum() for ch in title):
            return title
    return ""


def _prompt_text(message: Message) -> str:
    """What the model sees of the user's message: its text, and a note per file or link (as Mastra)."""
    pieces: list[str] = []
    for part in message.content.parts:
        kind = part.get("type")
        if kind == "text" and isinstance(part.get("text"), str):
            pieces.append(part["text"])
        elif kind == "file":
            pieces.append(f"User added {part.get('mimeType') or 'a'} file")
        elif kind == "source" and isinstance(part.get("source"), dict):
            pieces.append(f"User added URL: {str(part['source'].get('url', ''))[:100]}")
    text = "\n".join(p for p in pieces if p.strip()) or message.text
    return text[:_MAX_PROMPT_CHARS]


def generate_title(
    s: Store,
    thread_id: str,
    model: ChatModel | AsyncChatModel | None = None,
    *,
    resource_id: str | None = None,
    instructions: str | None = None,
    force: bool = False,
) -> Plan[Thread]:
    """Name a thread from its first user message with a chat model; returns the thread.

    Runs only while the thread has its default title (``""``, or an old Mastra ``"New Thread
    <date>"``), as Mastra does, so a title a user chose is never overwritten; ``force=True``
    replaces any title. The reply is cleaned (reasoning, markdown, quotes, labels and extra lines
    removed) and cut to at most 80 characters.

    ``model`` defaults to the config's ``TitleGeneration.model`` and ``instructions`` to the
    config's, then to ours. The model runs outside any transaction; just before writing, the
    thread's row is locked and its title read again, so a rename made meanwhile (even one
    committed a moment before our write) wins.

    A failing model (``ProviderError``) or a reply with no usable title is a normal condition: the
    thread comes back unchanged and a warning is logged on ``mastra_memory.titles``. Compare the
    returned title to tell. A thread without a user message is left as it is.

    Raises:
        InvalidInputError: no model given or configured, an empty id, or empty instructions.
        NotFoundError: there is no such thread.
        OwnershipError: the thread belongs to another resource than ``resource_id``.
    """
    configured = s.config.generate_title
    settings = configured if isinstance(configured, TitleGeneration) else None  # disabled only stops adapters
    model = model if model is not None else (settings.model if settings is not None else None)
    if model is None:
        raise InvalidInputError(
            "generate_title needs a chat model: pass model=..., or set "
            "MemoryConfig(generate_title=TitleGeneration(model=...))"
        )
    if instructions is None and settings is not None:
        instructions = settings.instructions
    if instructions is not None and (not isinstance(instructions, str) or not instructions.strip()):
        raise InvalidInputError("instructions must be a non-empty string, or None for the default prompt")
    thread_id = check_id(thread_id, "thread_id")
    owner = None if resource_id is None else check_id(resource_id, "resource_id")

    found = yield from query_one(*sql_threads.select_thread(s.tables, thread_id))
    if found is None:
        raise NotFoundError(f"thread {thread_id!r} does not exist; create it before generating its title")
    thread = rows.thread(found)
    if owner is not None and thread.resource_id != owner:
        raise OwnershipError(f"thread {thread_id!r} belongs to another resource than {owner!r}")
    if not force and not is_default_title(thread.title):
        return thread

    page = yield from message_ops.list_messages(s, thread_id, per_page=_SCANNED_MESSAGES)
    first = next((m for m in page.messages if m.role == "user" and _prompt_text(m).strip()), None)
    if first is None:
        log.info("thread %r has no user message yet; its title is left as it is", thread_id)
        return thread

    prompt = [
        ChatTurn("system", instructions or DEFAULT_TITLE_INSTRUCTIONS),
        ChatTurn("user", _prompt_text(first)),
    ]
    try:
        reply = yield from complete(model, prompt, max_tokens=_TITLE_TOKENS)
    except ProviderError as exc:
        log.warning("title generation for thread %r failed, the title is kept: %s", thread_id, exc)
        return thread
    title = clean_title(reply)
    if not title:
        log.warning("title generation for thread %r returned no usable title (%r); the title is kept",
                    thread_id, reply[:200])
        return thread

    yield Begin()
    # Lock the row before reading it again: a rename committed after a plain re-read would
    # otherwise be overwritten by our UPDATE; with the lock, a rename either committed before
    # (and the read sees it) or waits for our commit (and then wins, as the newer write).
    yield from query(*sql_threads.lock_thread(s.tables, thread_id))
    current = yield from query_one(*sql_threads.select_thread(s.tables, thread_id))
    if current is None:
        yield Commit()
        raise NotFoundError(f"thread {thread_id!r} was deleted while its title was being generated")
    if not force and not is_default_title(rows.thread(current).title):  # renamed while the model ran
        yield Commit()
        return rows.thread(current)
    updated = yield from thread_ops.update_thread(s, thread_id, title=title)
    yield Commit()
    return updated
