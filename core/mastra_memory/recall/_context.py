"""Plan for ``context()``: history, recall, working memory and observations from one statement, then assembled."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any

from .._errors import ConflictError, InvalidInputError, ProviderError
from .._plan import Plan, embed
from .._plan import query as run_query
from .._store import Store
from .._tokens import count_tokens
from .._types import Message
from .._validate import check_count, check_id
from ..observational import _inject as om_inject
from ..observational import _ops as om_ops
from ..observational._config import ObservationalMemory
from ..observational._prompts import cached_tokens
from ..observational._record import Observations
from ..storage import _rows as rows
from ..storage._context import ContextQuery
from ..storage._context import context as context_statement
from ..working_memory import WorkingMemory, working_memory_instruction
from ._text import keyword_query
from ._vectors import vector_literal, vector_table

REMEMBERED_PREAMBLE = "The following messages were remembered from a different conversation:"


@dataclass(frozen=True, slots=True)
class RecallHit:
    """One recalled message, with the neighbours fetched around it from its own thread."""

    message: Message
    rank: int
    score: float
    """Cosine similarity to the query when known, else the fused rank score."""
    window: list[Message]
    same_thread: bool


@dataclass(frozen=True, slots=True)
class ContextDiagnostics:
    """Where each message came from and what the context costs."""

    sources: dict[str, str]
    """Message id → ``"history"``, ``"recall"`` (a hit) or ``"neighbour"`` (around a hit)."""
    tokens: dict[str, int]
    """``history``, ``recall`` (same-thread recalled), ``system`` and ``total``."""
    recall_error: str | None = None
    """Why recall ran degraded (e.g. the embedder failed and only keywords were used)."""


@dataclass(frozen=True, slots=True)
class MemoryContext:
    """What to put in front of the model: system blocks, then ``messages`` in time order."""

    system: list[str]
    messages: list[Message]
    hits: list[RecallHit] = field(default_factory=list)
    working_memory: str | None = None
    diagnostics: ContextDiagnostics = field(default_factory=lambda: ContextDiagnostics({}, {}))
    observations: Observations | None = None
    """Observational memory's part (None when it is off): the record, current task, whether the
    Observer ran or is due, and why it failed if it did."""

    @property
    def tokens(self) -> int:
        """Total tokens of the system blocks and messages."""
        return self.diagnostics.tokens.get("total", 0)


def _day(moment: datetime) -> str:
    return f"{moment.day} {moment:%B} {moment.year}"


def render_remembered(messages: list[Message]) -> str:
    """Other-thread recall as one system block in Mastra's structure: its preamble and tags, a
    header per UTC day, then each message with its role. Mastra also starts every line with
    "Message from previous conversation at <time>" and writes headers as "the following messages
    are from 2023, May, 8"; we write "8 May 2023" and the role only. On LoCoMo that carries the
    same evidence in about a fifth fewer tokens."""
    lines = [REMEMBERED_PREAMBLE, "<remembered_from_other_conversation>"]
    day = None
    for message in messages:
        assert message.created_at is not None
        if _day(message.created_at) != day:
            day = _day(message.created_at)
            lines.append(day)
        lines.append(f"- {message.role}: {message.text}")
    lines.append("<end_remembered_from_other_conversation>")
    return "\n".join(lines)


def _working_memory(
    config: WorkingMemory | None, resource_wm: str | None, thread_metadata: dict[str, Any] | None
) -> str | None:
    """The document of the configured scope (None when working memory is off or nothing is stored)."""
    if config is None or not config.enabled:
        return None
    if config.scope == "resource":
        return resource_wm or None
    wm = (thread_metadata or {}).get("workingMemory")
    return wm if isinstance(wm, str) and wm else None


def context(
    s: Store,
    thread_id: str,
    resource_id: str,
    *,
    query: str | None = None,
    last_messages: int | None = None,
    top_k: int | None = None,
) -> Plan[MemoryContext]:
    """Everything an agent needs before a model call, read in one SQL statement.

    - the thread's newest ``last_messages`` (default: the config's), oldest first;
    - with semantic recall on and a ``query`` (usually the user's newest message): the ``top_k``
      most relevant older messages of the resource (or thread) with their neighbours, hybrid
      (vector + full text) by default.
      Hits already in history are not repeated; same-thread hits join the history in time order,
      hits from other threads become one dated system block, as Mastra renders them;
    - with working memory on: its system instruction first (the template, the stored document
      of the resource or thread, how to use the ``updateWorkingMemory`` tool), as Mastra does;
    - with observational memory on: the history is every *unobserved* message (no last-N
      window unless ``last_messages`` is given), the observations come as system blocks after
      working memory, and a continuation hint leads the messages. When the unobserved messages
      reach the threshold the Observer runs first (or, in background mode, is scheduled), and the
      Reflector when the observations grow too long. A failing model never fails the call: the
      raw history stays and ``observations.error`` says why.

    ``top_k`` overrides the config's number of hits for this call.

    If the embedder fails, recall continues on keywords alone (hybrid) and says so in
    ``diagnostics.recall_error``. An empty query means no recall, not an error.

    Raises:
        InvalidInputError: an empty id or a negative count.
        OwnershipError: the thread belongs to another resource.
        ExtensionMissingError: semantic recall is on but pgvector is missing.
    """
    thread_id = check_id(thread_id, "thread_id")
    resource_id = check_id(resource_id, "resource_id")
    n = s.config.last_messages if last_messages is None else last_messages
    if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 0):
        raise InvalidInputError(f"last_messages must be an integer >= 0, got {n!r}")
    if n is not None:
        check_count(n, "last_messages")
    settings = s.config.recall
    if top_k is not None:  # a per-call size, e.g. a retriever's k
        if isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1:
            raise InvalidInputError(f"top_k must be an integer >= 1, got {top_k!r}")
        check_count(top_k, "top_k")
        if settings is not None:
            settings = replace(settings, top_k=top_k)
    table, vector, keywords, recall_error = None, None, None, None
    if settings is not None and query is not None and query.strip():
        table = yield from vector_table(s)
        keywords = keyword_query(query) if settings.hybrid else None
        try:
            vector = vector_literal((yield from embed(s.embedder, [query], query=True)))
        except ProviderError as exc:
            if keywords is None:
                raise
            recall_error = f"embedder failed, recalled by keywords only: {exc}"
    before, after = settings.window if settings else (0, 0)
    om = s.config.observational_memory
    limit: int | None = n or 0
    if om is not None and last_messages is None:
        limit = None  # under observational memory the history is the unobserved tail, as in Mastra
    q = ContextQuery(
        thread_id=thread_id, resource_id=resource_id, last_messages=limit, vector=vector, keywords=keywords,
        top_k=settings.top_k if settings else 0, before=before, after=after,
        scope=settings.scope if settings else "resource", threshold=settings.threshold if settings else None,
        candidates=max(4 * (settings.top_k if settings else 0), 20),
        vector_weight=settings.vector_weight if settings else 1.0,
        om_key=om.lookup_key(thread_id, resource_id) if om is not None else None,
    )
    result = yield from run_query(*context_statement(s.tables, q, table))
    observations = None
    if om is not None:
        result, observations = yield from _observe_step(s, om, result, thread_id, resource_id)
    ctx = _assemble(result, thread_id, recall_error, s.config.working_memory)
    if observations is None:
        return ctx
    wm = s.config.working_memory
    return _with_observations(ctx, observations, thread_id, resource_id, wm is not None and wm.enabled)


def _observe_step(
    s: Store, om: ObservationalMemory, result: list[dict[str, Any]], thread_id: str, resource_id: str
) -> Plan[tuple[list[dict[str, Any]], Observations]]:
    """Observe (and reflect) now when a threshold is reached, unless in background mode, where the
    shell schedules it. A failing model leaves the raw history in place and says why."""
    state = om_ops.read_state(result)
    record = state.record
    pending = om_ops.pending_tokens(state)
    threshold = om.threshold(record.observation_tokens if record else 0)
    observed = reflected = due = False
    error = None
    if om_ops.has_unobserved(state) and pending >= threshold:
        if om.background or om.read_only:  # read-only: report it, write nothing
            due = True
        else:
            try:
                yield from om_ops.observe_due(s, om, thread_id, resource_id, state)
            except (ProviderError, ConflictError) as exc:
                error = f"observation failed, the raw history was kept: {exc}"
            if state.observed:  # also what earlier batches stored before one failed
                observed, record, pending = True, state.record, om_ops.pending_tokens(state)
                dropped = om_ops.ids_of(state.observed)
                result = [r for r in result if not (r["src"] == "h" and r["id"] in dropped)]
    if error is None and record is not None and record.observation_tokens > om.reflection_tokens:
        if om.background or om.read_only:
            due = True
        else:
            try:
                record = yield from om_ops.reflect_cycle(s, om, record)
                reflected = True
            except (ProviderError, ConflictError) as exc:
                error = f"reflection failed, the observations were kept: {exc}"
    # The record's pendingMessageTokens is reset by each observation but not rewritten per turn:
    # that would be a third round trip per agent turn (DESIGN §3), and only Mastra's async
    # buffering (which we do not implement) reads it; ctx.observations.pending_tokens has the count.
    return result, Observations(
        record, state.text("currentTask"), state.text("suggestedResponse"), pending, threshold,
        observed, reflected, due, error, thread_id, resource_id, om_inject.other_conversations(state.others),
    )


def _with_observations(
    ctx: MemoryContext, obs: Observations, thread_id: str, resource_id: str, wm_first: bool
) -> MemoryContext:
    """Observation blocks after working memory (before other-thread recall), and Mastra's
    continuation hint first among the messages when anything has been observed."""
    blocks = om_inject.observation_blocks(obs, datetime.now(timezone.utc))
    if not blocks:
        return replace(ctx, observations=obs)
    wm_blocks = 1 if wm_first else 0  # _assemble puts the working-memory instruction first
    system = [*ctx.system[:wm_blocks], *blocks, *ctx.system[wm_blocks:]]
    observed = obs.record is not None and bool(om_inject.chunks(obs.record.observations))
    hints = [om_inject.continuation(thread_id, resource_id)] if observed else []
    tokens = dict(ctx.diagnostics.tokens)
    tokens["observations"] = sum(count_tokens(b) for b in blocks) + sum(count_tokens(h.text) for h in hints)
    tokens["total"] = tokens.get("total", 0) + tokens["observations"]
    sources = {**ctx.diagnostics.sources, **{h.id or "": "observations" for h in hints}}
    diagnostics = replace(ctx.diagnostics, tokens=tokens, sources=sources)
    return replace(ctx, system=system, messages=[*hints, *ctx.messages], diagnostics=diagnostics, observations=obs)


def _assemble(
    result: list[dict[str, Any]], thread_id: str, recall_error: str | None, wm_config: WorkingMemory | None = None
) -> MemoryContext:
    history: dict[str, Message] = {}
    recalled: dict[str, Message] = {}
    hits: dict[str, tuple[int, float]] = {}
    windows: dict[str, list[str]] = {}
    resource_wm, thread_meta = None, None
    for r in result:
        src = r["src"]
        if src == "h":
            history[r["id"]] = rows.message(r)
        elif src == "r":
            if r["id"] not in history:
                recalled.setdefault(r["id"], rows.message(r))
            hits.setdefault(r["hit_id"], (int(r["rank"]), float(r["score"])))
            windows.setdefault(r["hit_id"], []).append(r["id"])
        elif src == "m":
            resource_wm = r["extra"]
        elif src == "t":
            thread_meta = rows.json_object(r["extra"])
    by_id = {**recalled, **history}
    order = sorted(by_id.values(), key=lambda m: (m.created_at, m.id or ""))
    same = [m for m in order if m.thread_id == thread_id]
    other = [m for m in order if m.thread_id != thread_id]
    system: list[str] = []
    wm = _working_memory(wm_config, resource_wm, thread_meta)
    if wm_config is not None and wm_config.enabled:
        system.append(working_memory_instruction(wm_config, wm))
    if other:
        system.append(render_remembered(other))
    sources = {mid: "history" for mid in history}
    for mid in recalled:
        sources[mid] = "recall" if mid in hits else "neighbour"
    hit_list = [
        RecallHit(
            message=by_id[hid], rank=rank, score=score,
            window=sorted((by_id[w] for w in dict.fromkeys(windows[hid]) if w in by_id),
                          key=lambda m: (m.created_at, m.id or "")),
            same_thread=by_id[hid].thread_id == thread_id,
        )
        for hid, (rank, score) in sorted(hits.items(), key=lambda item: item[1][0])
        if hid in by_id
    ]
    tokens = {
        "history": sum(cached_tokens(m.text) for m in history.values()),  # texts repeat turn after turn
        "recall": sum(count_tokens(m.text) for m in same if m.id not in history),
        "system": sum(count_tokens(block) for block in system),
    }
    tokens["total"] = sum(tokens.values())
    return MemoryContext(system, same, hit_list, wm, ContextDiagnostics(sources, tokens, recall_error))
