"""Background observation: ``context()`` answers at once and the Observer runs beside the agent.

With ``ObservationalMemory(background=True)``, a ``context()`` call that finds a threshold reached
returns the raw history (nothing is dropped yet) and schedules ``observe()`` for that memory: an
asyncio task on ``AsyncMemory``, a daemon thread on ``Memory``. At most one runs per lookup key
and shell. A failure is logged and forgotten: nothing was written, so the next ``context()`` simply
schedules another attempt. ``wait_for_observations()`` waits for the ones in flight (tests,
shutdown).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import threading
from typing import Any

from .._errors import MastraMemoryError
from . import _ops

log = logging.getLogger("mastra_memory.observational")


def _inflight(runner: Any) -> dict[str, Any]:
    found: dict[str, Any] | None = runner.__dict__.get("_om_inflight")
    if found is None:
        found = runner.__dict__.setdefault("_om_inflight", {})
    return found


def _report(key: str, exc: BaseException) -> None:
    if isinstance(exc, MastraMemoryError):
        log.warning("background observation of %s failed; the raw history stays in context: %s", key, exc)
    else:
        log.error("background observation of %s crashed", key, exc_info=exc)


def schedule(runner: Any, result: Any) -> None:
    """After ``context()``: start a background observation when one is due and none is running."""
    obs = getattr(result, "observations", None)
    if obs is None or not obs.due:
        return
    store = runner._store
    cfg = store.config.observational_memory
    if cfg is None or cfg.read_only:  # read-only memory never writes observations
        return
    key = cfg.lookup_key(obs.thread_id, obs.resource_id)
    inflight = _inflight(runner)
    if key in inflight and not _finished(inflight[key]):
        return
    if inspect.iscoroutinefunction(runner._run):

        async def run() -> None:
            try:
                await runner._run(_ops.observe(store, obs.thread_id, obs.resource_id))
            except Exception as exc:  # background work must not crash the loop; see _report
                _report(key, exc)

        task = asyncio.get_running_loop().create_task(run(), name=f"mastra-memory observe {key}")
        inflight[key] = task
        task.add_done_callback(lambda done: _forget(inflight, key, done))
    else:

        def work() -> None:
            try:
                runner._run(_ops.observe(store, obs.thread_id, obs.resource_id))
            except Exception as exc:  # a daemon thread has nobody to raise to
                _report(key, exc)
            finally:
                _forget(inflight, key, threading.current_thread())

        thread = threading.Thread(target=work, name=f"mastra-memory observe {key}", daemon=True)
        inflight[key] = thread
        thread.start()


def _forget(inflight: dict[str, Any], key: str, job: Any) -> None:
    """Drop a finished job, so a long-lived memory does not keep one entry per thread ever observed."""
    if inflight.get(key) is job:
        del inflight[key]


def _finished(job: Any) -> bool:
    return bool(job.done()) if isinstance(job, asyncio.Task) else not job.is_alive()


class ObservationWaiter:
    """``memory.wait_for_observations(timeout=None)``: blocks on ``Memory``, awaitable on ``AsyncMemory``.

    Returns how many were still running when called (finished ones are already forgotten).
    """

    def __get__(self, obj: Any, owner: type) -> Any:
        if obj is None:
            return self
        inflight = _inflight(obj)
        if inspect.iscoroutinefunction(obj._run):

            async def await_all(timeout: float | None = None) -> int:
                """Wait until the background observations scheduled so far have finished."""
                jobs = [j for j in list(inflight.values()) if isinstance(j, asyncio.Task)]
                if jobs:
                    await asyncio.wait(jobs, timeout=timeout)
                return len(jobs)

            return await_all

        def wait_all(timeout: float | None = None) -> int:
            """Wait until the background observations scheduled so far have finished."""
            jobs = [j for j in list(inflight.values()) if isinstance(j, threading.Thread)]
            for job in jobs:
                job.join(timeout)
            return len(jobs)

        return wait_all
