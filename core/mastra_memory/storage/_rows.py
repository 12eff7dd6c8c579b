"""Row decoders: database rows (dicts) → public dataclasses, reading every shape Mastra writes."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, cast

import orjson
from psycopg import sql

from .._content import decode_content
from .._types import Message, Resource, Role, Thread

THREAD_COLUMNS = sql.SQL('id, "resourceId", title, metadata, "createdAt", "updatedAt", "createdAtZ", "updatedAtZ"')
RESOURCE_COLUMNS = sql.SQL('id, "workingMemory", metadata, "createdAt", "updatedAt", "createdAtZ", "updatedAtZ"')
MESSAGE_COLUMNS = sql.SQL('id, thread_id, content, role, type, "createdAt", "createdAtZ", "resourceId"')


def prefixed(columns: sql.SQL, alias: str) -> sql.Composed:
    """``id, "resourceId", …`` → ``m.id, m."resourceId", …`` for joins."""
    names = [c.strip() for c in columns.as_string().split(",")]
    return sql.SQL(", ").join(sql.SQL("{}.{}").format(sql.Identifier(alias), sql.SQL(n)) for n in names)


def timestamp(aware: datetime | None, naive: datetime | None) -> datetime:
    """Prefer the ``…Z`` timestamptz column; fall back to the naive one, which holds UTC."""
    if aware is not None:
        return aware.astimezone(timezone.utc)
    if naive is None:
        return datetime.fromtimestamp(0, timezone.utc)
    return naive.replace(tzinfo=timezone.utc)


def json_object(value: Any) -> dict[str, Any] | None:
    """jsonb objects, plus the JSON *strings* old Mastra versions stored (``"{}"``) and text columns."""
    if isinstance(value, str):
        try:
            value = orjson.loads(value)
        except orjson.JSONDecodeError:
            return None
    return value if isinstance(value, dict) else None


def thread(row: dict[str, Any]) -> Thread:
    return Thread(
        id=row["id"],
        resource_id=row["resourceId"],
        title=row["title"] or "",
        metadata=json_object(row["metadata"]),
        created_at=timestamp(row["createdAtZ"], row["createdAt"]),
        updated_at=timestamp(row["updatedAtZ"], row["updatedAt"]),
    )


def resource(row: dict[str, Any]) -> Resource:
    return Resource(
        id=row["id"],
        working_memory=row["workingMemory"],
        metadata=json_object(row["metadata"]),
        created_at=timestamp(row["createdAtZ"], row["createdAt"]),
        updated_at=timestamp(row["updatedAtZ"], row["updatedAt"]),
    )


def message(row: dict[str, Any]) -> Message:
    content, implied_role = decode_content(row["content"], row["type"])
    role = implied_role or row["role"]
    if role == "tool":  # legacy v1 tool rows: format 2 keeps tool results inside assistant messages
        role = "assistant"
    return Message(
        role=cast(Role, role),
        content=content,
        id=row["id"],
        thread_id=row["thread_id"],
        resource_id=row["resourceId"],
        created_at=timestamp(row["createdAtZ"], row["createdAt"]),
        type=row["type"],
    )
