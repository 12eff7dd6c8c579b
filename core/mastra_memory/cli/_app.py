"""The typer application and its global options; the commands register themselves on ``app``."""

from __future__ import annotations

from typing import Annotated

import typer

from ._common import Settings, reset

app = typer.Typer(
    name="mastra-memory",
    help="Mastra's agent memory on PostgreSQL: inspect, move and check it from the shell.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,  # main() prints errors as one line (tracebacks with --debug)
    rich_markup_mode="rich",
)
threads_app = typer.Typer(help="List and show conversation threads.", no_args_is_help=True)
working_memory_app = typer.Typer(help="Read and write working memory.", no_args_is_help=True)
app.add_typer(threads_app, name="threads")
app.add_typer(working_memory_app, name="working-memory")


@app.callback()
def global_options(
    dsn: Annotated[
        str | None,
        typer.Option(
            envvar="DATABASE_URL", show_envvar=True,
            help="PostgreSQL DSN; without one the embedded PostgreSQL is used (started on demand).",
        ),
    ] = None,
    schema: Annotated[
        str | None, typer.Option(help="Schema of the memory tables (default: public; the demo: mastra_memory_demo).")
    ] = None,
    json: Annotated[bool, typer.Option("--json", help="Print one JSON document for scripts.")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show the full traceback of an error.")] = False,
) -> None:
    """Global options may also follow the command: `mastra-memory threads list --json`."""
    reset(Settings(dsn=dsn or None, schema=schema, json=json, debug=debug))
