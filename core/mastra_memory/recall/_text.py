"""Which text of a message is embedded and searched, and how a query becomes a keyword search."""

from __future__ import annotations

import re

from .._types import Message

CHUNK_CHARACTERS = 4096 * 4  # Mastra's chunkText: 4096 "tokens" of ~4 characters, cut at word boundaries
_WORD = re.compile(r"[A-Za-z0-9]+")


def searchable_text(message: Message) -> str:
    """The text recall indexes: ``content.content`` or the text parts; '' for tool-only messages.

    System messages are not indexed: they are instructions, not conversation.
    """
    if message.role == "system":
        return ""
    return message.content.text.strip()


def chunks(text: str, size: int = CHUNK_CHARACTERS) -> list[str]:
    """Split long text at whitespace into pieces of at most ``size`` characters."""
    if len(text) <= size:
        return [text] if text else []
    out: list[str] = []
    start = 0
    while start < len(text):
        stop = min(len(text), start + size)
        if stop < len(text):
            cut = text.rfind(" ", start + size // 2, stop)
            stop = cut if cut > start else stop
        piece = text[start:stop].strip()
        if piece:
            out.append(piece)
        start = stop
    return out


def vector_id(message_id: str, chunk: int) -> str:
    """The message id itself for the first chunk (as Mastra's agent path writes it), then ``id#n``."""
    return message_id if chunk == 0 else f"{message_id}#{chunk}"


def keyword_query(text: str, limit: int = 32) -> str | None:
    """The query's words for the BM25 search (PostgreSQL stems them and drops stop words).

    Only ``[A-Za-z0-9]+`` words are kept, at most ``limit`` distinct ones.
    """
    words: list[str] = []
    for word in _WORD.findall(text.lower()):
        if word not in words:
            words.append(word)
        if len(words) == limit:
            break
    return " ".join(words) if words else None
