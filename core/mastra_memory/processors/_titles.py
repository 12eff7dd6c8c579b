"""``BackgroundTitles``: title new threads after a turn without making the agent wait.

Mastra generates the title in the agent's finish hook, after the response. Our adapters save the
turn and then hand the thread to this helper, which runs ``generate_title`` on a daemon thread
(``Memory``) or an asyncio task (``AsyncMemory``). Every failure ends here, logged on
``mastra_memory.titles``: a title is a nicety and must never fail or slow a conversation.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import TYPE_CHECKING

from .._ops.titles import is_default_title
from .._types import Thread
from ..models import AsyncChatModel, ChatModel

if TYPE_CHECKING:
    from .._memory import AsyncMemory, Memory

__all__ = ["BackgroundTitles"]

log = logging.getLogger("mastra_memory.titles")

_REMEMBERED = 100_000  # titled thread ids kept to skip a lookup per turn; forgotten all at once past this


class BackgroundTitles:
    """Runs title generation for a memory in the background, once per thread that needs it.

    Built from the memory's ``MemoryConfig.generate_title`` (off when None or disabled). The model
    is the configured one, else the ``model`` given to :meth:`start` (the agent's own, as in
    Mastra); with neither, it says once in the log that titles are off and why.

    Threads already known to be titled are skipped without a database lookup; a thread whose title
    is still the default is looked at again on the next turn. Call :meth:`join` (or
    :meth:`ajoin`) before a short script exits: daemon threads die with the interpreter.

    The constructor does no I/O.
    """

    def __init__(self, memory: Memory | AsyncMemory) -> None:
        self.memory = memory
        self._titled: set[str] = set()
        self._running: set[str] = set()
        self._threads: list[threading.Thread] = []
        self._tasks: set[asyncio.Task[Thread | None]] = set()
        self._lock = threading.Lock()
        self._warned = False

    @property
    def enabled(self) -> bool:
        """Whether the memory's config asks for titles."""
        return self.memory.config.title_generation is not None

    def _claim(self, thread_id: str, model: ChatModel | AsyncChatModel | None) -> ChatModel | AsyncChatModel | None:
        """The model to use when this thread should be titled now, else None."""
        settings = self.memory.config.title_generation
        if settings is None:
            return None
        chosen = settings.model or model
        if chosen is None:
            if not self._warned:
                self._warned = True
                log.warning("title generation is on but no chat model is configured or given; titles are off")
            return None
        with self._lock:
            if thread_id in self._titled or thread_id in self._running:
                return None
            self._running.add(thread_id)
        return chosen

    def _finished(self, thread_id: str, thread: Thread | None) -> None:
        with self._lock:
            self._running.discard(thread_id)
            if thread is not None and not is_default_title(thread.title):
                if len(self._titled) >= _REMEMBERED:
                    self._titled.clear()
                self._titled.add(thread_id)

    def start(
        self, thread_id: str, *, resource_id: str | None = None, model: ChatModel | AsyncChatModel | None = None
    ) -> threading.Thread | None:
        """Title ``thread_id`` on a daemon thread if it needs it (blocking ``Memory`` only).

        Returns the thread (to ``join`` in tests), or None when nothing was started: titles off,
        no model, the thread already titled or already being titled. Errors of the job itself are
        logged, never raised.

        Raises:
            TypeError: the memory is an ``AsyncMemory`` (use :meth:`astart`).
        """
        from .._memory import Memory

        if not isinstance(self.memory, Memory):
            raise TypeError("BackgroundTitles.start needs a Memory; with an AsyncMemory use astart()")
        chosen = self._claim(thread_id, model)
        if chosen is None:
            return None
        worker = threading.Thread(
            target=self._run, args=(self.memory, thread_id, resource_id, chosen), daemon=True,
            name=f"mastra-memory-title-{thread_id}",
        )
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()]
            self._threads.append(worker)
        worker.start()
        return worker

    def _run(
        self, memory: Memory, thread_id: str, resource_id: str | None, model: ChatModel | AsyncChatModel
    ) -> None:
        thread = None
        try:
            thread = memory.generate_title(thread_id, model, resource_id=resource_id)
        except Exception as exc:  # the agent already has its answer; report and move on
            log.warning("title generation for thread %r failed: %s", thread_id, exc)
        finally:
            self._finished(thread_id, thread)

    def astart(
        self, thread_id: str, *, resource_id: str | None = None, model: ChatModel | AsyncChatModel | None = None
    ) -> asyncio.Task[Thread | None] | None:
        """Title ``thread_id`` in an asyncio task if it needs it (``AsyncMemory`` only; call it
        from a running event loop). Returns the task, or None when nothing was started. Errors of
        the job itself are logged, never raised.

        Raises:
            TypeError: the memory is a ``Memory`` (use :meth:`start`).
            RuntimeError: no event loop is running.
        """
        from .._memory import AsyncMemory

        if not isinstance(self.memory, AsyncMemory):
            raise TypeError("BackgroundTitles.astart needs an AsyncMemory; with a Memory use start()")
        chosen = self._claim(thread_id, model)
        if chosen is None:
            return None
        try:
            task = asyncio.get_running_loop().create_task(
                self._arun(self.memory, thread_id, resource_id, chosen), name=f"mastra-memory-title-{thread_id}"
            )
        except RuntimeError:
            self._finished(thread_id, None)
            raise
        self._tasks.add(task)  # the loop holds tasks weakly
        task.add_done_callback(self._tasks.discard)
        return task

    async def _arun(
        self, memory: AsyncMemory, thread_id: str, resource_id: str | None, model: ChatModel | AsyncChatModel
    ) -> Thread | None:
        thread = None
        try:
            thread = await memory.generate_title(thread_id, model, resource_id=resource_id)
        except Exception as exc:  # the agent already has its answer; report and move on
            log.warning("title generation for thread %r failed: %s", thread_id, exc)
        finally:
            self._finished(thread_id, thread)
        return thread

    def join(self, timeout: float | None = None) -> None:
        """Wait for the titles being generated on threads (each up to ``timeout`` seconds)."""
        with self._lock:
            pending = list(self._threads)
        for worker in pending:
            worker.join(timeout)

    async def ajoin(self) -> None:
        """Wait for the titles being generated in tasks."""
        if self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
