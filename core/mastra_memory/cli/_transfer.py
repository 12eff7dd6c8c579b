"""Moving memory in and out: export / import as JSON Lines, and embedding backfill.

Export format (one JSON object per line): a header line, one line per resource that has a
row (working memory and metadata), then one line per thread carrying the thread and all its
messages with their full format-2 content. Import re-creates the same ids, times, content and
metadata, so exporting what was imported gives the same lines.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Annotated, Any

import orjson
import typer

from .._config import MemoryConfig, SemanticRecall
from .._errors import InvalidInputError, NotFoundError
from .._types import Message, Thread
from . import _common as c
from ._app import app
from ._browse import _embedder
from ._records import message_record, resource_of, resource_record, thread_of, thread_record

HEADER = {"format": "mastra-memory/export", "version": 1}


def _line(value: Any) -> bytes:
    return orjson.dumps(value, default=c.jsonable) + b"\n"


@contextmanager
def _output(path: str) -> Iterator[IO[bytes]]:
    if path == "-":
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    try:
        with open(path, "wb") as handle:
            yield handle
    except OSError as exc:
        raise InvalidInputError(f"cannot write {path}: {exc.strerror or exc}") from exc


@app.command("export")
def export_command(
    output: Annotated[str, typer.Option("--output", "-o", help="File to write ('-': stdout).")] = "-",
    resource: Annotated[
        list[str] | None, typer.Option("--resource", "-r", help="Only this resource (repeatable).")
    ] = None,
    thread: Annotated[list[str] | None, typer.Option("--thread", "-t", help="Only this thread (repeatable).")] = None,
) -> None:
    """Write threads, their messages and their resources' working memory as JSON Lines."""
    with c.open_memory() as memory:
        threads: list[Thread] = []
        if thread:
            for thread_id in thread:
                found = memory.get_thread(thread_id)
                if found is None:
                    raise NotFoundError(f"thread {thread_id!r} does not exist in schema {c.settings.schema_or()!r}")
                threads.append(found)
        for resource_id in resource or ([] if thread else [None]):  # type: ignore[list-item]
            page = memory.list_threads(resource_id=resource_id, per_page=None, direction="ASC")
            threads += [t for t in page.threads if t not in threads]
        owners = list(dict.fromkeys(t.resource_id for t in threads))
        counts = {"threads": 0, "messages": 0, "resources": 0}
        with _output(output) as sink, c.progress() as bar:
            sink.write(_line(HEADER))
            for owner in owners:
                row = memory.get_resource(owner)
                if row is not None:
                    sink.write(_line({"resource": resource_record(row)}))
                    counts["resources"] += 1
            task = bar.add_task("exporting threads", total=len(threads))
            for t in threads:
                messages = memory.list_messages(t.id, per_page=None).messages
                sink.write(_line({"thread": thread_record(t), "messages": [message_record(m) for m in messages]}))
                counts["threads"] += 1
                counts["messages"] += len(messages)
                bar.advance(task)
    summary = (f"exported {counts['threads']} thread(s), {counts['messages']} message(s), "
               f"{counts['resources']} resource(s)")
    if output != "-":
        if c.settings.json:
            c.print_json({"output": output, **counts})
        else:
            c.out.print(f"{summary} to {output}")
    else:
        c.err.print(summary, style="dim")


ResourceLine = tuple[str, str | None, dict[str, Any] | None]


def read_export(lines: list[bytes]) -> tuple[list[ResourceLine], list[tuple[Thread, list[Message]]]]:
    """Parse and check a whole export before anything is written, so bad input writes nothing."""
    resources: list[ResourceLine] = []
    threads: list[tuple[Thread, list[Message]]] = []
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        where = f"line {number}"
        try:
            record = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise InvalidInputError(f"{where} is not JSON: {exc}") from exc
        if not isinstance(record, dict):
            raise InvalidInputError(f"{where} is not a JSON object")
        if "format" in record:
            if record.get("format") != HEADER["format"] or record.get("version") != HEADER["version"]:
                raise InvalidInputError(f"{where}: not a mastra-memory export of version 1: {record}")
        elif "resource" in record:
            resources.append(resource_of(record, where))
        elif "thread" in record:
            threads.append(thread_of(record, where))
        else:
            raise InvalidInputError(f"{where}: expected a 'resource' or 'thread' record")
    return resources, threads


@app.command("import")
def import_command(
    source: Annotated[str, typer.Argument(help="An export file ('-': stdin).")],
    embed: Annotated[
        bool, typer.Option("--embed", help="Embed messages for semantic recall while importing.")
    ] = False,
    embedder: Annotated[str, typer.Option(help="With --embed: 'local' (offline) or 'openai'.")] = "local",
) -> None:
    """Load an export: same ids, times, content and metadata. Existing rows with those ids are
    overwritten; the whole file is checked before anything is written."""
    try:
        data = sys.stdin.buffer.read() if source == "-" else Path(source).read_bytes()
    except OSError as exc:
        raise InvalidInputError(f"cannot read {source}: {exc.strerror or exc}") from exc
    resources, threads = read_export(data.splitlines())
    config = MemoryConfig(semantic_recall=SemanticRecall()) if embed else None
    total = sum(len(messages) for _, messages in threads)
    with c.open_memory(config, migrate=True, embedder=_embedder(embedder, None) if embed else None) as memory, \
            c.progress() as bar:
        for resource_id, working_memory, metadata in resources:
            memory.update_resource(resource_id, working_memory=working_memory, metadata=metadata)
        task = bar.add_task("importing messages", total=total)
        for t, messages in threads:
            memory.save_thread(t.id, t.resource_id, title=t.title, metadata=t.metadata, created_at=t.created_at,
                               updated_at=t.updated_at)
            for start in range(0, len(messages), 200):
                memory.save_messages(messages[start:start + 200])
                bar.advance(task, len(messages[start:start + 200]))
            # Saving messages bumps the thread's updatedAt; put the exported time back.
            memory.save_thread(t.id, t.resource_id, title=t.title, metadata=t.metadata, created_at=t.created_at,
                               updated_at=t.updated_at)
    counts = {"threads": len(threads), "messages": total, "resources": len(resources)}
    if c.settings.json:
        c.print_json({"source": source, **counts})
    else:
        c.out.print(f"imported {counts['threads']} thread(s), {counts['messages']} message(s), "
                    f"{counts['resources']} resource(s) into schema {c.settings.schema_or()!r}")


@app.command("backfill-embeddings")
def backfill_command(
    scan: Annotated[bool, typer.Option("--scan", help="Re-embed every stored message, not only the queue.")] = False,
    resource: Annotated[str | None, typer.Option("--resource", "-r", help="With --scan: only this resource.")] = None,
    batch_size: Annotated[int, typer.Option(min=1, help="Messages per embedder call.")] = 100,
    embedder: Annotated[str, typer.Option(help="'local' (offline, 256-d) or 'openai'.")] = "local",
) -> None:
    """Embed messages that have no vectors: those whose embedding failed at save time, or with
    --scan all history (e.g. written while semantic recall was off, or by Mastra)."""
    config = MemoryConfig(semantic_recall=SemanticRecall())
    with c.open_memory(config, embedder=_embedder(embedder, None)) as memory, c.status("embedding messages…"):
        done = memory.backfill_embeddings(batch_size=batch_size, scan=scan, resource_id=resource)
    if c.settings.json:
        c.print_json({"embedded": done, "scan": scan})
    else:
        c.out.print(f"embedded {done} message(s)")
