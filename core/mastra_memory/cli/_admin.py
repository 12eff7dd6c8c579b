"""Commands that manage the database: migrate, sql, doctor, sweep."""

from __future__ import annotations

import dataclasses
import importlib
import re
from datetime import datetime, timedelta, timezone
from typing import Annotated, Any

import typer
from rich.table import Table

from .._errors import InvalidInputError
from ..embedded import EmbeddedPostgres
from . import _common as c
from ._app import app
from ._sqltext import migration_script


def optional_module(name: str, what: str) -> Any:
    """Import a module that another part of the project (or an extra) provides, or say what is missing."""
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise c.FeatureMissingError(
            f"{what} needs the module {name}, which this installation lacks ({exc}); "
            "upgrade mastra-memory or install the extra it belongs to"
        ) from exc


def feature(module: Any, name: str, what: str) -> Any:
    found = getattr(module, name, None)
    if found is None:
        raise c.FeatureMissingError(f"{what} needs {module.__name__}.{name}, which this version lacks")
    return found


@app.command()
def migrate() -> None:
    """Create or upgrade the memory tables (idempotent; safe beside Mastra's own init())."""
    schema = c.settings.schema_or()
    with c.open_memory(migrate=False) as memory:
        applied = memory.migrate()
    if c.settings.json:
        c.print_json({"schema": schema, "embedded": c.settings.dsn is None, "applied": applied})
    elif applied:
        c.out.print(f"migrated schema {schema!r} of {c.where()}: applied version(s) {', '.join(map(str, applied))}")
    else:
        c.out.print(f"schema {schema!r} of {c.where()} is up to date")


@app.command("sql")
def sql_command(
    supabase: Annotated[
        bool, typer.Option("--supabase", help="Supabase's migration: RLS policies, grants, auth.uid() ownership.")
    ] = False,
    dim: Annotated[
        int | None, typer.Option("--dim", min=1, help="Also the vector table of this embedding dimension.")
    ] = None,
    membership: Annotated[
        bool, typer.Option("--membership", help="(--supabase) a membership table mapping resources to users.")
    ] = False,
) -> None:
    """Print the migration as SQL, to review or to apply with your own tooling.

    Plain: what `migrate` runs on an empty schema. With --supabase: a file for
    supabase/migrations/ (row-level security on every memory table)."""
    schema = c.settings.schema_or()
    if supabase:
        module = optional_module("mastra_memory.supabase", "sql --supabase")
        build = feature(module, "supabase_migration", "sql --supabase")
        options: dict[str, Any] = {"schema": schema, "membership": membership}
        if dim is not None:  # otherwise the Supabase migration's own default dimension
            options["dimension"] = dim
        text = str(build(**options))
    else:
        if membership:
            raise InvalidInputError("--membership only applies to the Supabase migration; add --supabase")
        text = migration_script(schema, dim)
    if c.settings.json:
        c.print_json({"schema": schema, "supabase": supabase, "sql": text})
    else:
        typer.echo(text, nl=not text.endswith("\n"))


@app.command()
def doctor() -> None:
    """Check a database (Supabase or plain PostgreSQL) for what mastra-memory needs."""
    module = optional_module("mastra_memory.supabase", "doctor")
    run = feature(module, "doctor", "doctor")
    dsn = c.settings.dsn if c.settings.dsn is not None else EmbeddedPostgres().start()
    checks = list(run(dsn, schema=c.settings.schema_or()))
    rows = [{"name": str(k.name), "ok": k.ok, "detail": str(k.detail or "")} for k in checks]
    failed = [r for r in rows if r["ok"] is False]
    if c.settings.json:
        c.print_json({"ok": not failed, "checks": rows})
    else:
        table = Table("", "check", "detail", title=f"doctor: schema {c.settings.schema_or()!r} of {c.where()}")
        for r in rows:
            mark = "[green]✓[/]" if r["ok"] else ("[red]✗[/]" if r["ok"] is False else "[dim]-[/]")
            table.add_row(mark, c.safe(r["name"]), c.safe(r["detail"]))
        c.out.print(table)
    if failed:
        names = ", ".join(r["name"] for r in failed)
        raise c.ChecksFailedError(f"{len(failed)} of {len(rows)} check(s) failed: {names}")


_DURATION = re.compile(r"(\d+)\s*([wdhms])")
_UNITS = {"w": "weeks", "d": "days", "h": "hours", "m": "minutes", "s": "seconds"}


def parse_duration(text: str) -> timedelta:
    """``30d``, ``12h``, ``2w``, ``1d12h``, ``90m`` → a timedelta."""
    compact = text.replace(" ", "").lower()
    if not compact or _DURATION.sub("", compact):
        raise InvalidInputError(f"--idle-for {text!r} is not a duration; write e.g. 30d, 12h, 2w or 1d12h")
    total = timedelta()
    for amount, unit in _DURATION.findall(compact):
        total += timedelta(**{_UNITS[unit]: int(amount)})
    return total


def parse_moment(text: str) -> datetime:
    """An ISO date or time; without an offset it is taken as UTC."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise InvalidInputError(f"--older-than {text!r} is not an ISO date or time (e.g. 2025-01-31)") from exc
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


@app.command()
def sweep(
    older_than: Annotated[
        str | None, typer.Option("--older-than", help="Delete threads created before this date (ISO, UTC).")
    ] = None,
    idle_for: Annotated[
        str | None, typer.Option("--idle-for", help="Delete threads not updated for this long (30d, 12h, 2w).")
    ] = None,
    resource: Annotated[str | None, typer.Option("--resource", help="Only threads of this resource.")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Count what would go; delete nothing.")] = False,
) -> None:
    """Delete old or idle threads with their messages and vectors (retention).

    Both conditions given: a thread must be old *and* idle."""
    if older_than is None and idle_for is None:
        raise InvalidInputError("sweep needs --older-than DATE and/or --idle-for DURATION; it never deletes everything")
    cutoff = None if older_than is None else parse_moment(older_than)
    idle = None if idle_for is None else parse_duration(idle_for)
    with c.open_memory() as memory:
        run = getattr(memory, "sweep_threads", None)
        if run is None:
            raise c.FeatureMissingError("sweep needs Memory.sweep_threads, which this version of mastra-memory lacks")
        with c.status("sweeping threads…"):
            result = run(older_than=cutoff, idle_for=idle, resource_id=resource, dry_run=dry_run)
    record: dict[str, Any] = (
        dataclasses.asdict(result)
        if dataclasses.is_dataclass(result) and not isinstance(result, type)
        else {"thread_ids": list(result.thread_ids)}
    )
    record.setdefault("dry_run", dry_run)
    if c.settings.json:
        c.print_json(record)
        return
    counts = ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in record.items() if isinstance(v, int) and k != "dry_run")
    verb = "would delete" if dry_run else "deleted"
    c.out.print(f"{verb} {len(record.get('thread_ids', []))} thread(s)" + (f" ({counts})" if counts else ""))
    for thread_id in record.get("thread_ids", [])[:20]:
        c.out.print(f"  {c.safe(thread_id)}")
    if len(record.get("thread_ids", [])) > 20:
        c.out.print(f"  … and {len(record['thread_ids']) - 20} more (see --json)")
