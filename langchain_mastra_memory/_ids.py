"""Where the thread and resource ids of an agent run come from."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from langgraph.config import get_config

from mastra_memory import InvalidInputError

__all__ = ["resolve_ids"]

_RESOURCE_KEYS = ("resource_id", "resourceId", "user_id")


def _configurable(config: Mapping[str, Any] | None) -> Mapping[str, Any]:
    if config is None:
        try:
            config = get_config()
        except RuntimeError:  # called outside a runnable
            return {}
    found = config.get("configurable") if config else None
    return found if isinstance(found, Mapping) else {}


def _from_context(context: Any) -> str | None:
    if context is None:
        return None
    for key in _RESOURCE_KEYS:
        value = context.get(key) if isinstance(context, Mapping) else getattr(context, key, None)
        if isinstance(value, str) and value:
            return value
    return None


def resolve_ids(
    *,
    execution_info: Any = None,
    context: Any = None,
    config: Mapping[str, Any] | None = None,
    default_thread_id: str | None = None,
    default_resource_id: str | None = None,
    require_thread: bool = True,
) -> tuple[str, str]:
    """``(thread_id, resource_id)`` of the current run.

    Thread: ``runtime.execution_info.thread_id``, else ``configurable["thread_id"]``, else the
    default (with ``require_thread=False``: a thread that never exists). Resource: the run
    context's ``resource_id`` (attribute or key; also ``user_id``),
    else ``configurable["resource_id"|"user_id"]``, else the default.

    Raises:
        InvalidInputError: either id cannot be found (it says where to put it).
    """
    configurable = _configurable(config)
    thread_id = getattr(execution_info, "thread_id", None) or configurable.get("thread_id") or default_thread_id
    resource_id = _from_context(context) or next(
        (configurable[k] for k in _RESOURCE_KEYS if isinstance(configurable.get(k), str) and configurable[k]), None
    ) or default_resource_id
    if (not isinstance(thread_id, str) or not thread_id) and isinstance(resource_id, str) and not require_thread:
        thread_id = f"mastra-memory-search:{resource_id}"  # a thread that never exists: search the resource
    if not isinstance(thread_id, str) or not thread_id:
        raise InvalidInputError(
            'no thread id for this run: invoke the agent with config={"configurable": {"thread_id": "..."}}'
        )
    if not isinstance(resource_id, str) or not resource_id:
        raise InvalidInputError(
            "no resource id for this run: pass context with a resource_id (create_agent(context_schema=...)), "
            'config={"configurable": {"resource_id": "..."}}, or MastraMemoryMiddleware(resource_id=...)'
        )
    return thread_id, resource_id
