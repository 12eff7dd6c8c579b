"""Plans that (re)embed stored messages: the backfill, and re-embedding after text changes."""

from __future__ import annotations

from collections.abc import Generator, Sequence
from typing import Any

from .._errors import InvalidInputError, ProviderError
from .._plan import Plan, Request, query
from .._store import Store
from .._types import Message
from .._validate import check_id
from ..storage import _messages as sql_messages
from ..storage import _rows as rows
from ._text import chunks, searchable_text, vector_id
from ._vectors import embed_texts


def embed_stored(s: Store, messages: Sequence[Message]) -> Generator[Request, Any, list[str]]:
    """Write fresh vectors for stored messages in one statement; returns the ids left queued.

    When the embedder fails, the messages keep no stale vector and are queued for backfill.
    """
    if not messages:
        return []
    ids = [m.id for m in messages if m.id is not None]
    pieces = [
        (vector_id(m.id, n), m.id, piece)
        for m in messages
        if m.id is not None
        for n, piece in enumerate(chunks(searchable_text(m)))
    ]
    vectors, queued = None, []
    if pieces:
        try:
            vectors = yield from embed_texts(s, pieces)
        except ProviderError:
            queued = sorted({message_id for _, message_id, _ in pieces})
            vectors = sql_messages.VectorRows.none_for(s.vectors.table)
    yield from query(*sql_messages.write_vectors(s.tables, ids, vectors, queued))
    return queued


def backfill_embeddings(
    s: Store, *, batch_size: int = 100, scan: bool = False, resource_id: str | None = None
) -> Plan[int]:
    """Embed messages that have no vectors yet; returns how many messages were processed.

    By default it works through the queue of messages whose embedding failed when they were
    saved (or updated). With ``scan=True`` it re-embeds *every* stored message (of
    ``resource_id``, if given): for history written before semantic recall was on, or by Mastra
    with recall off. Each batch is one embedder call and one statement; a failing embedder
    stops the backfill with ProviderError and leaves the rest queued.

    Raises:
        InvalidInputError: semantic recall is off, or ``batch_size`` < 1.
        ProviderError: the embedder failed.
    """
    if s.config.recall is None or s.embedder is None:
        raise InvalidInputError("backfill_embeddings needs semantic recall: pass MemoryConfig(semantic_recall=True)")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise InvalidInputError(f"batch_size must be an integer >= 1, got {batch_size!r}")
    resource = None if resource_id is None else check_id(resource_id, "resource_id")
    done, after = 0, ""
    if not scan:
        yield from query(*sql_messages.orphan_backlog(s.tables))
    while True:
        statement = (
            sql_messages.messages_after(s.tables, after, batch_size, resource)
            if scan
            else sql_messages.backlog_page(s.tables, batch_size)
        )
        batch = [rows.message(r) for r in (yield from query(*statement))]
        if not batch:
            return done
        queued = yield from embed_stored(s, batch)
        if queued:
            raise ProviderError(f"the embedder failed during backfill; {len(queued)} message(s) stay queued")
        done += len(batch)
        after = batch[-1].id or ""
