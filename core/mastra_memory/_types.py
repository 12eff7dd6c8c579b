"""Public data types: what the API takes and returns. Plain dataclasses, no I/O."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from ._content import MessageContent, Part, coerce_content

__all__ = [
    "CloneInfo",
    "CloneResult",
    "DateRange",
    "Include",
    "Message",
    "MessagePage",
    "MessageUpdate",
    "Resource",
    "ResourceDeletion",
    "Role",
    "SweepResult",
    "Thread",
    "ThreadPage",
]

Role = Literal["user", "assistant", "system"]
ThreadOrderField = Literal["createdAt", "updatedAt"]
Direction = Literal["ASC", "DESC"]


@dataclass(frozen=True, slots=True)
class CloneInfo:
    """Where a cloned thread came from (``metadata.clone`` as Mastra writes it)."""

    source_thread_id: str
    cloned_at: str
    last_message_id: str | None = None


@dataclass(frozen=True, slots=True)
class Thread:
    """A conversation (a row of ``mastra_threads``). It belongs to one resource (a user, usually)."""

    id: str
    resource_id: str
    title: str
    metadata: dict[str, Any] | None
    created_at: datetime
    updated_at: datetime

    @property
    def clone_info(self) -> CloneInfo | None:
        """Lineage of a cloned thread, or None when the thread is not a clone."""
        clone = (self.metadata or {}).get("clone")
        if not isinstance(clone, dict) or not isinstance(clone.get("sourceThreadId"), str):
            return None
        last = clone.get("lastMessageId")
        cloned_at = str(clone.get("clonedAt", ""))
        return CloneInfo(clone["sourceThreadId"], cloned_at, last if isinstance(last, str) else None)

    @property
    def is_clone(self) -> bool:
        """Whether this thread was made by ``clone_thread``."""
        return self.clone_info is not None


@dataclass(frozen=True, slots=True)
class Resource:
    """What threads belong to (a row of ``mastra_resources``), carrying resource-scoped working memory."""

    id: str
    working_memory: str | None
    metadata: dict[str, Any] | None
    created_at: datetime
    updated_at: datetime


@dataclass(slots=True)
class Message:
    """One message in Mastra's database format (``MastraDBMessage``).

    ``id`` and ``created_at`` may be left empty when saving: the store assigns a UUID and a time
    that is strictly later than every earlier message of the thread. Messages read back always
    carry both. Tool results are not separate messages: they are ``tool-invocation`` parts with
    ``state: "result"`` inside the assistant message, as Mastra stores them.
    """

    role: Role
    content: MessageContent
    id: str | None = None
    thread_id: str | None = None
    resource_id: str | None = None
    created_at: datetime | None = None
    type: str = "v2"

    @classmethod
    def of(
        cls,
        role: Role,
        content: MessageContent | str | Mapping[str, Any] | Sequence[Part],
        *,
        id: str | None = None,
        thread_id: str | None = None,
        resource_id: str | None = None,
        created_at: datetime | None = None,
    ) -> Message:
        """Build a message from text, a format-2 dict, or a list of parts.

        Raises:
            InvalidInputError: the content is not valid format 2.
        """
        return cls(role, coerce_content(content, "content"), id, thread_id, resource_id, created_at)

    @classmethod
    def user(cls, content: MessageContent | str | Sequence[Part], **fields: Any) -> Message:
        """A user message (``Message.user("hi", thread_id=..., resource_id=...)``)."""
        return cls.of("user", content, **fields)

    @classmethod
    def assistant(cls, content: MessageContent | str | Sequence[Part], **fields: Any) -> Message:
        """An assistant message; tool calls and their results go in its parts."""
        return cls.of("assistant", content, **fields)

    @classmethod
    def system(cls, content: MessageContent | str | Sequence[Part], **fields: Any) -> Message:
        """A system message."""
        return cls.of("system", content, **fields)

    @property
    def text(self) -> str:
        """The message's plain text (see :attr:`MessageContent.text`)."""
        return self.content.text


@dataclass(frozen=True, slots=True)
class MessageUpdate:
    """A partial update of one message (``update_messages``). Fields left as None stay unchanged.

    ``content`` is merged into the stored content: top-level keys replace, ``metadata`` is merged
    one level deeper. Setting ``thread_id`` moves the message to that thread.
    """

    id: str
    content: Mapping[str, Any] | None = None
    role: Role | None = None
    type: str | None = None
    thread_id: str | None = None
    resource_id: str | None = None


@dataclass(frozen=True, slots=True)
class DateRange:
    """A ``created_at`` window. Both ends are inclusive unless marked exclusive."""

    start: datetime | None = None
    end: datetime | None = None
    start_exclusive: bool = False
    end_exclusive: bool = False


@dataclass(frozen=True, slots=True)
class Include:
    """Bring a message plus neighbours from *its own* thread into a listing (Mastra's include)."""

    id: str
    before: int = 0
    after: int = 0


@dataclass(frozen=True, slots=True)
class ThreadPage:
    """One page of threads. ``per_page`` is None when everything was asked for."""

    threads: list[Thread]
    total: int
    page: int
    per_page: int | None
    has_more: bool


@dataclass(frozen=True, slots=True)
class MessagePage:
    """One page of messages plus any include windows, in the order asked for."""

    messages: list[Message]
    total: int
    page: int
    per_page: int | None
    has_more: bool


@dataclass(frozen=True, slots=True)
class CloneResult:
    """What ``clone_thread`` made: the new thread, its messages, and old→new message ids."""

    thread: Thread
    messages: list[Message]
    message_id_map: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SweepResult:
    """What ``sweep_threads`` deleted (or, with ``dry_run``, would delete)."""

    thread_ids: list[str]
    messages: int
    vectors: int
    observations: int
    dry_run: bool = False

    @property
    def threads(self) -> int:
        """How many threads were (or would be) deleted."""
        return len(self.thread_ids)


@dataclass(frozen=True, slots=True)
class ResourceDeletion:
    """What ``delete_resource`` deleted: counts of rows, and whether the resource row existed."""

    resource_id: str
    threads: int
    messages: int
    vectors: int
    observations: int
    resource: bool
