"""Plan for cloning a thread (Mastra's ``cloneThread``)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from .._errors import InvalidInputError
from .._plan import Plan, query
from .._store import Store
from .._types import CloneResult
from .._validate import check_id, check_ids, check_metadata, check_text, dumps, to_utc
from ..storage import _rows as rows
from ..storage._clone import clone_thread as clone_statement


def clone_thread(
    s: Store,
    source_thread_id: str,
    *,
    new_thread_id: str | None = None,
    resource_id: str | None = None,
    title: str | None = None,
    metadata: Mapping[str, Any] | None = None,
    message_limit: int | None = None,
    start_date: datetime | None = None,
    end_date: datetime | None = None,
    message_ids: Sequence[str] | None = None,
) -> Plan[CloneResult]:
    """Copy a thread and its messages into a new thread, in one transaction.

    Messages get new ids and keep their times; ``message_limit`` keeps the newest N,
    ``start_date``/``end_date`` (inclusive) and ``message_ids`` narrow the selection; taken
    literally, ``message_limit=0`` and ``message_ids=[]`` copy no message (Mastra reads both as
    "no filter"; pass None for that). The new thread's title defaults to ``"Clone of <title>"``
    (``""`` for an untitled source, as Mastra), its resource to the source's, and its metadata is
    ``metadata`` plus ``clone: {sourceThreadId, clonedAt, lastMessageId}``.

    Raises:
        NotFoundError: the source thread does not exist.
        ConflictError: ``new_thread_id`` is taken.
        InvalidInputError: malformed arguments.
    """
    if message_limit is not None and (
        isinstance(message_limit, bool) or not isinstance(message_limit, int) or message_limit < 0
    ):
        raise InvalidInputError(f"message_limit must be an integer >= 0 or None, got {message_limit!r}")
    stmt = clone_statement(
        s.tables,
        check_id(source_thread_id, "source_thread_id"),
        str(uuid.uuid4()) if new_thread_id is None else check_id(new_thread_id, "new_thread_id"),
        None if resource_id is None else check_id(resource_id, "resource_id"),
        None if title is None else check_text(title, "title"),
        None if metadata is None else dumps(check_metadata(metadata)),
        message_limit,
        None if start_date is None else to_utc(start_date, "start_date"),
        None if end_date is None else to_utc(end_date, "end_date"),
        None if message_ids is None else check_ids(message_ids, "message_ids"),
    )
    result = yield from query(*stmt)
    thread = rows.thread(result[0])
    cloned = [
        (r["source_id"], rows.message({k[2:]: v for k, v in r.items() if k.startswith("m_")}))
        for r in result
        if r["m_id"] is not None
    ]
    cloned.sort(key=lambda pair: (pair[1].created_at, pair[1].id or ""))
    return CloneResult(thread, [m for _, m in cloned], {old: m.id or "" for old, m in cloned})
