"""Processors for the assembled context, and background title generation.

- :func:`limit_tokens` — keep the newest messages within a token budget (Mastra's TokenLimiter).
- :func:`filter_tool_calls` — drop tool calls and results, all or by tool (Mastra's ToolCallFilter).
- :func:`message_tokens` — what one message costs in a prompt.
- :class:`BackgroundTitles` — run ``generate_title`` after a turn without blocking the agent.
- :func:`clean_title` / :func:`is_default_title` — the rules ``generate_title`` applies.

The two processors are pure functions over a list of :class:`~mastra_memory.Message` or a whole
:class:`~mastra_memory.MemoryContext`, so they fit any framework::

    ctx = limit_tokens(filter_tool_calls(memory.context(thread_id, resource_id)), 4000)
"""

from .._ops.titles import DEFAULT_TITLE_INSTRUCTIONS, MAX_TITLE_CHARS, clean_title, is_default_title
from ._limit import MESSAGE_OVERHEAD, limit_tokens, message_tokens
from ._titles import BackgroundTitles
from ._tools import filter_tool_calls

__all__ = [
    "DEFAULT_TITLE_INSTRUCTIONS",
    "MAX_TITLE_CHARS",
    "MESSAGE_OVERHEAD",
    "BackgroundTitles",
    "clean_title",
    "filter_tool_calls",
    "is_default_title",
    "limit_tokens",
    "message_tokens",
]
