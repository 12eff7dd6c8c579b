"""Commands that read and write conversations: threads, recall, working memory."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any, Literal

import typer
from rich.panel import Panel
from rich.table import Table

from .._config import MemoryConfig, SemanticRecall
from .._errors import InvalidInputError, NotFoundError
from .._memory import Memory
from ..working_memory import WorkingMemory
from . import _common as c
from ._app import app, threads_app, working_memory_app
from ._records import message_record, resource_record, thread_record
from ._render import context_record, show_context

Scope = Literal["resource", "thread"]
ResourceOption = Annotated[str | None, typer.Option("--resource", "-r", help="The resource (user) id.")]


@threads_app.command("list")
def threads_list(
    resource: ResourceOption = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="At most this many threads.")] = 50,
    page: Annotated[int, typer.Option(min=0, help="Page number (0-based), of --limit threads each.")] = 0,
) -> None:
    """Threads, newest first (optionally of one resource)."""
    with c.open_memory() as memory:
        result = memory.list_threads(resource_id=resource, page=page, per_page=limit)
    if c.settings.json:
        c.print_json({
            "total": result.total, "page": result.page, "has_more": result.has_more,
            "threads": [thread_record(t) for t in result.threads],
        })
        return
    table = Table(title=f"{result.total} thread(s)", title_justify="left")
    table.add_column("id", no_wrap=True)
    table.add_column("resource", no_wrap=True)
    for name in ("title", "created", "updated"):
        table.add_column(name)
    for t in result.threads:
        table.add_row(
            c.safe(t.id), c.safe(t.resource_id), c.clip(t.title, 40), c.short(t.created_at), c.short(t.updated_at)
        )
    c.out.print(table)
    if result.has_more:
        c.out.print(f"[dim]more on --page {page + 1}[/]")


@threads_app.command("show")
def threads_show(
    thread_id: Annotated[str, typer.Argument(help="The thread id.")],
    limit: Annotated[int | None, typer.Option("--limit", "-n", min=1, help="Only the newest N messages.")] = None,
) -> None:
    """A thread and its messages, oldest first."""
    with c.open_memory() as memory:
        thread = memory.get_thread(thread_id)
        if thread is None:
            raise NotFoundError(f"thread {thread_id!r} does not exist in schema {c.settings.schema_or()!r}")
        if limit is None:
            messages = memory.list_messages(thread_id, per_page=None).messages
        else:
            messages = memory.recall(thread_id, last_messages=limit).messages
    if c.settings.json:
        c.print_json({"thread": thread_record(thread), "messages": [message_record(m) for m in messages]})
        return
    c.out.print(f"[bold]{c.safe(thread.title or '(untitled)')}[/]  id {c.safe(thread.id)}  "
                f"resource {c.safe(thread.resource_id)}  "
                f"created {c.short(thread.created_at)}  updated {c.short(thread.updated_at)}")
    table = Table("date", "role", "message", "parts")
    for m in messages:
        kinds = sorted({str(p.get("type")) for p in m.content.parts})
        table.add_row(c.short(m.created_at), m.role, c.clip(m.text, 100), ",".join(kinds))
    c.out.print(table)


def _embedder(name: str, model: str | None) -> Any:
    if name == "local":
        return None  # the default: the offline embedder shipped in the package
    if name == "openai":
        from ..embedding import OpenAIEmbedder

        return OpenAIEmbedder(model or "text-embedding-3-small")
    raise InvalidInputError(f"--embedder must be 'local' or 'openai', got {name!r}")


def _owner(memory: Memory, thread_id: str, resource: str | None) -> str:
    if resource is not None:
        return resource
    thread = memory.get_thread(thread_id)
    if thread is None:
        raise NotFoundError(f"thread {thread_id!r} does not exist; pass --resource to ask for a new thread")
    return thread.resource_id


@app.command()
def recall(
    thread_id: Annotated[str, typer.Argument(help="The thread the agent is in.")],
    query: Annotated[str, typer.Argument(help="The user's newest message (what to recall for).")],
    resource: ResourceOption = None,
    top_k: Annotated[int, typer.Option("--top-k", "-k", min=1, help="Recalled messages.")] = 4,
    message_range: Annotated[int, typer.Option("--range", min=0, help="Neighbours around each hit.")] = 1,
    last: Annotated[int, typer.Option("--last", min=0, help="Newest messages of the thread.")] = 10,
    scope: Annotated[str, typer.Option(help="Search the whole 'resource' or only this 'thread'.")] = "resource",
    vector_only: Annotated[bool, typer.Option("--vector-only", help="Vectors alone (Mastra's way).")] = False,
    working_memory: Annotated[
        bool, typer.Option("--working-memory/--no-working-memory", help="Include working memory.")
    ] = True,
    embedder: Annotated[str, typer.Option(help="'local' (offline, 256-d) or 'openai'.")] = "local",
    embedding_model: Annotated[str | None, typer.Option(help="The OpenAI embedding model.")] = None,
) -> None:
    """What an agent would receive before its next model call: working memory, recalled
    messages (with thread, date and score), history, and the token count."""
    if scope not in ("resource", "thread"):
        raise InvalidInputError(f"--scope must be 'resource' or 'thread', got {scope!r}")
    config = MemoryConfig(
        last_messages=last,
        semantic_recall=SemanticRecall(top_k=top_k, message_range=message_range, scope=scope,  # type: ignore[arg-type]
                                       hybrid=not vector_only),
        working_memory=WorkingMemory(enabled=True) if working_memory else None,
    )
    with c.open_memory(config, embedder=_embedder(embedder, embedding_model)) as memory:
        owner = _owner(memory, thread_id, resource)
        with c.status("assembling the context…"):
            ctx = memory.context(thread_id, owner, query=query)
        titles = {t.id: t.title or t.id for t in memory.list_threads(resource_id=owner, per_page=None).threads}
    if c.settings.json:
        c.print_json({"thread_id": thread_id, "resource_id": owner, "query": query, **context_record(ctx)})
        return
    show_context(c.out, ctx, titles)


def _wm_config(scope: str) -> MemoryConfig:
    if scope not in ("resource", "thread"):
        raise InvalidInputError(f"--scope must be 'resource' or 'thread', got {scope!r}")
    return MemoryConfig(working_memory=WorkingMemory(enabled=True, scope=scope))  # type: ignore[arg-type]


ScopeOption = Annotated[str, typer.Option(help="'resource' (one per user, Mastra's default) or 'thread'.")]


@working_memory_app.command("get")
def working_memory_get(
    thread_id: Annotated[str | None, typer.Argument(help="A thread of the resource (or give --resource).")] = None,
    resource: ResourceOption = None,
    scope: ScopeOption = "resource",
) -> None:
    """Print the working-memory document (empty output when none is stored)."""
    with c.open_memory(_wm_config(scope)) as memory:
        if thread_id is None:
            if resource is None or scope != "resource":
                raise InvalidInputError("give a THREAD_ID, or --resource for resource-scoped working memory")
            row = memory.get_resource(resource)
            text = None if row is None else row.working_memory
            record: dict[str, Any] = {"resource": None if row is None else resource_record(row)}
        else:
            text = memory.get_working_memory(thread_id, resource)
            record = {"thread_id": thread_id}
    if c.settings.json:
        c.print_json({**record, "resource_id": resource, "scope": scope, "working_memory": text})
    elif text:
        c.out.print(Panel(text.strip(), title="working memory", title_align="left", expand=False))
    else:
        c.err.print("no working memory stored")


@working_memory_app.command("set")
def working_memory_set(
    thread_id: Annotated[str | None, typer.Argument(help="A thread of the resource (or give --resource).")] = None,
    text: Annotated[str | None, typer.Option("--text", "-t", help="The whole new document.")] = None,
    file: Annotated[
        Path | None, typer.Option("--file", "-f", help="Read the document from a file ('-': stdin).")
    ] = None,
    resource: ResourceOption = None,
    scope: ScopeOption = "resource",
) -> None:
    """Replace the working-memory document, as the `updateWorkingMemory` tool would."""
    if (text is None) == (file is None):
        raise InvalidInputError("give the document with --text TEXT or --file PATH ('-' for stdin), not both")
    if file is not None:
        try:
            document = sys.stdin.read() if str(file) == "-" else file.read_text(encoding="utf-8")
        except OSError as exc:
            raise InvalidInputError(f"cannot read {file}: {exc.strerror or exc}") from exc
    else:
        document = str(text)
    with c.open_memory(_wm_config(scope)) as memory:
        if thread_id is None:
            if resource is None or scope != "resource":
                raise InvalidInputError("give a THREAD_ID, or --resource for resource-scoped working memory")
            row = memory.update_resource(resource, working_memory=document)
            saved, stored, message = True, row.working_memory, None
        else:
            update = memory.update_working_memory(thread_id, resource, working_memory=document)
            saved, stored, message = update.saved, update.working_memory, update.message
    if c.settings.json:
        c.print_json({"saved": saved, "working_memory": stored, "message": message})
    elif saved:
        c.out.print("working memory saved")
    if not saved:
        raise c.ChecksFailedError(f"working memory not saved: {message}")
