"""Threads, messages and resources as JSON objects (Mastra's camelCase field names) and back.

``--json`` output and the export format share these shapes, so what a script reads from
``threads show --json`` is what ``import`` accepts inside an export line.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from .._content import MessageContent
from .._errors import InvalidInputError
from .._types import Message, Resource, Thread
from ._common import iso


def thread_record(thread: Thread) -> dict[str, Any]:
    return {
        "id": thread.id,
        "resourceId": thread.resource_id,
        "title": thread.title,
        "metadata": thread.metadata,
        "createdAt": iso(thread.created_at),
        "updatedAt": iso(thread.updated_at),
    }


def message_record(message: Message) -> dict[str, Any]:
    return {
        "id": message.id,
        "threadId": message.thread_id,
        "resourceId": message.resource_id,
        "role": message.role,
        "type": message.type,
        "content": message.content.to_dict(),
        "createdAt": iso(message.created_at),
    }


def resource_record(resource: Resource) -> dict[str, Any]:
    return {
        "id": resource.id,
        "workingMemory": resource.working_memory,
        "metadata": resource.metadata,
        "createdAt": iso(resource.created_at),
        "updatedAt": iso(resource.updated_at),
    }


def _field(
    record: Mapping[str, Any], name: str, kind: type | tuple[type, ...], where: str, *, optional: bool = False
) -> Any:
    value = record.get(name)
    if value is None and optional:
        return None
    if not isinstance(value, kind):
        raise InvalidInputError(f"{where}: field {name!r} is missing or not a {getattr(kind, '__name__', kind)}")
    return value


def _time(record: Mapping[str, Any], name: str, where: str) -> datetime:
    text = _field(record, name, str, where)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise InvalidInputError(f"{where}: {name} {text!r} is not an ISO 8601 time") from exc
    if moment.tzinfo is None:
        raise InvalidInputError(f"{where}: {name} {text!r} has no time zone offset")
    return moment


def thread_of(record: Mapping[str, Any], where: str) -> tuple[Thread, list[Message]]:
    """The thread and messages of one export line (validated; nothing is written here)."""
    raw = _field(record, "thread", dict, where)
    thread = Thread(
        id=_field(raw, "id", str, where),
        resource_id=_field(raw, "resourceId", str, where),
        title=_field(raw, "title", str, where, optional=True) or "",
        metadata=_field(raw, "metadata", dict, where, optional=True),
        created_at=_time(raw, "createdAt", where),
        updated_at=_time(raw, "updatedAt", where),
    )
    messages = []
    for i, item in enumerate(_field(record, "messages", list, where)):
        at = f"{where}, message {i}"
        if not isinstance(item, dict):
            raise InvalidInputError(f"{at}: not a JSON object")
        role = _field(item, "role", str, at)
        if role not in ("user", "assistant", "system"):
            raise InvalidInputError(f"{at}: role {role!r} is not user, assistant or system")
        messages.append(
            Message(
                role=role,
                content=MessageContent.from_dict(_field(item, "content", dict, at)),
                id=_field(item, "id", str, at),
                thread_id=thread.id,
                resource_id=_field(item, "resourceId", str, at, optional=True),
                created_at=_time(item, "createdAt", at),
                type=_field(item, "type", str, at, optional=True) or "v2",
            )
        )
    return thread, messages


def resource_of(record: Mapping[str, Any], where: str) -> tuple[str, str | None, dict[str, Any] | None]:
    """``(id, working memory, metadata)`` of a resource line."""
    raw = _field(record, "resource", dict, where)
    return (
        _field(raw, "id", str, where),
        _field(raw, "workingMemory", str, where, optional=True),
        _field(raw, "metadata", dict, where, optional=True),
    )
