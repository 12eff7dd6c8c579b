"""Interop tests: mastra-memory and the real Mastra packages on one database.

Helpers shared by the test modules (fixtures are in ``conftest.py``):

- :func:`op` / :func:`ref` build the ops of a request to ``mastra_cli.mjs`` (see README.md);
- :func:`iso_ms` writes a time as Mastra's JSON does (``2025-01-01T10:00:01.123Z``);
- :func:`as_mastra_message` / :func:`as_mastra_thread` / :func:`as_mastra_resource` turn our
  dataclasses into the JSON Mastra returns for the same row, so a test compares whole records.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from mastra_memory import Message, Resource, Thread

Op = dict[str, Any]

MESSAGE_KEYS = ("id", "threadId", "resourceId", "role", "createdAt", "content")


def op(name: str, /, *, expect_error: bool = False, **args: Any) -> Op:
    """One op of a request: ``op("createThread", threadId="t1", resourceId="alice")``."""
    step: Op = {"op": name, "args": args}
    if expect_error:
        step["expectError"] = True
    return step


def ref(index: int, *path: str | int) -> dict[str, list[str | int]]:
    """The value at ``path`` in the result of the earlier op ``index`` of the same request."""
    return {"$ref": [index, *path]}


def iso_ms(value: datetime) -> str:
    """A time as JavaScript's ``Date#toISOString`` writes it (UTC, milliseconds, ``Z``)."""
    return value.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_iso(value: str) -> datetime:
    """The aware datetime of a JavaScript ISO string."""
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def as_mastra_message(message: Message) -> dict[str, Any]:
    """Our message as Mastra's ``recall`` / ``listMessages`` return it (the keys they share)."""
    assert message.created_at is not None
    return {
        "id": message.id,
        "threadId": message.thread_id,
        "resourceId": message.resource_id,
        "role": message.role,
        "createdAt": iso_ms(message.created_at),
        "content": message.content.to_dict(),
    }


def mastra_message(found: dict[str, Any]) -> dict[str, Any]:
    """The keys of a message Mastra returned that :func:`as_mastra_message` gives."""
    return {k: found.get(k) for k in MESSAGE_KEYS}


def as_mastra_thread(thread: Thread) -> dict[str, Any]:
    """Our thread as Mastra's ``getThreadById`` / ``listThreads`` return it."""
    return {
        "id": thread.id,
        "resourceId": thread.resource_id,
        "title": thread.title,
        "metadata": thread.metadata,
        "createdAt": iso_ms(thread.created_at),
        "updatedAt": iso_ms(thread.updated_at),
    }


def as_mastra_resource(resource: Resource) -> dict[str, Any]:
    """Our resource as Mastra's ``getResourceById`` returns it."""
    return {
        "id": resource.id,
        "workingMemory": resource.working_memory,
        "metadata": resource.metadata,
        "createdAt": iso_ms(resource.created_at),
        "updatedAt": iso_ms(resource.updated_at),
    }
