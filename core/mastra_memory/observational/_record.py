"""Public results of observational memory and how stored rows become them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from ..storage._rows import json_object, timestamp

__all__ = ["ObservationRecord", "Observations", "ObserveResult"]


@dataclass(frozen=True, slots=True)
class ObservationRecord:
    """One generation of observational memory (a row of ``mastra_observational_memory``)."""

    id: str
    lookup_key: str
    scope: str
    resource_id: str | None
    thread_id: str | None
    observations: str
    """The active observations (Mastra's ``activeObservations``)."""
    origin_type: str
    """``"initial"`` (made by observing) or ``"reflection"`` (a condensed generation)."""
    generation: int
    observation_tokens: int
    total_tokens_observed: int
    pending_message_tokens: int
    last_observed_at: datetime | None
    observed_message_ids: list[str]
    config: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    metadata: dict[str, Any] | None = None
    timezone: str | None = None


@dataclass(frozen=True, slots=True)
class ObserveResult:
    """What one ``observe()`` call did."""

    observed: bool
    reflected: bool
    record: ObservationRecord | None
    message_ids: list[str] = field(default_factory=list)
    """The messages observed in this call (now dropped from the context)."""
    message_tokens: int = 0
    """Unobserved message tokens found before observing."""
    threshold: int = 0
    reason: str | None = None
    """Why nothing was observed (below the threshold, nothing new), else None."""


@dataclass(frozen=True, slots=True)
class Observations:
    """The observational-memory part of a :class:`~mastra_memory.MemoryContext`."""

    record: ObservationRecord | None
    current_task: str | None = None
    suggested_response: str | None = None
    pending_tokens: int = 0
    """Tokens of the unobserved messages (the history this context carries), plus in resource
    scope the other-conversations block: what is compared with ``threshold``."""
    threshold: int = 0
    observed_now: bool = False
    """The Observer ran during this ``context()`` call (blocking mode)."""
    reflected_now: bool = False
    due: bool = False
    """The threshold is reached and a background observation was scheduled (or should be; with
    ``read_only`` nothing is scheduled)."""
    error: str | None = None
    """Why observing or reflecting failed this time (the raw history was kept; nothing was written)."""
    thread_id: str = ""
    resource_id: str = ""
    other_conversations: str | None = None
    """Resource scope: the block of other threads' unobserved messages, as put in the context."""


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def _us(value: Any) -> datetime | None:
    return None if value is None else _EPOCH + timedelta(microseconds=int(value))


def record_from_row(row: dict[str, Any]) -> ObservationRecord:
    """A record from a row (datetimes) or from the context statement's JSON (``…Us`` epoch fields)."""
    if "createdAtUs" in row:
        created = _us(row["createdAtUs"]) or _EPOCH
        updated = _us(row["updatedAtUs"]) or created
        observed = _us(row.get("lastObservedAtUs"))
    else:
        created = timestamp(row["createdAtZ"], row["createdAt"])
        updated = timestamp(row["updatedAtZ"], row["updatedAt"])
        observed = timestamp(row["lastObservedAtZ"], row["lastObservedAt"]) if (
            row.get("lastObservedAtZ") is not None or row.get("lastObservedAt") is not None
        ) else None
    ids = row.get("observedMessageIds")
    if isinstance(ids, str):
        import orjson

        ids = orjson.loads(ids)
    return ObservationRecord(
        id=row["id"],
        lookup_key=row["lookupKey"],
        scope=row["scope"],
        resource_id=row.get("resourceId"),
        thread_id=row.get("threadId"),
        observations=row.get("activeObservations") or "",
        origin_type=row.get("originType") or "initial",
        generation=int(row.get("generationCount") or 0),
        observation_tokens=int(row.get("observationTokenCount") or 0),
        total_tokens_observed=int(row.get("totalTokensObserved") or 0),
        pending_message_tokens=int(row.get("pendingMessageTokens") or 0),
        last_observed_at=observed,
        observed_message_ids=[str(i) for i in ids] if isinstance(ids, list) else [],
        config=json_object(row.get("config")) or {},
        created_at=created,
        updated_at=updated,
        metadata=json_object(row.get("metadata")),
        timezone=row.get("observedTimezone"),
    )
