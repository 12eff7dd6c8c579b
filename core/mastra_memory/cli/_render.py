"""How a :class:`~mastra_memory.MemoryContext` is shown: on screen (rich) and as JSON.

Shared by ``recall`` and ``demo``, which both answer one question: what exactly would the agent
receive before its next model call, and where did each piece come from?
"""

from __future__ import annotations

from typing import Any

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from ..recall import MemoryContext
from ._common import clip, safe, short
from ._records import message_record


def context_record(ctx: MemoryContext) -> dict[str, Any]:
    """Everything in the context, plus where each message came from and the token counts."""
    return {
        "working_memory": ctx.working_memory,
        "system": ctx.system,
        "messages": [message_record(m) for m in ctx.messages],
        "hits": [
            {
                "rank": hit.rank,
                "score": hit.score,
                "same_thread": hit.same_thread,
                "message": message_record(hit.message),
                "window": [m.id for m in hit.window],
            }
            for hit in ctx.hits
        ],
        "sources": ctx.diagnostics.sources,
        "tokens": ctx.diagnostics.tokens,
        "recall_error": ctx.diagnostics.recall_error,
    }


def hits_table(ctx: MemoryContext, titles: dict[str, str]) -> Table:
    """One row per hit: its rank (hybrid fusion), cosine score, source thread and day, and text."""
    table = Table("#", "score", "from", "message", title="recalled (ranked by vector + keyword fusion)",
                  title_justify="left", expand=True)
    table.columns[2].no_wrap = True
    table.columns[3].ratio = 1
    for hit in ctx.hits:
        m = hit.message
        where = "this thread" if hit.same_thread else titles.get(m.thread_id or "", m.thread_id or "")
        day = f"{m.created_at.day} {m.created_at:%b %Y}" if m.created_at else ""
        table.add_row(str(hit.rank), f"{hit.score:.2f}", safe(f"{where}, {day}"), f"{m.role}: {clip(m.text, 160)}")
    return table


def tokens_line(ctx: MemoryContext) -> Text:
    t = ctx.diagnostics.tokens
    line = Text(
        f"tokens: {t.get('total', 0)} in all = system {t.get('system', 0)} (working memory + recalled from other "
        f"threads) + history {t.get('history', 0)} + same-thread recall {t.get('recall', 0)}",
        style="dim",
    )
    if ctx.diagnostics.recall_error:
        line.append(f"\nrecall ran degraded: {ctx.diagnostics.recall_error}", style="yellow")
    return line


def show_context(console: Console, ctx: MemoryContext, titles: dict[str, str], *, history: bool = True) -> None:
    """Working memory, recall hits with their source, this thread's history, and the token bill."""
    parts: list[Any] = []
    if ctx.working_memory:
        parts.append(Panel(ctx.working_memory.strip(), title="working memory", title_align="left", expand=False))
    if ctx.hits:
        parts.append(hits_table(ctx, titles))
    else:
        parts.append(Text("no recalled messages", style="dim"))
    if history and ctx.messages:
        table = Table("date", "role", "message", title="this thread's history", title_justify="left")
        for m in ctx.messages:
            source = ctx.diagnostics.sources.get(m.id or "", "history")
            table.add_row(short(m.created_at), m.role, clip(m.text) + ("" if source == "history" else f" \\[{source}]"))
        parts.append(table)
    parts.append(tokens_line(ctx))
    console.print(Group(*parts))
