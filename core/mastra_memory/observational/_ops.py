"""Plans of observational memory: observe, reflect, read and clear — and the step ``context()`` runs.

Model calls happen outside transactions; each write is one short transaction under an advisory
lock on the lookup key, guarded against changes made while the model ran. A failing or degenerate
model therefore writes nothing: no cursor moves, no row is half-updated, and the raw messages stay
in the context until a later observation succeeds.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Literal

from .._errors import ConflictError, InvalidInputError, ProviderError
from .._plan import Begin, Commit, Plan, complete, query, query_one
from .._store import Store
from .._tokens import count_tokens
from .._types import Message
from .._validate import check_id, dumps
from ..models import ChatTurn
from ..storage import _observational as sql_om
from ..storage import _rows as rows
from ..storage._context import ContextQuery
from ..storage._context import context as context_statement
from ._config import ObservationalMemory
from ._inject import boundary, other_conversations
from ._parse import Parsed, degenerate, parse_reply
from ._prompts import messages_tokens, observer_prompt, reflector_prompt
from ._record import ObservationRecord, ObserveResult, record_from_row

OBSERVED_TIMEZONE = "UTC"  # message times are shown to the Observer in UTC
_CHANGED = "observational memory {key} changed while the model ran (another observer was first); nothing was written"


@dataclass(slots=True)
class State:
    """What the context statement read about observational memory for one thread."""

    record: ObservationRecord | None
    thread_om: dict[str, Any]
    thread_title: str | None
    unobserved: list[Message] = field(default_factory=list)
    observed: list[Message] = field(default_factory=list)
    """Messages observed by this plan so far (they left ``unobserved``)."""
    others: list[Message] = field(default_factory=list)
    """Resource scope: unobserved messages of the resource's other threads (newest few)."""
    partial: set[str] = field(default_factory=set)
    """Other threads with more unobserved messages than were read: shown, but observed only from
    their own ``context()`` calls (moving their cursor would skip the unread older ones)."""

    @property
    def cursor(self) -> dict[str, Any] | None:
        cur = self.thread_om.get("lastObservedMessageCursor")
        return cur if isinstance(cur, dict) else None

    def text(self, key: str) -> str | None:
        value = self.thread_om.get(key)
        return value if isinstance(value, str) and value.strip() else None


def read_state(result: list[dict[str, Any]]) -> State:
    """The OM rows (``o`` record, ``t`` thread metadata, ``h`` unobserved history) of a context result."""
    record, meta = None, None
    history: list[Message] = []
    others: list[Message] = []
    for r in result:
        if r["src"] == "o":
            record = record_from_row(rows.json_object(r["extra"]) or {})
        elif r["src"] == "t":
            meta = rows.json_object(r["extra"])
        elif r["src"] == "h":
            history.append(rows.message(r))
        elif r["src"] == "x":
            others.append(rows.message(r))
    mastra = (meta or {}).get("mastra")
    om = mastra.get("om") if isinstance(mastra, dict) else None
    history.sort(key=lambda m: (m.created_at, m.id or ""))
    others, partial = _trim_others(others)
    om = om if isinstance(om, dict) else {}
    title = om.get("threadTitle")  # the Observer's last proposal, shown back to it as prior metadata
    return State(record, om, title if isinstance(title, str) else None, history, others=others, partial=partial)


def _trim_others(others: list[Message]) -> tuple[list[Message], set[str]]:
    """The statement reads one message more per other thread than is shown: a thread that has it
    is incomplete (its newest ``OTHER_MESSAGES`` are kept, oldest first)."""
    by_thread: dict[str, list[Message]] = {}
    for m in sorted(others, key=lambda m: (m.thread_id or "", m.created_at, m.id or "")):
        by_thread.setdefault(m.thread_id or "", []).append(m)
    partial = {t for t, ms in by_thread.items() if len(ms) > sql_om.OTHER_MESSAGES}
    kept = [m for ms in by_thread.values() for m in ms[-sql_om.OTHER_MESSAGES:]]
    return kept, partial


def pending_tokens(state: State) -> int:
    """What counts toward the threshold: the thread's unobserved messages plus, in resource scope,
    the other-conversations block (as in Mastra), less our explanatory first line, which is fixed
    overhead rather than conversation."""
    block = other_conversations(state.others)
    return messages_tokens(state.unobserved) + (count_tokens(block.partition("\n")[2]) if block else 0)


def next_other(state: State) -> list[Message] | None:
    """Resource scope: the other thread whose unobserved messages start earliest (complete ones only)."""
    groups: dict[str, list[Message]] = {}
    for m in state.others:
        if m.thread_id and m.thread_id not in state.partial and m.created_at is not None and m.id is not None:
            groups.setdefault(m.thread_id, []).append(m)
    if not groups:
        return None
    return min(groups.values(), key=lambda ms: (ms[0].created_at, ms[0].thread_id or ""))


def has_unobserved(state: State) -> bool:
    return bool(state.unobserved) or next_other(state) is not None


def config_of(s: Store) -> ObservationalMemory:
    om = s.config.observational_memory
    if om is None:
        raise InvalidInputError(
            "observational memory is off: build Memory with MemoryConfig(observational_memory="
            "ObservationalMemory(model=...))"
        )
    return om


def _model_name(model: Any) -> str:
    return str(getattr(model, "model_id", type(model).__name__))


def ask(
    model: Any, prompt: Callable[[bool], list[ChatTurn]], *, role: str, max_tokens: int | None, limit: int,
    retries: int,
) -> Plan[Parsed]:
    """One model call, retried when the reply is degenerate; ProviderError when it stays unusable."""
    why = ""
    for attempt in range(retries + 1):
        text = yield from complete(model, prompt(attempt > 0), max_tokens=max_tokens)
        parsed = parse_reply(text)
        reason = degenerate(text, parsed, max_tokens=limit)
        if reason is None:
            return parsed
        why = reason
    raise ProviderError(
        f"{role} model {_model_name(model)!r} gave unusable output {retries + 1} time(s) ({why}); nothing was "
        "written and the raw messages stay in context"
    )


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _wrap(cfg: ObservationalMemory, existing: str, new: str, thread_id: str, last_observed_at: datetime) -> str:
    """Append a cycle's notes after a message boundary (resource scope: inside a thread section)."""
    if cfg.scope == "resource":
        new = f'<thread id="{thread_id}">\n{new}\n</thread>'
    return f"{existing}{boundary(last_observed_at)}{new}" if existing.strip() else new


def _oldest_within(messages: list[Message], budget: int) -> list[Message]:
    """The oldest messages whose tokens fit ``budget`` (at least one): one Observer batch."""
    batch: list[Message] = []
    for message in messages:
        if batch and messages_tokens([*batch, message]) > budget:
            break
        batch.append(message)
    return batch


def observe_cycle(
    s: Store, cfg: ObservationalMemory, thread_id: str, resource_id: str, state: State, *, budget: int,
    other: list[Message] | None = None,
) -> Plan[ObservationRecord]:
    """Run the Observer over the oldest unobserved messages (at most ``budget`` tokens) and store
    the result in one transaction; ``state`` then reflects what was written.

    ``other`` (resource scope): observe another thread's unobserved messages instead and move that
    thread's cursor; the record's guard covers it, as every observation of the resource updates
    the one record under the same lock."""
    pool = state.unobserved if other is None else other
    usable = [m for m in pool if m.created_at is not None and m.id is not None]
    if not usable:
        raise InvalidInputError("there are no unobserved messages to observe")
    messages = _oldest_within(usable, budget)
    previous = state.record.observations if state.record else ""
    pending = messages_tokens(messages)
    own = other is None
    target = thread_id if own else (messages[0].thread_id or thread_id)

    def prompt(retry: bool) -> list[ChatTurn]:
        return observer_prompt(
            messages, previous, previous_tokens=cfg.previous_observer_tokens,
            current_task=state.text("currentTask") if own else None,
            suggested_response=state.text("suggestedResponse") if own else None,
            title=state.thread_title if own else None, want_title=cfg.thread_title and own,
            instruction=cfg.instruction, retry=retry,
        )

    parsed = yield from ask(
        cfg.model_for("observer"), prompt, role="observer", max_tokens=cfg.max_output_tokens,
        limit=max(4000, pending), retries=cfg.retries,
    )
    last = max(messages, key=lambda m: (m.created_at, m.id or ""))
    assert last.created_at is not None and last.id is not None
    text = _wrap(cfg, previous, parsed.observations, target, last.created_at)
    seen = state.record.observed_message_ids if state.record else []
    ids = list(dict.fromkeys([*seen, *(m.id or "" for m in messages)]))
    update: dict[str, Any] = {"lastObservedMessageCursor": {"createdAt": _iso(last.created_at), "id": last.id}}
    update["lastObservedAt"] = _iso(last.created_at)
    if parsed.current_task:
        update["currentTask"] = parsed.current_task
    if parsed.suggested_response:
        update["suggestedResponse"] = parsed.suggested_response
    title = parsed.thread_title if cfg.thread_title and own else None
    if title:
        update["threadTitle"] = title
    key = cfg.lookup_key(thread_id, resource_id)
    record = state.record
    yield Begin()
    yield from query(*sql_om.lock(key))
    check = yield from query_one(*sql_om.guard(
        s.tables, key, record.id if record else None, record.updated_at if record else None,
        thread_id if own else None, state.cursor if own else None,
    ))
    if check is None or check["changed"]:
        yield Commit()  # nothing written yet: end the transaction cleanly, then report
        raise ConflictError(_CHANGED.format(key=key))
    record_id = record.id if record else str(uuid.uuid4())
    if record is None:
        yield from query(*sql_om.initialize(
            s.tables, record_id, key, cfg.scope, resource_id, thread_id if cfg.scope == "thread" else None,
            dumps(cfg.stored_config()), OBSERVED_TIMEZONE,
        ))
    row = yield from query_one(*sql_om.update_active(
        s.tables, record_id, text, count_tokens(text), last.created_at, dumps(ids)
    ))
    yield from query(*sql_om.set_thread_state(s.tables, target, dumps(update), title))
    yield Commit()
    assert row is not None
    state.record = record_from_row(row)
    done = {m.id for m in messages}
    state.observed += messages
    if own:
        state.thread_om = {**state.thread_om, **update}
        state.unobserved = [m for m in state.unobserved if m.id not in done]
    else:
        state.others = [m for m in state.others if m.id not in done]
    return state.record


MAX_CYCLES = 5  # Observer batches per call; a bigger backlog is worked off over the next calls


def observe_due(
    s: Store, cfg: ObservationalMemory, thread_id: str, resource_id: str, state: State, *, force: bool = False
) -> Plan[None]:
    """Observe while the unobserved messages reach the threshold (with ``force``: at least once),
    in batches of at most twice the threshold, so a long backlog (OM switched on for an old
    thread) never becomes one huge Observer prompt. Progress stays in ``state`` if a batch fails.

    Resource scope: other threads' unobserved messages count too, and once an observation runs,
    theirs are observed after the thread's own, thread by thread, each moving its own cursor (as
    Mastra observes all of the resource's unobserved messages when the threshold is reached)."""
    for _ in range(MAX_CYCLES):
        threshold = cfg.threshold(state.record.observation_tokens if state.record else 0)
        reached = pending_tokens(state) >= threshold or (force and not state.observed)
        if state.unobserved and reached:
            yield from observe_cycle(s, cfg, thread_id, resource_id, state, budget=2 * threshold)
            continue
        other = next_other(state)
        if other is None or not (reached or state.observed):
            return
        yield from observe_cycle(s, cfg, thread_id, resource_id, state, budget=2 * threshold, other=other)


def reflect_cycle(
    s: Store, cfg: ObservationalMemory, record: ObservationRecord, *, force: bool = False
) -> Plan[ObservationRecord]:
    """Condense the observations into a new generation, compressing harder while they stay too long.
    A reflection that does not shrink them is refused unless ``force`` (an explicit ``reflect()``)."""
    best: Parsed | None = None
    best_tokens = 0
    for level in range(4):

        def prompt(retry: bool, level: int = level) -> list[ChatTurn]:
            text, extra = record.observations, cfg.reflection_instruction
            return reflector_prompt(text, level=level, instruction=extra, retry=retry)

        parsed = yield from ask(
            cfg.model_for("reflector"), prompt, role="reflector", max_tokens=cfg.max_output_tokens,
            limit=max(4000, int(record.observation_tokens * 1.2)), retries=cfg.retries,
        )
        tokens = count_tokens(parsed.observations)
        if best is None or tokens < best_tokens:
            best, best_tokens = parsed, tokens
        if tokens < cfg.reflection_tokens:
            break
    assert best is not None
    if best_tokens >= record.observation_tokens and best_tokens >= cfg.reflection_tokens and not force:
        raise ProviderError(
            f"reflector model {_model_name(cfg.model_for('reflector'))!r} did not shrink the observations "
            f"({record.observation_tokens} → {best_tokens} tokens); nothing was written"
        )
    yield Begin()
    yield from query(*sql_om.lock(record.lookup_key))
    check = yield from query_one(*sql_om.guard(s.tables, record.lookup_key, record.id, record.updated_at, None, None))
    if check is None or check["changed"]:
        yield Commit()
        raise ConflictError(_CHANGED.format(key=record.lookup_key))
    row = yield from query_one(*sql_om.insert_reflection(
        s.tables, str(uuid.uuid4()), record.id, best.observations, best_tokens
    ))
    yield Commit()
    assert row is not None
    return record_from_row(row)


def _state(s: Store, cfg: ObservationalMemory, thread_id: str, resource_id: str) -> Plan[State]:
    q = ContextQuery(thread_id=thread_id, resource_id=resource_id, last_messages=None,
                     om_key=cfg.lookup_key(thread_id, resource_id))
    result = yield from query(*context_statement(s.tables, q, None))
    return read_state(result)


def observe(s: Store, thread_id: str, resource_id: str, *, force: bool = False) -> Plan[ObserveResult]:
    """Observe the thread's unobserved messages now, if they reach the threshold (or ``force``).

    The Observer turns them into notes appended to the observations; the thread's cursor moves
    past them, so ``context()`` drops them. If the observations then exceed ``reflection_tokens``,
    the Reflector condenses them into a new generation.

    Raises:
        InvalidInputError: observational memory is off, or an id is empty.
        OwnershipError: the thread belongs to another resource.
        ProviderError: the model failed or stayed degenerate (nothing was written).
        ConflictError: another observation of the same memory finished first (nothing was written).
    """
    cfg = config_of(s)
    thread_id, resource_id = check_id(thread_id, "thread_id"), check_id(resource_id, "resource_id")
    state = yield from _state(s, cfg, thread_id, resource_id)
    pending = pending_tokens(state)
    threshold = cfg.threshold(state.record.observation_tokens if state.record else 0)
    if not has_unobserved(state):
        return ObserveResult(False, False, state.record, [], 0, threshold, "no unobserved messages")
    if pending < threshold and not force:
        return ObserveResult(False, False, state.record, [], pending, threshold, "below the threshold")
    yield from observe_due(s, cfg, thread_id, resource_id, state, force=force)
    record = state.record
    assert record is not None
    reflected = False
    if record.observation_tokens > cfg.reflection_tokens:
        record = yield from reflect_cycle(s, cfg, record)
        reflected = True
    return ObserveResult(True, reflected, record, [m.id or "" for m in state.observed], pending, threshold)


def reflect(s: Store, thread_id: str, resource_id: str, *, force: bool = False) -> Plan[ObservationRecord | None]:
    """Condense the observations into a new generation if they exceed ``reflection_tokens`` (or
    ``force``). Returns the new generation, or None when there was nothing to do.

    Raises:
        InvalidInputError: observational memory is off, or an id is empty.
        OwnershipError: the thread belongs to another resource.
        ProviderError: the model failed, stayed degenerate, or did not shrink the notes.
        ConflictError: the observations changed while the Reflector ran (nothing was written).
    """
    cfg = config_of(s)
    thread_id, resource_id = check_id(thread_id, "thread_id"), check_id(resource_id, "resource_id")
    state = yield from _state(s, cfg, thread_id, resource_id)
    record = state.record
    if record is None or not record.observations.strip():
        return None
    if record.observation_tokens <= cfg.reflection_tokens and not force:
        return None
    return (yield from reflect_cycle(s, cfg, record, force=force))


def _key(s: Store, thread_id: str, resource_id: str, scope: Literal["thread", "resource"] | None) -> str:
    thread_id, resource_id = check_id(thread_id, "thread_id"), check_id(resource_id, "resource_id")
    chosen = scope or (s.config.observational_memory.scope if s.config.observational_memory else "thread")
    if chosen not in ("thread", "resource"):
        raise InvalidInputError(f"scope must be 'thread' or 'resource', got {scope!r}")
    return f"thread:{thread_id}" if chosen == "thread" else f"resource:{resource_id}"


def get_observations(
    s: Store, thread_id: str, resource_id: str, *, scope: Literal["thread", "resource"] | None = None
) -> Plan[ObservationRecord | None]:
    """The current generation of observational memory (Mastra's ``getObservationalMemory``), or None.

    ``scope`` defaults to the configured one (``"thread"`` when observational memory is off), so
    records Mastra wrote can be read without a model.

    Raises:
        InvalidInputError: an id is empty or the scope unknown.
    """
    found = yield from query(*sql_om.history(s.tables, _key(s, thread_id, resource_id, scope), 1))
    return record_from_row(found[0]) if found else None


def get_observation_history(
    s: Store, thread_id: str, resource_id: str, *, limit: int | None = 10,
    scope: Literal["thread", "resource"] | None = None,
) -> Plan[list[ObservationRecord]]:
    """Every generation (newest first, at most ``limit``; None for all), as Mastra's
    ``getObservationalMemoryHistory``.

    Raises:
        InvalidInputError: an id is empty, the scope unknown or ``limit`` negative.
    """
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
        raise InvalidInputError(f"limit must be an integer >= 0 or None, got {limit!r}")
    found = yield from query(*sql_om.history(s.tables, _key(s, thread_id, resource_id, scope), limit))
    return [record_from_row(r) for r in found]


def clear_observations(
    s: Store, thread_id: str, resource_id: str, *, scope: Literal["thread", "resource"] | None = None
) -> Plan[int]:
    """Forget the observations: delete every generation and the threads' OM cursor (so the raw
    history is shown again), in one statement. Returns how many generations were deleted.

    Mastra's ``clear`` deletes the rows only; dropping the cursor too keeps nothing hidden.

    Raises:
        InvalidInputError: an id is empty or the scope unknown.
    """
    key = _key(s, thread_id, resource_id, scope)
    is_thread = key.startswith("thread:")
    row = yield from query_one(*sql_om.clear(
        s.tables, key, thread_id if is_thread else None, None if is_thread else resource_id
    ))
    return int(row["deleted"]) if row else 0


def ids_of(messages: Sequence[Message]) -> set[str]:
    return {m.id for m in messages if m.id is not None}
