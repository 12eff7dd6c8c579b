"""What a framework adapter needs beyond the public methods of ``Memory`` / ``AsyncMemory``.

Message conversion: :class:`TurnBuilder` folds a framework's assistant steps, tool calls and tool
results into one Mastra row and :func:`unfold_turn` splits it back; :func:`keep_meta` /
:func:`kept_meta` carry a framework's extra fields through a round trip. Chat-model wrappers share
:func:`check_call_limits` and :func:`within` (timeouts).

The shells' methods are one operation each. An adapter sometimes needs a few of them as *one*
atomic step — "remove the 3rd message of this thread", "replace the thread's history", "fold a
tool result into the assistant row that holds its call" — where another writer must not slip in
between the read and the write. It writes such a step once, as a plan (a generator, see
:mod:`mastra_memory._plan`), from the pieces below, and runs it with :func:`run_sync` on a
``Memory`` or :func:`run_async` on an ``AsyncMemory``; so the step has one source for both.

A plan here yields :class:`Begin` to open a transaction, calls the piece functions with
``yield from``, and yields :class:`Commit`. Every piece takes the :class:`Store` of the memory
it runs on (:func:`store_of`), an opaque handle to its tables, configuration and embedder::

    def drop_newest(s: Store, thread_id: str, resource_id: str) -> Plan[int]:
        yield Begin()
        yield from lock_thread(s, thread_id)
        newest = yield from last_messages(s, thread_id, resource_id, 1)
        deleted = yield from delete_messages(s, [m.id for m in newest if m.id])
        yield Commit()
        return deleted

    run_sync(memory, drop_newest(store_of(memory), "t1", "user-1"))

These are the same plans the shells run, so their validation, errors and SQL are the core's. The
LlamaIndex adapter (``llama_index_mastra_memory``) is built on this module.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, TypeVar

from ._config import SemanticRecall
from ._errors import InvalidInputError
from ._ops.messages import delete_messages, list_messages, save_messages
from ._ops.messages import recall as _recall
from ._plan import Begin, Commit, Plan, query
from ._store import Store
from ._turns import Step, TurnBuilder, keep_meta, kept_meta, unfold_turn
from ._types import Message
from ._validate import check_id
from .models._calls import check_call_limits, within
from .recall._context import context, render_remembered
from .storage import _threads as sql_threads

if TYPE_CHECKING:
    from ._memory import AsyncMemory, Memory

__all__ = [
    "Begin",
    "Commit",
    "Plan",
    "Step",
    "Store",
    "TurnBuilder",
    "check_call_limits",
    "context",
    "delete_messages",
    "keep_meta",
    "kept_meta",
    "last_messages",
    "lock_thread",
    "render_remembered",
    "run_async",
    "run_sync",
    "save_messages",
    "store_of",
    "thread_messages",
    "unfold_turn",
    "with_recall",
    "within",
]

T = TypeVar("T")


def store_of(memory: Memory | AsyncMemory) -> Store:
    """The handle every piece takes: where ``memory``'s tables are, its config and embedder."""
    return memory._store


def run_sync(memory: Memory, plan: Plan[T]) -> T:
    """Run ``plan`` on ``memory``'s pool, blocking; a transaction it opened is rolled back if it fails."""
    return memory._run(plan)


async def run_async(memory: AsyncMemory, plan: Plan[T]) -> T:
    """Run ``plan`` on ``memory``'s asyncio pool (the twin of :func:`run_sync`)."""
    return await memory._run(plan)


def with_recall(s: Store, recall: SemanticRecall) -> Store:
    """The same store with other semantic-recall settings, for one caller (e.g. a memory block with
    its own ``top_k``/``scope``/``message_range``); the memory itself is not changed.

    Raises:
        InvalidInputError: the memory has no embedder (it was built with semantic recall off).
    """
    if not isinstance(recall, SemanticRecall):
        raise InvalidInputError(f"recall must be a SemanticRecall, got {type(recall).__name__}")
    if s.embedder is None:
        raise InvalidInputError(
            "this memory has no embedder, so it cannot recall; build it with "
            "MemoryConfig(semantic_recall=...) or pass embedder="
        )
    return replace(s, config=replace(s.config, semantic_recall=recall))


def lock_thread(s: Store, thread_id: str) -> Plan[bool]:
    """Lock the thread's row until the transaction ends; False when the thread does not exist.

    Every message write of the core bumps that row, so a writer of the same thread waits for the
    lock holder: read → decide → write under it is atomic. Call it after :class:`Begin`.
    """
    found = yield from query(*sql_threads.lock_thread(s.tables, check_id(thread_id, "thread_id")))
    return bool(found)


def thread_messages(s: Store, thread_id: str, resource_id: str | None = None) -> Plan[list[Message]]:
    """Every message of the thread, oldest first (none for a thread that does not exist).

    Raises:
        OwnershipError: the thread belongs to another resource than ``resource_id``.
    """
    page = yield from list_messages(s, thread_id, resource_id=resource_id, per_page=None)
    return page.messages


def last_messages(s: Store, thread_id: str, resource_id: str | None, n: int) -> Plan[list[Message]]:
    """The thread's newest ``n`` messages, oldest first (``n`` = 0 gives none).

    Raises:
        InvalidInputError: a negative ``n``.
        OwnershipError: the thread belongs to another resource than ``resource_id``.
    """
    if n == 0:
        return []
    page = yield from _recall(s, thread_id, resource_id=resource_id, last_messages=n)
    return page.messages
